//! # ssm-parameter-encrypted
//!
//! ## What it checks
//! Every SSM parameter that holds a secret is a `SecureString` encrypted
//! with a customer-managed KMS key — one of `kmsKeyArns` when given. A
//! `String` or `StringList` parameter whose name looks like a secret
//! (`sensitiveNamePattern`) is a plaintext secret. Config does not record
//! SSM parameters: the rule is periodic and lists them with
//! DescribeParameters, which returns names, types and keys but never values.
//! No parameter value is ever read (no `ssm:GetParameter*`).
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
//! A SecureString under the AWS-managed `aws/ssm` key can be decrypted by
//! any principal of the account allowed to read the parameter; under a
//! customer-managed key, reading it also needs `kms:Decrypt` on a key whose
//! policy the organisation controls. A secret stored as `String` is not
//! encrypted with KMS at all.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept `alias/aws/ssm`.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//! - `sensitiveNamePattern` (case-insensitive regular expression; default
//!   `password|passwd|secret|token|api[_-]?key|private[_-]?key|credential`):
//!   names of `String` / `StringList` parameters that must not exist in
//!   plaintext.
//!
//! ## NOT_APPLICABLE when
//! A `String` or `StringList` parameter's name does not match
//! `sensitiveNamePattern`.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources;
use crate::resources::ssm_parameter::{SENSITIVE_NAME_PATTERN, TYPE as PARAMETER};

pub static SPEC: RuleSpec = RuleSpec {
    id: "ssm-parameter-encrypted",
    description: "SSM parameters holding secrets are SecureStrings encrypted with a customer-managed KMS key \
                  (optionally one of kmsKeyArns); no plaintext parameter has a secret's name.",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[PARAMETER],
    triggers: Triggers {
        change: false,
        periodic: true,
    },
    parameters: &[
        KMS_KEY_ARNS,
        ALLOW_AWS_MANAGED_KEYS,
        TRUSTED_KEY_ACCOUNTS,
        SENSITIVE_NAME_PATTERN,
    ],
    own_iam_actions: &["kms:DescribeKey", "ssm:DescribeParameters"],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 600,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&resources::ssm_parameter::STORE]);
