//! # secretsmanager-secret-encrypted
//!
//! ## What it checks
//! Every Secrets Manager secret is encrypted with a customer-managed KMS
//! key — one of `kmsKeyArns` when given. A secret that names no key is
//! encrypted with the AWS-managed `aws/secretsmanager`. The secrets are
//! listed with ListSecrets, which returns their keys but never their
//! values: no secret value is ever read (no
//! `secretsmanager:GetSecretValue`). The managed rule
//! SECRETSMANAGER_USING_CMK checks for a key but not whose it is.
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
//! Secrets are the credentials to the systems that hold account data. With
//! a customer-managed key, reading a secret needs both Secrets Manager
//! permissions and the key's policy, so the organisation decides who may
//! decrypt it — and a secret shared with another account can only be shared
//! under such a key.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/secretsmanager` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources::secretsmanager_secret;

pub static SPEC: RuleSpec = RuleSpec {
    id: "secretsmanager-secret-encrypted",
    description: "Secrets Manager secrets are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[secretsmanager_secret::TYPE],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kms:DescribeKey",
        "secretsmanager:ListSecrets",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5", "8.2.1"],
        v4_0: &["3.5.1", "3.6.1", "8.3.2"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&secretsmanager_secret::STORE]);
