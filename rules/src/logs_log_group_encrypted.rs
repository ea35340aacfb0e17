//! # logs-log-group-encrypted
//!
//! ## What it checks
//! Every CloudWatch Logs log group is encrypted with a customer-managed KMS
//! key — one of `kmsKeyArns` when given. A log group without `kmsKeyId` is
//! encrypted with keys CloudWatch Logs owns. Config does not record log
//! groups: the rule is periodic and lists them with DescribeLogGroups. The
//! managed rule CLOUDWATCH_LOG_GROUP_ENCRYPTED checks for a key but not
//! whose it is.
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
//! Application logs are where account data leaks to, and audit logs are the
//! evidence PCI DSS requirement 10 asks to protect. A customer-managed key
//! makes reading the logs subject to a key policy the organisation
//! controls.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept an AWS-managed key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! Never: the rule is periodic and judges the log groups DescribeLogGroups
//! lists.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::logs_log_group;

pub static SPEC: RuleSpec = RuleSpec {
    id: "logs-log-group-encrypted",
    description: "CloudWatch Logs log groups are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[logs_log_group::TYPE],
    triggers: Triggers {
        change: false,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kms:DescribeKey",
        "logs:DescribeLogGroups",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "10.5"],
        v4_0: &["3.5.1", "10.3.2"],
    },
    timeout_seconds: 900,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&logs_log_group::STORE]);
