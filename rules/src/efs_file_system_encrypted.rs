//! # efs-file-system-encrypted
//!
//! ## What it checks
//! Every EFS file system is encrypted at rest with a customer-managed KMS
//! key — one of `kmsKeyArns` when given. The managed rule
//! EFS_ENCRYPTED_CHECK accepts the AWS-managed `aws/elasticfilesystem` key
//! unless given a key id; this rule does not accept it (unless
//! `allowAwsManagedKeys`), and checks the key's owner.
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
//! Shared file systems hold exports, reports and application data. A
//! customer-managed key puts every read of the file system and its backups
//! under a key policy the organisation controls and can revoke. Encryption
//! at rest of EFS can only be chosen when the file system is created: a
//! file system without it must be replaced.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/elasticfilesystem` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::efs_file_system;

pub static SPEC: RuleSpec = RuleSpec {
    id: "efs-file-system-encrypted",
    description: "EFS file systems are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[efs_file_system::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "elasticfilesystem:DescribeFileSystems",
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
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&efs_file_system::STORE]);
