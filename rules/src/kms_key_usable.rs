//! # kms-key-usable
//!
//! ## What it checks
//! Every customer-managed key can do its job: its state is `Enabled` — not
//! `Disabled`, `PendingDeletion`, `PendingReplicaDeletion`, `PendingImport`,
//! `Unavailable`, `Creating`, `Updating` or a state this rule does not know
//! (the annotation names the state, and the deletion date when one is
//! scheduled) — and, for keys with imported key material (`expirationModel`
//! KEY_MATERIAL_EXPIRES), the material has not expired and does not expire
//! within `importedMaterialExpiryDays` of the evaluation. A key whose state
//! is not recorded is not verifiable, and NON_COMPLIANT. This rule is the one
//! owner of key state: the encryption rules judge who manages and owns a
//! resource's key, and leave its state to this rule. Unlike the managed rule
//! KMS_CMK_NOT_SCHEDULED_FOR_DELETION, it runs on configuration changes
//! too, and it watches disabled keys and imported material.
//!
//! COMPLIANT proves: the key is enabled and its material valid at the time
//! of the evaluation. It does not prove: that a custom key store behind
//! the key is connected.
//!
//! ## Why
//! Deleting a key makes everything it encrypted unrecoverable; a disabled,
//! unavailable or expired key leaves the data it protects unreadable until
//! someone acts. A scheduled deletion is the last chance to notice a
//! mistake (AWS KMS best practices: monitor and prevent key deletion). PCI
//! DSS asks for key retirement to be a managed, deliberate process.
//!
//! ## Parameters
//! - `importedMaterialExpiryDays` (default `30`): how far ahead an expiry of
//!   imported key material is flagged.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::remediation::{Remediation, RunbookPermission, RunbookValue, GET_AUTOMATION_EXECUTION};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use crate::key_rules::{KeyJudge, KeyRule, KEY};

const IMPORTED_MATERIAL_EXPIRY_DAYS: ParamSpec = ParamSpec {
    name: "importedMaterialExpiryDays",
    kind: ParamKind::Integer { min: 0, max: 3650 },
    default: Some("30"),
    required: false,
    description: "Flag imported key material that expires within this many days.",
};

/// AWSConfigRemediation-CancelKeyDeletion: a key pending deletion is kept.
static REMEDIATION: Remediation = Remediation {
    runbook: "AWSConfigRemediation-CancelKeyDeletion",
    parameters: &[
        ("AutomationAssumeRole", RunbookValue::AutomationRole),
        ("KeyId", RunbookValue::ResourceId),
    ],
    permissions: &[
        atrest_common::automation_permissions!("AWSConfigRemediation-CancelKeyDeletion"),
        GET_AUTOMATION_EXECUTION,
        RunbookPermission {
            actions: &["kms:CancelKeyDeletion", "kms:DescribeKey"],
            resources: &["arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"],
        },
    ],
    note: "Cancels a scheduled deletion (the key is then Disabled, for people to enable); disabled, unavailable or expiring keys are left to people, and the runbook fails on them without changing anything.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-usable",
    description: "Customer-managed keys are enabled (not disabled, pending deletion or import, or unavailable), \
                  and their imported key material does not expire within importedMaterialExpiryDays.",
    evidence: "COMPLIANT proves: the key is enabled and its material valid at the time of the evaluation. It does not prove: that a custom key store behind the key is connected.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[IMPORTED_MATERIAL_EXPIRY_DAYS],
    own_iam_actions: &["kms:DescribeKey", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.6", "3.6.5"],
        v4_0: &["3.7.5"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: Some(&REMEDIATION),
};

/// The rule's judgement of one key.
pub struct KmsKeyUsable;

pub static RULE: KeyRule<KmsKeyUsable> = KeyRule::new(&SPEC, KmsKeyUsable);

fn date(t: &DateTime) -> String {
    t.fmt(Format::DateTime).unwrap_or_else(|_| t.secs().to_string())
}

/// Judges a key's lifecycle at time `now`.
pub fn judge_lifecycle(key: &KeyFacts, now: DateTime, expiry_days: i64) -> Verdict {
    if !key.is_customer_managed() {
        return Verdict::not_applicable("AWS manages the lifecycle of AWS-managed keys.");
    }
    match key.state.as_str() {
        "Enabled" => {}
        "PendingDeletion" | "PendingReplicaDeletion" => {
            return Verdict::non_compliant(match &key.deletion_date {
                Some(d) => format!("The key is scheduled for deletion on {}.", date(d)),
                None => "The key is scheduled for deletion (date not recorded).".to_owned(),
            })
        }
        "Disabled" => {
            return Verdict::non_compliant(
                "The key is disabled: what it encrypts cannot be decrypted until it is enabled.",
            )
        }
        "PendingImport" => {
            return Verdict::non_compliant(match &key.valid_to {
                // Expired imported material leaves the key PendingImport.
                Some(v) if v.secs() <= now.secs() => format!("The imported key material expired on {}.", date(v)),
                _ => "The key has no key material (PendingImport): it cannot be used.".to_owned(),
            });
        }
        "Unavailable" => {
            return Verdict::non_compliant(
                "The key is unavailable (its custom key store is disconnected): it cannot be used.",
            )
        }
        "" => {
            return Verdict::non_compliant("The key's state is not recorded: whether it is usable cannot be verified.")
        }
        other => return Verdict::non_compliant(format!("The key is in state {other}, not Enabled.")),
    }
    if key.expiration_model.as_deref() == Some("KEY_MATERIAL_EXPIRES") {
        return match &key.valid_to {
            None => Verdict::non_compliant("The imported key material expires, but its expiry is not recorded."),
            Some(v) if v.secs() <= now.secs() => {
                Verdict::non_compliant(format!("The imported key material expired on {}.", date(v)))
            }
            Some(v) if v.secs() - now.secs() <= expiry_days * 86_400 => Verdict::non_compliant(format!(
                "The imported key material expires on {}, within {expiry_days} days.",
                date(v)
            )),
            Some(v) => Verdict::compliant(format!(
                "The key is enabled; imported key material valid until {}.",
                date(v)
            )),
        };
    }
    Verdict::compliant("The key is enabled.")
}

#[async_trait]
impl KeyJudge for KmsKeyUsable {
    async fn judge(
        &self,
        key: &KeyFacts,
        _item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        let days = ctx.params.integer(IMPORTED_MATERIAL_EXPIRY_DAYS.name).unwrap_or(30);
        Ok(judge_lifecycle(key, ctx.timestamp, days))
    }
}
