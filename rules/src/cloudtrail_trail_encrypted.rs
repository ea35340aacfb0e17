//! # cloudtrail-trail-encrypted
//!
//! ## What it checks
//! Every CloudTrail trail this account owns encrypts its log files with a
//! customer-managed KMS key (SSE-KMS) — one of `kmsKeyArns` when given. A
//! trail without `kmsKeyId` relies on SSE-S3 alone. Only trails homed in
//! the evaluated region and owned by the evaluated account are swept: an
//! organisation trail is judged in the management account. The managed rule
//! CLOUD_TRAIL_ENCRYPTION_ENABLED checks for a key but not whose it is.
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
//! The trail is the audit record PCI DSS requirement 10 asks to protect
//! from modification and unauthorised reading. With a customer-managed key,
//! reading the log files needs the key's policy as well as the bucket's, so
//! the people who administer the bucket cannot read the audit trail of
//! their own actions unless the key allows it.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept an AWS-managed key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::cloudtrail_trail;

pub static SPEC: RuleSpec = RuleSpec {
    id: "cloudtrail-trail-encrypted",
    description: "CloudTrail trails encrypt their log files with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[cloudtrail_trail::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "cloudtrail:DescribeTrails",
        "kms:DescribeKey",
    ],
    pci_dss: PciDss {
        v3_2_1: &["10.5", "10.5.2"],
        v4_0: &["10.3.1", "10.3.2"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&cloudtrail_trail::STORE]);
