//! # sqs-queue-encrypted
//!
//! ## What it checks
//! Every SQS queue encrypts its messages with a customer-managed KMS key
//! (`KmsMasterKeyId`) — one of `kmsKeyArns` when given. SSE-SQS
//! (`SqsManagedSseEnabled`) encrypts with keys SQS owns, which no key
//! policy of the organisation governs: NON_COMPLIANT. AWS has no managed
//! rule for this.
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
//! Queues buffer payment and order messages between systems. A
//! customer-managed key puts every receive under a key policy the
//! organisation controls; SSE-SQS protects the disks, not who may read.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/sqs` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::sqs_queue;

pub static SPEC: RuleSpec = RuleSpec {
    id: "sqs-queue-encrypted",
    description: "SQS queues are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns), not SSE-SQS.",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[sqs_queue::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kms:DescribeKey",
        "sqs:GetQueueAttributes",
        "sqs:ListQueues",
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
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&sqs_queue::STORE]);
