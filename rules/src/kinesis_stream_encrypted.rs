//! # kinesis-stream-encrypted
//!
//! ## What it checks
//! Every Kinesis data stream is encrypted with a customer-managed KMS key —
//! one of `kmsKeyArns` when given. The key may be named by id, ARN, alias
//! name or alias ARN; aliases are resolved in the evaluated account. The
//! managed rule KINESIS_STREAM_ENCRYPTED accepts the AWS-managed
//! `aws/kinesis` key; this rule does not (unless `allowAwsManagedKeys`).
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
//! Streams carry transactions and clickstreams in flight between systems
//! and keep them for up to a year. A customer-managed key puts every read
//! of the stream under a key policy the organisation controls.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/kinesis` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::kinesis_stream;

pub static SPEC: RuleSpec = RuleSpec {
    id: "kinesis-stream-encrypted",
    description: "Kinesis data streams are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[kinesis_stream::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kinesis:DescribeStreamSummary",
        "kinesis:ListStreams",
        "kms:DescribeKey",
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
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&kinesis_stream::STORE]);
