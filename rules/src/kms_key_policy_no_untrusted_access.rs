//! # kms-key-policy-no-untrusted-access
//!
//! ## What it checks
//! A customer-managed key's policy lets no one outside the organisation's
//! known accounts use or manage the key. NON_COMPLIANT when an Allow
//! statement reaches any principal (`"*"`, `{"AWS": "*"}`, a `NotPrincipal`,
//! a web-identity provider) without a condition that restricts it to known
//! accounts (`kms:CallerAccount`, `aws:PrincipalAccount`,
//! `aws:SourceAccount` equal to the key's account or one of
//! `trustedAccountIds`) or to an organisation (`aws:PrincipalOrgID`,
//! `aws:SourceOrgID`); or when it names a principal of an account other
//! than the key's own and `trustedAccountIds` (or one whose account cannot
//! be told, such as the unique id left by a deleted role). Service
//! principals are fine. Unlike KMS_KEY_POLICY_NO_PUBLIC_ACCESS, it also
//! catches named principals of foreign accounts.
//!
//! ## Why
//! A key anyone can use makes its encryption decorative; a foreign account
//! in a key policy is a standing path to the data that no IAM policy of the
//! organisation can take back (AWS KMS best practices: "restrict access to
//! your account and organisation"). PCI DSS asks that access to keys be
//! restricted to the fewest necessary custodians.
//!
//! ## Parameters
//! - `trustedAccountIds` (optional): other accounts that may appear in key
//!   policies.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::{Effect, Policy, Principal, Statement};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};

const TRUSTED_ACCOUNT_IDS: ParamSpec = ParamSpec {
    name: "trustedAccountIds",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated account ids besides the key's own that key policies may name.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-no-untrusted-access",
    description: "Key policies allow no public principal without an account or organisation condition, and name \
                  no principal of an untrusted account.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[TRUSTED_ACCOUNT_IDS],
    own_iam_actions: &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.5", "3.5.2", "7.1"],
        v4_0: &["3.6.1", "7.2.1"],
    },
    timeout_seconds: 300,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicyNoUntrustedAccess;

pub static RULE: KeyRule<KmsKeyPolicyNoUntrustedAccess> = KeyRule::new(&SPEC, KmsKeyPolicyNoUntrustedAccess);

/// Condition operators that grant only when the key is present and matches
/// a value. `…IfExists` and `ForAllValues:` also grant when the key is
/// absent, so they restrict nothing.
fn is_positive_string_operator(op: &str) -> bool {
    let op = op.to_ascii_lowercase();
    if op.ends_with("ifexists") || op.starts_with("forallvalues:") {
        return false;
    }
    let base = op.rsplit(':').next().unwrap_or(&op);
    matches!(base, "stringequals" | "stringequalsignorecase" | "stringlike")
}

/// Whether a statement's conditions confine it to trusted accounts or an
/// organisation.
fn restricted(st: &Statement, trusted: &[&str]) -> bool {
    const ACCOUNT_KEYS: [&str; 3] = ["kms:calleraccount", "aws:principalaccount", "aws:sourceaccount"];
    const ORG_KEYS: [&str; 2] = ["aws:principalorgid", "aws:sourceorgid"];
    st.conditions
        .iter()
        .filter(|(op, _)| is_positive_string_operator(op))
        .any(|(_, keys)| {
            keys.iter().any(|(key, values)| {
                let literal = |v: &String| !v.is_empty() && !v.contains(['*', '?']);
                (ACCOUNT_KEYS.contains(&key.as_str())
                    && !values.is_empty()
                    && values.iter().all(|v| literal(v) && trusted.contains(&v.as_str())))
                    || (ORG_KEYS.contains(&key.as_str()) && !values.is_empty() && values.iter().all(literal))
            })
        })
}

/// Judges a key policy; `account` is the key's own account.
pub fn judge_policy(policy: &Policy, account: &str, trusted_accounts: &[String]) -> Verdict {
    let mut trusted: Vec<&str> = trusted_accounts.iter().map(String::as_str).collect();
    trusted.push(account);
    let mut problems = Vec::new();
    for (i, st) in policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow)
    {
        let name = statement_name(i, st.sid.as_deref());
        for p in st.reached_principals() {
            let public = match &p {
                Principal::Public => true,
                Principal::Service(_) => false,
                // A web-identity provider (not an IAM ARN) is anyone it signs in.
                Principal::Federated(f) => !f.starts_with("arn:"),
                Principal::Aws(_) | Principal::Canonical(_) => false,
            };
            if public {
                if !restricted(st, &trusted) {
                    problems.push(format!(
                        "{name} allows {} without a condition restricting it to known accounts or an organisation",
                        p.describe()
                    ));
                }
                continue;
            }
            if matches!(p, Principal::Service(_)) {
                continue;
            }
            match p.account() {
                Some(a) if trusted.contains(&a) => {}
                Some(a) => problems.push(format!("{name} names {} of untrusted account {a}", p.describe())),
                None => problems.push(format!("{name} names {}, whose account cannot be told", p.describe())),
            }
        }
    }
    verdict_of(
        problems,
        "The key policy reaches only the key's account, trusted accounts and services.",
    )
}

#[async_trait]
impl KeyJudge for KmsKeyPolicyNoUntrustedAccess {
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        judge_key_policy(key, item, ctx, |policy, account| {
            judge_policy(policy, account, ctx.params.list(TRUSTED_ACCOUNT_IDS.name))
        })
        .await
    }
}
