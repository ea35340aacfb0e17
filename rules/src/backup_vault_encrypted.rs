//! # backup-vault-encrypted
//!
//! ## What it checks
//! Every AWS Backup vault encrypts its recovery points with a
//! customer-managed KMS key (`EncryptionKeyArn`) — one of `kmsKeyArns` when
//! given. The managed rule BACKUP_RECOVERY_POINT_ENCRYPTED checks that
//! recovery points are encrypted, with any key; this rule judges the
//! vault's key, which every recovery point of a service without its own
//! encryption takes.
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
//! Backups are copies of every store of account data, kept longest and
//! restored anywhere. A customer-managed key puts every restore under a key
//! policy the organisation controls; the key of a vault can only be chosen
//! when it is created.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/backup` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::backup_vault;

pub static SPEC: RuleSpec = RuleSpec {
    id: "backup-vault-encrypted",
    description: "AWS Backup vaults are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[backup_vault::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "backup:ListBackupVaults",
        "kms:DescribeKey",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&backup_vault::STORE]);
