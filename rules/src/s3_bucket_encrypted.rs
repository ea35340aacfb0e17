//! # s3-bucket-encrypted
//!
//! ## What it checks
//! Every S3 bucket's default encryption is SSE-KMS (`aws:kms`) or DSSE-KMS
//! (`aws:kms:dsse`) with a customer-managed KMS key — one of `kmsKeyArns`
//! when given — and, when `requireBucketKey` is `true`, an SSE-KMS bucket
//! uses an S3 Bucket Key. SSE-S3 (`AES256`), the default of every bucket
//! since January 2023, does not pass: its keys are not under the
//! organisation's control. The key must be named by its full key ARN: S3
//! resolves a key id, an alias or an alias ARN in the account of whoever
//! writes the object, so a cross-account writer's objects would land under
//! a key of its own.
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
//! With a customer-managed key, reading an object needs both S3 and KMS
//! permissions, and the key policy — which the organisation writes and
//! audits — can cut off access to every object at once (AWS KMS best
//! practices). PCI DSS asks that stored account data be rendered unreadable
//! and that access to keys be restricted.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/s3` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//! - `requireBucketKey` (default `false`): SSE-KMS buckets must enable an
//!   S3 Bucket Key (DSSE-KMS does not support bucket keys and is exempt).
//!
//! ## NOT_APPLICABLE when
//! The bucket was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources;
use crate::resources::s3_bucket::{REQUIRE_BUCKET_KEY, TYPE as BUCKET};

pub static SPEC: RuleSpec = RuleSpec {
    id: "s3-bucket-encrypted",
    description: "S3 buckets encrypt by default with SSE-KMS or DSSE-KMS under a customer-managed KMS key \
                  (optionally one of kmsKeyArns, with an S3 Bucket Key).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[BUCKET],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[
        KMS_KEY_ARNS,
        ALLOW_AWS_MANAGED_KEYS,
        TRUSTED_KEY_ACCOUNTS,
        REQUIRE_BUCKET_KEY,
    ],
    own_iam_actions: &[
        "kms:DescribeKey",
        "s3:GetEncryptionConfiguration",
        "s3:ListAllMyBuckets",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 600,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&resources::s3_bucket::STORE]);
