"""An independent oracle for atrest's key-policy judgement: policyuniverse
(PyPI, Netflix-Skunkworks), which no one here wrote, reads each policy of a
corpus and says whether it is internet accessible. atrest says whether a
statement reaches anyone ("*", a NotPrincipal, a web identity) without a
condition confining it to trusted accounts or organisations. Where the two
disagree, the difference must be one this file documents; anything else is
a bug in one of them, and the run fails.

Usage: policy_oracle.py CORPUS.json   (written by rules/tests/oracle.rs)
Each case: {"name", "policy", "account", "trustedAccounts",
            "trustedOrganizations", "atrestFlagsPublic"}.
"""

import json
import sys

from policyuniverse.policy import Policy
from policyuniverse.statement import Statement

# Why atrest flags a statement that policyuniverse takes as confined, by the
# kind of condition entry policyuniverse relied on. Each is IAM semantics
# (IAM User Guide, "Condition operators") or atrest's stricter question
# ("untrusted", not only "the internet"); each is tested in the fixtures of
# kms-key-policy-no-untrusted-access.
STRICTER = {
    "if-exists": "…IfExists holds when the key is absent, so it confines nothing",
    "for-all-values": "ForAllValues holds when the key is absent, so it confines nothing",
    "untrusted-organization": "an organization not in trustedOrganizationIds is not a trusted one",
    "untrusted-account": "an account other than the key's and trustedAccountIds is untrusted",
    "untrusted-arn": "an ARN of an untrusted account (or none) confines to no trusted account",
    "network": "a network (aws:SourceIp, aws:SourceVpc, aws:SourceVpce) does not confine to accounts",
    "user-id": "aws:userid is not read as an account restriction",
    "saml": "saml:aud names an endpoint, not an account",
    "web-identity": "a web-identity provider (not an IAM ARN) signs in anyone: its principal is public",
}
# Why atrest takes as confined a statement that policyuniverse calls internet
# accessible: IAM ANDs the keys of a condition block, so one entry that
# confines to a trusted account suffices; policyuniverse ORs them.
LOOSER = {"and": "IAM ANDs condition keys: one entry confining to a trusted account or organisation suffices"}


def account_of_arn(arn):
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and arn.startswith("arn:") else None


def why_confined(operator, entry, case):
    """Why an entry policyuniverse finds confining does not confine for atrest
    (a key of STRICTER), or None when atrest agrees it confines."""
    op = operator.lower()
    if op.endswith("ifexists"):
        return "if-exists"
    if op.startswith("forallvalues:"):
        return "for-all-values"
    value = entry.value
    if entry.category == "organization":
        org = value.split("/")[0]
        return None if org in case["trustedOrganizations"] else "untrusted-organization"
    if entry.category == "account":
        trusted = case["trustedAccounts"] + [case["account"]]
        return None if value in trusted else "untrusted-account"
    if entry.category == "arn":
        trusted = case["trustedAccounts"] + [case["account"]]
        account = account_of_arn(value)
        return None if account in trusted and "*" not in account else "untrusted-arn"
    if entry.category in ("cidr", "vpc", "vpce"):
        return "network"
    if entry.category == "userid":
        return "user-id"
    return "saml"


def entries_with_operators(statement):
    """Each condition entry policyuniverse reads, with its operator."""
    out = []
    for operator, keys in (statement.get("Condition") or {}).items():
        one = {"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {operator: keys}}
        for entry in Statement(one).condition_entries:
            out.append((operator, entry))
    return out


def public(statement):
    """"anyone", "web-identity" (anyone a provider signs in), or None."""
    principal = statement.get("Principal")
    if "NotPrincipal" in statement or principal == "*":
        return "anyone"
    if isinstance(principal, dict):
        aws = principal.get("AWS", [])
        aws = aws if isinstance(aws, list) else [aws]
        fed = principal.get("Federated", [])
        fed = fed if isinstance(fed, list) else [fed]
        if "*" in aws:
            return "anyone"
        if any(not f.startswith("arn:") for f in fed):
            return "web-identity"
    return None


def judge(case):
    """None when atrest and policyuniverse agree or differ as documented;
    else the unexplained disagreement."""
    policy = case["policy"]
    atrest = case["atrestFlagsPublic"]
    oracle = Policy(policy).is_internet_accessible()
    if atrest == oracle:
        return None, "agree"
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    reasons = set()
    for st in statements:
        if st.get("Effect") != "Allow" or not public(st):
            continue
        entries = entries_with_operators(st)
        if atrest and not oracle and public(st) == "web-identity":
            reasons.add("web-identity")
        elif atrest and not oracle:
            # policyuniverse found every entry confining: each must be one
            # atrest documents as not confining.
            why = [why_confined(op, e, case) for op, e in entries]
            if not entries or None in why:
                return f"atrest flags, policyuniverse confined by {entries}", None
            reasons.update(why)
        elif oracle and not atrest and Statement(st).is_internet_accessible():
            confining = [e for op, e in entries if why_confined(op, e, case) is None]
            if not confining:
                return f"policyuniverse flags, atrest confined (entries {entries})", None
            reasons.add("and")
    return None, ",".join(sorted(reasons)) or "agree"


def main():
    corpus = json.load(open(sys.argv[1]))
    unexplained, tally = [], {}
    for case in corpus:
        problem, kind = judge(case)
        if problem:
            unexplained.append(f"{case['name']}: {problem}")
        else:
            tally[kind] = tally.get(kind, 0) + 1
    for kind, n in sorted(tally.items()):
        reason = "; ".join(STRICTER.get(k) or LOOSER.get(k) or k for k in kind.split(","))
        print(f"{n:4} {kind}: {reason}")
    if unexplained:
        print(f"{len(unexplained)} unexplained disagreement(s):")
        print("\n".join(unexplained))
        sys.exit(1)
    print(f"policy oracle: {len(corpus)} policies, no unexplained disagreement")


if __name__ == "__main__":
    main()
