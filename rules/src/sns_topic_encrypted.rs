//! # sns-topic-encrypted
//!
//! ## What it checks
//! Every SNS topic encrypts the messages it stores with a customer-managed
//! KMS key — one of `kmsKeyArns` when given. `KmsMasterKeyId` may name the
//! key by id, ARN, alias name or alias ARN; aliases are resolved in the
//! evaluated account. A topic without a key stores messages unencrypted.
//! The managed rule SNS_ENCRYPTED_KMS accepts the AWS-managed `aws/sns`
//! key; this rule does not (unless `allowAwsManagedKeys`).
//!
//! The key must be customer-managed and owned by the evaluated account or
//! one of `trustedKeyAccounts`. Its state is judged by `kms-key-usable`
//! alone: here a customer-managed key that is disabled or pending deletion
//! still counts, since the data is encrypted under a key the organisation
//! controls. A key that does not exist or cannot be read is NON_COMPLIANT.
//!
//! COMPLIANT proves: the data is encrypted under a customer-managed key of a
//! trusted account (one of `kmsKeyArns` when given). It does not prove:
//! that the key is usable (`kms-key-usable`) or its policy sound (the
//! `kms-key-policy-*` rules).
//!
//! ## Why
//! Notifications carry transaction events and alerts that can hold account
//! data. With a customer-managed key, publishing to and delivering from the
//! topic needs the key's policy too, and only such a key lets other
//! services (CloudWatch, EventBridge) publish to an encrypted topic under
//! terms the organisation sets.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/sns` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::remediation::{Remediation, RunbookPermission, RunbookValue, GET_AUTOMATION_EXECUTION};
use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::sns_topic;

/// AWSConfigRemediation-EncryptSNSTopic: the topic encrypted under a key the
/// deployment names.
static REMEDIATION: Remediation = Remediation {
    runbook: "AWSConfigRemediation-EncryptSNSTopic",
    parameters: &[
        ("AutomationAssumeRole", RunbookValue::AutomationRole),
        ("TopicArn", RunbookValue::ResourceId),
        ("KmsKeyArn", RunbookValue::KeyArn),
    ],
    permissions: &[
        atrest_common::automation_permissions!("AWSConfigRemediation-EncryptSNSTopic"),
        GET_AUTOMATION_EXECUTION,
        RunbookPermission {
            actions: &["sns:GetTopicAttributes", "sns:SetTopicAttributes"],
            resources: &["arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:*"],
        },
    ],
    note: "Sets the topic's KmsMasterKeyId to the key the deployment names (its key policy must let SNS and the topic's publishers use it); a topic under another account's or an AWS-managed key is re-encrypted too.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "sns-topic-encrypted",
    description: "SNS topics are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[sns_topic::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kms:DescribeKey",
        "sns:GetTopicAttributes",
        "sns:ListTopics",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 600,
    memory_mb: 128,
    remediation: Some(&REMEDIATION),
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&sns_topic::STORE]);
