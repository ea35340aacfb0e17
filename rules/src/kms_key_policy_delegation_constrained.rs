//! # kms-key-policy-delegation-constrained
//!
//! ## What it checks
//! How a customer-managed key's policy delegates. NON_COMPLIANT when:
//! - an Allow gives a grant action (`kms:CreateGrant`, `kms:ListGrants`,
//!   `kms:RevokeGrant`, also through wildcards such as the console's
//!   `kms:Create*` / `kms:List*` / `kms:Revoke*` for key administrators, or
//!   `NotAction`) to a principal other than the key's own account root, and
//!   its conditions may hold for a request that principal makes itself —
//!   without `kms:ViaService` and with `kms:GrantIsForAWSResource` absent or
//!   `false`. `"Bool": {"kms:GrantIsForAWSResource": "true"}` or a
//!   `StringEquals kms:ViaService` constrains it; their `IfExists` forms do
//!   not;
//! - an Allow is conditioned on aliases alone: it names `kms:RequestAlias`
//!   or `kms:ResourceAliases`, and its other conditions always hold for the
//!   principals it names (whoever can create or re-point an alias then
//!   decides who reaches the key);
//! - unless `requireIamDelegation` is `false`: no unconditional Allow for
//!   the key's own account root (`arn:…:iam::ACCOUNT:root`, or the account
//!   id) covers every administrative action (`kms:PutKeyPolicy`,
//!   `kms:ScheduleKeyDeletion`, `kms:EnableKey`, …), or an unconditional
//!   Deny for `"*"`, the root or a `NotPrincipal` takes one away. Without
//!   that statement the account's IAM policies cannot manage the key, and
//!   the key becomes unmanageable once its named administrators are gone.
//!
//! COMPLIANT proves: within the key policy, only AWS services acting for a
//! principal can make, list and revoke its grants (the account root
//! aside), no access hangs on an alias alone, and (by default) the
//! account's IAM policies can administer the key. It does not prove:
//! anything about existing grants, nor about Deny statements whose
//! conditions may fail.
//!
//! ## Why
//! The AWS KMS best practices ask to constrain delegation: a principal that
//! may call CreateGrant freely may give itself or anyone any use of the key,
//! so grant permissions are scoped to AWS services acting for the principal
//! (`kms:GrantIsForAWSResource`, `kms:ViaService`, the EBS example); aliases
//! are not an access boundary, since managing aliases is a separate
//! permission; and the default statement that enables IAM policies is what
//! keeps a key manageable. PCI DSS asks that access to keys be restricted to
//! the fewest custodians.
//!
//! ## Parameters
//! - `requireIamDelegation` (default `true`): whether the key policy must
//!   let the account's IAM policies administer the key.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed (AWS writes its policy), or was deleted or left
//! the rule's scope.

use std::collections::BTreeMap;

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::conditions::{evaluate_block, Context, Holds};
use atrest_common::policy::{Effect, Policy, Principal, Statement};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};
use crate::kms_key_policy_separation_of_duties::ADMIN_ACTIONS;

const REQUIRE_IAM_DELEGATION: ParamSpec = ParamSpec {
    name: "requireIamDelegation",
    kind: ParamKind::Bool,
    default: Some("true"),
    required: false,
    description: "Whether the key policy must let the account's IAM policies administer the key (an unconditional \
                  Allow for the account root covering every administrative action).",
};

/// The actions that create, list and revoke grants.
pub const GRANT_ACTIONS: &[&str] = &["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"];

/// The condition keys that make access depend on a key's aliases.
pub const ALIAS_KEYS: &[&str] = &["kms:RequestAlias", "kms:ResourceAliases"];

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-delegation-constrained",
    description: "Key policies give grant actions to others than the account root only through AWS services, \
                  condition no access on aliases alone, and keep the statement that lets IAM policies administer \
                  the key.",
    evidence: "COMPLIANT proves: within the key policy, only AWS services acting for a principal can make, list and revoke its grants (the account root aside), no access hangs on an alias alone, and (by default) the account's IAM policies can administer the key. It does not prove: anything about existing grants, nor about Deny statements whose conditions may fail.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[REQUIRE_IAM_DELEGATION],
    own_iam_actions: &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.5", "3.5.2", "7.1.2"],
        v4_0: &["3.6.1", "7.2.1", "7.2.2"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicyDelegationConstrained;

pub static RULE: KeyRule<KmsKeyPolicyDelegationConstrained> = KeyRule::new(&SPEC, KmsKeyPolicyDelegationConstrained);

/// What a request made by `p` itself fixes (nothing, for `"*"`).
fn own_request(p: &Principal) -> Context {
    if *p == Principal::Public {
        Context::unknown()
    } else {
        p.request_context()
    }
}

/// The grant actions an Allow gives to a principal other than the root,
/// which a request that principal makes itself (no AWS service) may pass.
fn unconstrained_grants(st: &Statement, p: &Principal) -> Vec<&'static str> {
    let direct = own_request(p)
        .with("kms:ViaService", [Holds::Absent])
        .with("kms:GrantIsForAWSResource", [Holds::Absent, Holds::value("false")]);
    if !st.conditions_in(&direct).can_be_true {
        return Vec::new();
    }
    GRANT_ACTIONS.iter().copied().filter(|a| st.covers_action(a)).collect()
}

/// Whether the statement names an alias key and its other conditions
/// always hold for `p`: the alias is the only gate.
fn gated_by_alias_alone(st: &Statement, p: &Principal) -> bool {
    if !ALIAS_KEYS.iter().any(|k| st.mentions_condition_key(k)) {
        return false;
    }
    let alias: Vec<String> = ALIAS_KEYS.iter().map(|k| k.to_ascii_lowercase()).collect();
    let rest: BTreeMap<String, BTreeMap<String, Vec<String>>> = st
        .conditions
        .iter()
        .map(|(op, keys)| {
            let keys = keys.iter().filter(|(k, _)| !alias.contains(k));
            (op.clone(), keys.map(|(k, v)| (k.clone(), v.clone())).collect())
        })
        .collect();
    evaluate_block(&rest, &own_request(p)).always()
}

/// Whether a statement's principal element names the account root, or
/// reaches it (`"*"`, a `NotPrincipal`).
fn reaches_root(st: &Statement, account: &str) -> bool {
    match (&st.principals, &st.not_principals) {
        (Some(listed), _) => listed.iter().any(|q| *q == Principal::Public || q.is_root_of(account)),
        (None, Some(_)) => true,
        (None, None) => false,
    }
}

/// The administrative actions the account's IAM policies cannot be given:
/// no unconditional Allow for the root covers them, or an unconditional
/// Deny reaching the root takes them away.
fn undelegated_admin_actions(policy: &Policy, account: &str) -> Vec<&'static str> {
    let unconditional = |st: &Statement| st.conditions_in(&Context::unknown()).always();
    let root_named = |st: &Statement| {
        st.principals
            .as_ref()
            .is_some_and(|listed| listed.iter().any(|q| q.is_root_of(account)))
    };
    ADMIN_ACTIONS
        .iter()
        .copied()
        .filter(|action| {
            let allowed = policy.statements.iter().any(|st| {
                st.effect == Effect::Allow && root_named(st) && unconditional(st) && st.covers_action(action)
            });
            let denied = policy.statements.iter().any(|st| {
                st.effect == Effect::Deny && reaches_root(st, account) && unconditional(st) && st.covers_action(action)
            });
            !allowed || denied
        })
        .collect()
}

/// Judges a key policy; `account` is the key's own account.
pub fn judge_policy(policy: &Policy, account: &str, require_iam_delegation: bool) -> Verdict {
    let mut problems = Vec::new();
    for (i, st) in policy.statements.iter().enumerate() {
        if st.effect != Effect::Allow {
            continue;
        }
        let name = statement_name(i, st.sid.as_deref());
        for p in st.reached_principals() {
            if p.is_root_of(account) {
                continue;
            }
            let grants = unconstrained_grants(st, &p);
            if !grants.is_empty() {
                problems.push(format!(
                    "{name} gives {} {} without kms:GrantIsForAWSResource or kms:ViaService",
                    p.describe(),
                    grants.join(", ")
                ));
            }
            if gated_by_alias_alone(st, &p) {
                problems.push(format!(
                    "{name} lets {} in on an alias condition alone (whoever manages aliases decides)",
                    p.describe()
                ));
            }
        }
    }
    if require_iam_delegation {
        let missing = undelegated_admin_actions(policy, account);
        if !missing.is_empty() {
            problems.push(format!(
                "the account's IAM policies cannot be given {} (no unconditional Allow for \
                 arn:aws:iam::{account}:root covers it, or an unconditional Deny removes it)",
                summarise(&missing)
            ));
        }
    }
    verdict_of(
        problems,
        "Grant actions go to others than the account root only through AWS services, no access hangs on an alias \
         alone, and the account's IAM policies can administer the key (existing grants are not judged).",
    )
}

/// A list of actions, shortened after the first few.
fn summarise(actions: &[&str]) -> String {
    const SHOWN: usize = 3;
    if actions.len() <= SHOWN {
        return actions.join(", ");
    }
    format!("{} and {} more", actions[..SHOWN].join(", "), actions.len() - SHOWN)
}

#[async_trait]
impl KeyJudge for KmsKeyPolicyDelegationConstrained {
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        judge_key_policy(key, item, ctx, |policy, account| {
            judge_policy(policy, account, ctx.params.bool(REQUIRE_IAM_DELEGATION.name))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrest_common::Compliance;

    const ACCOUNT: &str = "111122223333";

    fn note(v: &Verdict) -> &str {
        v.annotation.as_deref().unwrap_or_default()
    }

    fn judge(statements: &str) -> Verdict {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Sid":"Enable IAM User Permissions","Effect":"Allow",
                  "Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}
                {statements}]}}"#
        );
        let policy = Policy::parse_str(&text).unwrap_or_else(|e| panic!("{e}"));
        judge_policy(&policy, ACCOUNT, true)
    }

    fn grant_statement(condition: &str) -> String {
        format!(
            r#",{{"Sid":"Grants","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/App"}},
                 "Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*"{condition}}}"#
        )
    }

    #[test]
    fn grant_conditions_follow_iam() {
        let cases = [
            ("", false),
            (r#","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}"#, true),
            (r#","Condition":{"Bool":{"kms:GrantIsForAWSResource":true}}"#, true),
            (
                r#","Condition":{"BoolIfExists":{"kms:GrantIsForAWSResource":"true"}}"#,
                false,
            ),
            (r#","Condition":{"Bool":{"kms:GrantIsForAWSResource":"false"}}"#, false),
            (
                r#","Condition":{"StringEquals":{"kms:ViaService":"ec2.eu-west-1.amazonaws.com"}}"#,
                true,
            ),
            (r#","Condition":{"StringLike":{"kms:ViaService":"*"}}"#, true),
            (
                r#","Condition":{"StringEqualsIfExists":{"kms:ViaService":"ec2.eu-west-1.amazonaws.com"}}"#,
                false,
            ),
            (
                r#","Condition":{"StringNotEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}"#,
                false,
            ),
            (r#","Condition":{"Null":{"kms:ViaService":"false"}}"#, true),
            (
                r#","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
                false,
            ),
        ];
        for (condition, compliant) in cases {
            let verdict = judge(&grant_statement(condition));
            let expected = if compliant {
                Compliance::Compliant
            } else {
                Compliance::NonCompliant
            };
            assert_eq!(verdict.compliance, expected, "{condition}: {}", note(&verdict));
        }
    }

    #[test]
    fn console_administrator_wildcards_reach_grants() {
        let verdict = judge(&format!(
            r#",{{"Sid":"Admins","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"}},
                 "Action":["kms:Create*","kms:List*","kms:Describe*"],"Resource":"*"}}"#
        ));
        assert_eq!(verdict.compliance, Compliance::NonCompliant);
        assert!(
            note(&verdict).contains("kms:CreateGrant, kms:ListGrants"),
            "{}",
            note(&verdict)
        );
        assert!(!note(&verdict).contains("RevokeGrant"), "{}", note(&verdict));
    }

    #[test]
    fn alias_alone_is_flagged_and_alias_with_a_real_constraint_is_not() {
        let alias = |extra: &str| {
            format!(
                r#",{{"Sid":"ByAlias","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/App"}},
                     "Action":"kms:Decrypt","Resource":"*",
                     "Condition":{{"ForAnyValue:StringEquals":{{"kms:ResourceAliases":"alias/app"}}{extra}}}}}"#
            )
        };
        let alone = judge(&alias(""));
        assert_eq!(alone.compliance, Compliance::NonCompliant);
        assert!(note(&alone).contains("\"ByAlias\""), "{}", note(&alone));
        // The role itself is always its own principal ARN: still alias alone.
        let own_arn = judge(&alias(&format!(
            r#","StringEquals":{{"aws:PrincipalArn":"arn:aws:iam::{ACCOUNT}:role/App"}}"#
        )));
        assert_eq!(own_arn.compliance, Compliance::NonCompliant, "{}", note(&own_arn));
        let via = judge(&alias(
            r#","StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}"#,
        ));
        assert_eq!(via.compliance, Compliance::Compliant, "{}", note(&via));
    }

    #[test]
    fn iam_delegation_is_required_unless_turned_off() {
        let text = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"}},
                "Action":"kms:*","Resource":"*"}}]}}"#
        );
        let policy = Policy::parse_str(&text).unwrap_or_else(|e| panic!("{e}"));
        let strict = judge_policy(&policy, ACCOUNT, true);
        assert_eq!(strict.compliance, Compliance::NonCompliant);
        assert!(note(&strict).contains("kms:CreateAlias, kms:DeleteAlias, kms:UpdateAlias and 15 more"));
        // kms:* to KeyAdmin includes CreateGrant: still flagged without the requirement.
        let relaxed = judge_policy(&policy, ACCOUNT, false);
        assert!(!note(&relaxed).contains("IAM policies"), "{}", note(&relaxed));
        assert!(note(&relaxed).contains("kms:CreateGrant"), "{}", note(&relaxed));
    }

    #[test]
    fn conditional_root_statement_or_unconditional_deny_breaks_delegation() {
        let conditional = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"kms:*","Resource":"*",
                "Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}]}}"#
        );
        let policy = Policy::parse_str(&conditional).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            judge_policy(&policy, ACCOUNT, true).compliance,
            Compliance::NonCompliant
        );
        let denied = judge(r#",{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}"#);
        assert_eq!(denied.compliance, Compliance::NonCompliant);
        assert!(note(&denied).contains("kms:PutKeyPolicy"), "{}", note(&denied));
        let conditional_deny = judge(
            r#",{"Effect":"Deny","Principal":"*","Action":"kms:ScheduleKeyDeletion","Resource":"*",
                "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#,
        );
        assert_eq!(
            conditional_deny.compliance,
            Compliance::Compliant,
            "{}",
            note(&conditional_deny)
        );
        let account_id_form = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"kms:*","Resource":"*"}}]}}"#
        );
        let policy = Policy::parse_str(&account_id_form).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(judge_policy(&policy, ACCOUNT, true).compliance, Compliance::Compliant);
    }
}
