//! # kms-key-policy-mfa-critical-actions
//!
//! ## What it checks
//! Every principal other than the key's account root that a customer-managed
//! key's policy allows a critical action — `kms:PutKeyPolicy`,
//! `kms:ScheduleKeyDeletion`, `kms:DeleteAlias`,
//! `kms:DeleteImportedKeyMaterial`, directly or through wildcards or
//! `NotAction` — must be required to use MFA: the Allow carries
//! `"Bool": {"aws:MultiFactorAuthPresent": "true"}` or
//! `"NumericLessThan(Equals)": {"aws:MultiFactorAuthAge": N}` with
//! N ≤ `maxMfaAgeSeconds`; or a Deny covering those actions for that
//! principal applies whenever MFA is missing (`BoolIfExists`
//! `aws:MultiFactorAuthPresent` `false`, or `NumericGreaterThan`
//! `aws:MultiFactorAuthAge` ≤ `maxMfaAgeSeconds`). `BoolIfExists … true` on
//! an Allow does not count: it allows long-term keys without MFA.
//!
//! ## Why
//! Changing a key policy, deleting a key or its imported material, or
//! repointing an alias can destroy access to every byte the key protects
//! or hand it to someone else. The AWS KMS best practices recommend MFA for
//! these; PCI DSS asks for dual control and key custodians who acknowledge
//! their duties.
//!
//! ## Parameters
//! - `maxMfaAgeSeconds` (default `3600`): the oldest MFA sign-in accepted.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::{Effect, Policy, Principal, Statement, CRITICAL_ACTIONS};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};

const MAX_MFA_AGE_SECONDS: ParamSpec = ParamSpec {
    name: "maxMfaAgeSeconds",
    kind: ParamKind::Integer { min: 1, max: 129_600 },
    default: Some("3600"),
    required: false,
    description: "The oldest MFA sign-in accepted for critical key actions, in seconds.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-mfa-critical-actions",
    description: "Key policies require MFA of every principal but the account root for PutKeyPolicy, \
                  ScheduleKeyDeletion, DeleteAlias and DeleteImportedKeyMaterial.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[MAX_MFA_AGE_SECONDS],
    own_iam_actions: &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.6.6", "8.3"],
        v4_0: &["3.7.6", "3.7.8", "8.4.2"],
    },
    timeout_seconds: 300,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicyMfaCriticalActions;

pub static RULE: KeyRule<KmsKeyPolicyMfaCriticalActions> = KeyRule::new(&SPEC, KmsKeyPolicyMfaCriticalActions);

fn numbers(values: Option<&[String]>) -> Option<Vec<f64>> {
    values?.iter().map(|v| v.trim().parse::<f64>().ok()).collect()
}

/// An Allow's own MFA requirement.
fn allow_requires_mfa(st: &Statement, max_age: f64) -> bool {
    let present = st
        .condition("Bool", "aws:MultiFactorAuthPresent")
        .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x.eq_ignore_ascii_case("true")));
    let age = ["NumericLessThan", "NumericLessThanEquals"].iter().any(|op| {
        numbers(st.condition(op, "aws:MultiFactorAuthAge"))
            .is_some_and(|n| !n.is_empty() && n.iter().all(|x| *x <= max_age))
    });
    present || age
}

/// A Deny that applies whenever MFA is missing (or too old).
fn deny_without_mfa(st: &Statement, max_age: f64) -> bool {
    let absent = ["BoolIfExists", "Null"].iter().any(|op| {
        let key_value = if *op == "Null" { "true" } else { "false" };
        st.condition(op, "aws:MultiFactorAuthPresent")
            .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x.eq_ignore_ascii_case(key_value)))
    });
    let too_old = ["NumericGreaterThan", "NumericGreaterThanEquals"].iter().any(|op| {
        numbers(st.condition(op, "aws:MultiFactorAuthAge"))
            .is_some_and(|n| !n.is_empty() && n.iter().all(|x| *x <= max_age))
    });
    absent || too_old
}

/// Judges a key policy; `account` is the key's own account.
pub fn judge_policy(policy: &Policy, account: &str, max_age_seconds: i64) -> Verdict {
    let max_age = max_age_seconds as f64;
    let mut problems = Vec::new();
    for (i, st) in policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow)
    {
        let critical: Vec<&str> = CRITICAL_ACTIONS
            .iter()
            .copied()
            .filter(|a| st.covers_action(a))
            .collect();
        if critical.is_empty() || allow_requires_mfa(st, max_age) {
            continue;
        }
        for p in st.reached_principals().into_iter().filter(|p| !p.is_root_of(account)) {
            let unguarded: Vec<&str> = critical
                .iter()
                .copied()
                .filter(|action| {
                    !policy.statements.iter().any(|d| {
                        d.effect == Effect::Deny
                            && d.covers_action(action)
                            && d.principals
                                .as_ref()
                                .is_some_and(|ps| ps.iter().any(|q| *q == Principal::Public || *q == p))
                            && deny_without_mfa(d, max_age)
                    })
                })
                .collect();
            if !unguarded.is_empty() {
                problems.push(format!(
                    "{} may {} without MFA ({})",
                    p.describe(),
                    unguarded.join(", "),
                    statement_name(i, st.sid.as_deref())
                ));
            }
        }
    }
    verdict_of(
        problems,
        "Every critical key action requires MFA of principals other than the account root.",
    )
}

#[async_trait]
impl KeyJudge for KmsKeyPolicyMfaCriticalActions {
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        let max_age = ctx.params.integer(MAX_MFA_AGE_SECONDS.name).unwrap_or(3600);
        judge_key_policy(key, item, ctx, |policy, account| judge_policy(policy, account, max_age)).await
    }
}
