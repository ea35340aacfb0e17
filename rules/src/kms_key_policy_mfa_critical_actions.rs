//! # kms-key-policy-mfa-critical-actions
//!
//! ## What it checks
//! No principal may take a critical action on a customer-managed key —
//! `kms:PutKeyPolicy`, `kms:ScheduleKeyDeletion`, `kms:DeleteAlias`,
//! `kms:UpdateAlias`, `kms:DeleteImportedKeyMaterial`, granted directly or
//! through wildcards or `NotAction` — without MFA, as far as the key policy
//! decides. For every Allow reaching a critical action and every principal
//! it reaches, the rule considers the requests of that principal without
//! MFA: a role session (`aws:MultiFactorAuthPresent` present and `false`,
//! no `aws:MultiFactorAuthAge`) and long-term credentials (both keys
//! absent); and, when the policy speaks of `aws:MultiFactorAuthAge`, a
//! session whose MFA is older than `maxMfaAgeSeconds`. In each, either the
//! Allow's conditions cannot hold (e.g. `"Bool": {"aws:MultiFactorAuthPresent":
//! "true"}`), or a Deny surely applies: it covers the action, its principal
//! element surely includes the principal (`"*"`, the principal itself, or a
//! `NotPrincipal` that cannot exclude it), and all its conditions hold —
//! `BoolIfExists … "false"` or `NumericGreaterThanIfExists
//! aws:MultiFactorAuthAge` do; `Null … "true"` (role sessions carry the key)
//! and `NumericGreaterThan` without `IfExists` (absent without MFA) do not;
//! nor does a Deny whose other conditions (such as `StringNotEquals
//! aws:PrincipalArn` exempting the principal) may fail.
//!
//! The account root is no exception: in a key policy it stands for every
//! principal of the account that an IAM policy allows, so the default key
//! policy (root `kms:*` alone) is NON_COMPLIANT — MFA is then up to IAM
//! policies, which this rule does not read. A key passes only when its own
//! policy enforces MFA, typically with a Deny for `"*"` on the critical
//! actions under `BoolIfExists aws:MultiFactorAuthPresent false`.
//!
//! COMPLIANT proves: the key policy itself refuses every critical action to
//! every principal without MFA. It does not prove: anything about grants,
//! or about MFA age when the policy only requires MFA's presence.
//!
//! ## Why
//! Changing a key policy, deleting a key or its imported material, or
//! deleting or re-pointing an alias can destroy access to every byte the
//! key protects or hand it to someone else. The AWS KMS best practices
//! recommend MFA for these; PCI DSS asks for dual control and key custodians
//! who acknowledge their duties.
//!
//! ## Parameters
//! - `maxMfaAgeSeconds` (default `3600`): the oldest MFA sign-in accepted
//!   where the policy bounds MFA age.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::conditions::{Context, Holds};
use atrest_common::policy::{Effect, Policy, Principal, Statement};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};

const MAX_MFA_AGE_SECONDS: ParamSpec = ParamSpec {
    name: "maxMfaAgeSeconds",
    kind: ParamKind::Integer { min: 1, max: 129_600 },
    default: Some("3600"),
    required: false,
    description: "The oldest MFA sign-in accepted for critical key actions where the key policy bounds MFA age \
                  (aws:MultiFactorAuthAge), in seconds.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-mfa-critical-actions",
    description: "Key policies refuse PutKeyPolicy, ScheduleKeyDeletion, DeleteAlias, UpdateAlias and \
                  DeleteImportedKeyMaterial without MFA to every principal, account root delegation included.",
    evidence: "COMPLIANT proves: the key policy itself refuses every critical action to every principal without MFA. It does not prove: anything about grants, or about MFA age when the policy only requires MFA's presence.",
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
    memory_mb: 128,
    remediation: None,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicyMfaCriticalActions;

pub static RULE: KeyRule<KmsKeyPolicyMfaCriticalActions> = KeyRule::new(&SPEC, KmsKeyPolicyMfaCriticalActions);

/// The critical actions that must need MFA.
pub const CRITICAL_ACTIONS: &[&str] = &[
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:DeleteImportedKeyMaterial",
];

const MFA_PRESENT: &str = "aws:MultiFactorAuthPresent";
const MFA_AGE: &str = "aws:MultiFactorAuthAge";

/// The requests without (fresh enough) MFA, each with how it reads in an
/// annotation.
fn requests_without_mfa(max_age_seconds: i64, age_bounded: bool) -> Vec<(&'static str, [(&'static str, Holds); 2])> {
    let mut requests = vec![
        (
            "without MFA",
            [(MFA_PRESENT, Holds::value("false")), (MFA_AGE, Holds::Absent)],
        ),
        ("without MFA", [(MFA_PRESENT, Holds::Absent), (MFA_AGE, Holds::Absent)]),
    ];
    if age_bounded {
        requests.push((
            "with MFA older than maxMfaAgeSeconds",
            [
                (MFA_PRESENT, Holds::value("true")),
                (MFA_AGE, Holds::value((max_age_seconds + 1).to_string())),
            ],
        ));
    }
    requests
}

fn with_request(base: &Context, request: &[(&str, Holds); 2]) -> Context {
    request
        .iter()
        .fold(base.clone(), |c, (key, holds)| c.with(key, [holds.clone()]))
}

/// Whether a Deny of `policy` surely refuses `action` to `principal` in
/// `context`.
fn denied(policy: &Policy, action: &str, principal: &Principal, context: &Context) -> bool {
    policy.statements.iter().any(|d| {
        d.effect == Effect::Deny
            && d.covers_action(action)
            && d.surely_includes(principal)
            && d.conditions_in(context).always()
    })
}

/// How a principal reads in the annotation.
fn who(p: &Principal) -> String {
    match p.account() {
        Some(account) if p.is_account_root() => {
            format!("any principal of account {account} that IAM policies allow (root delegation)")
        }
        _ => p.describe(),
    }
}

/// The critical actions an Allow leaves to `principal` without MFA, and
/// how (the first request kind that gets through).
fn unguarded(
    policy: &Policy,
    st: &Statement,
    principal: &Principal,
    critical: &[&'static str],
    requests: &[(&'static str, [(&'static str, Holds); 2])],
) -> Vec<(&'static str, &'static str)> {
    let base = principal.request_context();
    critical
        .iter()
        .filter_map(|action| {
            requests.iter().find_map(|(how, request)| {
                let context = with_request(&base, request);
                (st.conditions_in(&context).can_be_true && !denied(policy, action, principal, &context))
                    .then_some((*action, *how))
            })
        })
        .collect()
}

/// Judges a key policy.
pub fn judge_policy(policy: &Policy, max_age_seconds: i64) -> Verdict {
    let age_bounded = policy.statements.iter().any(|s| s.mentions_condition_key(MFA_AGE));
    let requests = requests_without_mfa(max_age_seconds, age_bounded);
    let mut problems = Vec::new();
    for (i, st) in policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow)
    {
        let critical: Vec<&'static str> = CRITICAL_ACTIONS
            .iter()
            .copied()
            .filter(|a| st.covers_action(a))
            .collect();
        if critical.is_empty() {
            continue;
        }
        for p in st.reached_principals() {
            let open = unguarded(policy, st, &p, &critical, &requests);
            if open.is_empty() {
                continue;
            }
            let how = open[0].1;
            let actions: Vec<&str> = open.iter().map(|(a, _)| *a).collect();
            problems.push(format!(
                "{} may {} {how} ({})",
                who(&p),
                actions.join(", "),
                statement_name(i, st.sid.as_deref())
            ));
        }
    }
    verdict_of(
        problems,
        "The key policy refuses every critical key action without MFA to every principal, root delegation included.",
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
        judge_key_policy(key, item, ctx, |policy, _account| judge_policy(policy, max_age)).await
    }
}
