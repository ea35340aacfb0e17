//! # kms-key-policy-separation-of-duties
//!
//! ## What it checks
//! A customer-managed key's policy separates the people who administer the
//! key from those who use it. NON_COMPLIANT when an Allow statement grants
//! every KMS action (`kms:*`, `*`, `kms*`, `*:*`, any pattern or list
//! reaching every action, or a `NotAction` that leaves administrative
//! actions in) to any principal other than the key's own account root;
//! when one principal other than the root may both administer the key
//! (PutKeyPolicy, ScheduleKeyDeletion, Enable*, Disable*, Create/Update/
//! DeleteAlias, ImportKeyMaterial, ReplicateKey, TagResource, ... —
//! `kms:CreateGrant` is not one) and use it (Encrypt, Decrypt, ReEncrypt*,
//! GenerateDataKey*, Sign, Verify, GenerateMac, VerifyMac,
//! DeriveSharedSecret), unless it is listed in `allowedCombinedPrincipals`;
//! or when a Deny statement uses `NotPrincipal` (which denies by exclusion,
//! and breaks as soon as a principal is renamed). A principal may do what
//! a statement naming it allows, what a statement for `"*"` or a
//! `NotPrincipal` allows when its conditions may hold for that principal
//! (its account and ARN), and what a statement naming a foreign account's
//! root allows (that account's IAM policies decide); `"*"` itself is
//! flagged when statements reachable by anyone both administer and use.
//! Deny statements never make a key non-compliant otherwise.
//!
//! COMPLIANT proves: within the key policy, no principal but the account
//! root both administers and uses the key. It does not prove: anything
//! about what the account's IAM policies give through the root's
//! delegation, nor about grants.
//!
//! ## Why
//! The AWS KMS best practices ask for least privilege in key policies and
//! for key administrators who cannot use the key (and users who cannot
//! administer it); `kms:*` for anyone but the account root defeats both.
//! PCI DSS asks that access to keys be restricted to the fewest custodians
//! and that duties be separated.
//!
//! ## Parameters
//! - `allowedCombinedPrincipals` (optional): principals (ARNs, as the policy
//!   names them) allowed both to administer and to use the key.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed (AWS writes its policy), or was deleted or left
//! the rule's scope.

use std::collections::BTreeSet;

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::conditions::Context;
use atrest_common::policy::{Effect, Policy, Principal, Statement};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};

const ALLOWED_COMBINED_PRINCIPALS: ParamSpec = ParamSpec {
    name: "allowedCombinedPrincipals",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated principals (as the key policy names them) allowed both to administer and to \
                  use the key.",
};

/// The administrative actions on a key: everything that changes who may do
/// what with it (policy, aliases, tags that attribute-based policies read,
/// imported material, replicas), or its life. Grant actions are not among
/// them (the console gives them to key users for AWS services).
pub const ADMIN_ACTIONS: &[&str] = &[
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:UpdateAlias",
    "kms:PutKeyPolicy",
    "kms:UpdateKeyDescription",
    "kms:UpdatePrimaryRegion",
    "kms:ReplicateKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand",
    "kms:ImportKeyMaterial",
    "kms:DeleteImportedKeyMaterial",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
];

/// The cryptographic uses of a key, of every key spec (symmetric,
/// asymmetric encryption and signing, HMAC, key agreement).
pub const CRYPTO_ACTIONS: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:Sign",
    "kms:Verify",
    "kms:GenerateMac",
    "kms:VerifyMac",
    "kms:DeriveSharedSecret",
];

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-separation-of-duties",
    description: "Key policies grant kms:* to no one but the account root, keep key administration and key use \
                  with different principals, and use no Deny with NotPrincipal.",
    evidence: "COMPLIANT proves: within the key policy, no principal but the account root both administers and uses the key. It does not prove: anything about what the account's IAM policies give through the root's delegation, nor about grants.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[ALLOWED_COMBINED_PRINCIPALS],
    own_iam_actions: &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.5", "3.5.2", "3.6"],
        v4_0: &["3.6.1", "3.6.1.2", "7.2.1"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicySeparationOfDuties;

pub static RULE: KeyRule<KmsKeyPolicySeparationOfDuties> = KeyRule::new(&SPEC, KmsKeyPolicySeparationOfDuties);

/// Whether Allow `st` may reach `p` (a principal named somewhere in the
/// policy, or `"*"` for "anyone").
fn may_reach(st: &Statement, p: &Principal, account: &str) -> bool {
    let context = if *p == Principal::Public {
        Context::unknown()
    } else {
        p.request_context()
    };
    if !st.conditions_in(&context).can_be_true {
        return false;
    }
    match (&st.principals, &st.not_principals) {
        (Some(listed), _) => listed.iter().any(|q| {
            q == p
                || *q == Principal::Public
                // A foreign root: that account's IAM policies may pass it to `p`.
                || (*p != Principal::Public
                    && q.is_account_root()
                    && !q.is_root_of(account)
                    && q.account().is_some()
                    && q.account() == p.account())
        }),
        (None, Some(excluded)) => *p == Principal::Public || !excluded.contains(p),
        (None, None) => false,
    }
}

/// Judges a key policy; `account` is the key's own account.
pub fn judge_policy(policy: &Policy, account: &str, allowed_combined: &[String]) -> Verdict {
    let mut problems = Vec::new();
    let mut flagged: BTreeSet<Principal> = BTreeSet::new();
    // Everyone the policy names (but the key's root), and "anyone".
    let mut candidates: BTreeSet<Principal> = BTreeSet::new();
    for (i, st) in policy.statements.iter().enumerate() {
        let name = statement_name(i, st.sid.as_deref());
        if st.effect == Effect::Deny {
            if st.not_principals.is_some() {
                problems.push(format!("{name} is a Deny with NotPrincipal"));
            }
            continue;
        }
        let admin = ADMIN_ACTIONS.iter().any(|a| st.covers_action(a));
        for p in st.reached_principals() {
            if p.is_root_of(account) {
                continue;
            }
            if st.covers_all_kms_actions() {
                problems.push(format!("{name} grants every KMS action to {}", p.describe()));
                flagged.insert(p.clone());
            } else if st.not_actions.is_some() && admin {
                problems.push(format!(
                    "{name} (NotAction) leaves administrative actions to {}",
                    p.describe()
                ));
                flagged.insert(p.clone());
            }
            candidates.insert(p);
        }
    }
    let allows = |p: &Principal, actions: &[&str]| {
        policy.statements.iter().any(|st| {
            st.effect == Effect::Allow && actions.iter().any(|a| st.covers_action(a)) && may_reach(st, p, account)
        })
    };
    for p in &candidates {
        let allowed = allowed_combined.iter().any(|a| *a == p.describe());
        if !allowed && !flagged.contains(p) && allows(p, ADMIN_ACTIONS) && allows(p, CRYPTO_ACTIONS) {
            problems.push(format!("{} may both administer and use the key", p.describe()));
        }
    }
    verdict_of(
        problems,
        "Only the account root holds every KMS action; administrators and users are separate (IAM policies and \
         grants are not judged).",
    )
}

#[async_trait]
impl KeyJudge for KmsKeyPolicySeparationOfDuties {
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        judge_key_policy(key, item, ctx, |policy, account| {
            judge_policy(policy, account, ctx.params.list(ALLOWED_COMBINED_PRINCIPALS.name))
        })
        .await
    }
}
