//! # ebs-volume-encrypted
//!
//! ## What it checks
//! Every EBS volume is encrypted with a customer-managed KMS key and, when
//! `kmsKeyArns` is given, with one of those keys (aliases are resolved to key
//! ARNs before comparing). Unlike the managed rule ENCRYPTED_VOLUMES, it
//! covers unattached volumes too, and rejects the AWS-managed `aws/ebs` key.
//!
//! The key must be customer-managed and owned by the evaluated account or
//! one of `trustedKeyAccounts`. Its state is judged by `kms-key-usable`
//! alone: here a customer-managed key that is disabled or pending deletion
//! still counts, since the data is encrypted under a key the organisation
//! controls.
//!
//! COMPLIANT proves: the data is encrypted under a customer-managed key of a
//! trusted account (one of `kmsKeyArns` when given). It does not prove:
//! that the key is usable (`kms-key-usable`) or its policy sound (the
//! `kms-key-policy-*` rules).
//!
//! ## Why
//! A customer-managed key puts access to the data under a key policy the
//! organisation writes, audits and can revoke; the AWS-managed key's policy
//! lets any principal of the account that may use EBS decrypt through it
//! (AWS KMS best practices: "use customer managed keys for sensitive
//! data"). PCI DSS asks that stored account data be rendered unreadable and
//! that access to the keys be restricted.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept AWS-managed keys.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The volume was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources;
use crate::resources::ebs_volume::TYPE as VOLUME;

pub static SPEC: RuleSpec = RuleSpec {
    id: "ebs-volume-encrypted",
    description: "EBS volumes are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[VOLUME],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &["ec2:DescribeVolumes", "kms:DescribeKey"],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&resources::ebs_volume::STORE]);
