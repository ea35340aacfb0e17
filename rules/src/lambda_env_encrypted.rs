//! # lambda-env-encrypted
//!
//! ## What it checks
//! Every Lambda function that has environment variables encrypts them with
//! a customer-managed KMS key (`KMSKeyArn`) — one of `kmsKeyArns` when
//! given. Config does not record environment variables, so the rule asks
//! Lambda how many there are (GetFunctionConfiguration; ListFunctions when
//! sweeping), keeps the count only, and drops the values at once: they are
//! never logged, stored or reported.
//!
//! When Lambda reports an `Environment.Error` instead of the variables
//! (the caller may not decrypt them, or their key is disabled), the
//! function has variables, and its key is judged as for any other.
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
//! Environment variables often carry connection strings and tokens. Without
//! `KMSKeyArn`, Lambda encrypts them with its AWS-managed key, whose use no
//! key policy of the organisation restricts; with a customer-managed key,
//! reading them needs `kms:Decrypt` on a key the organisation controls.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept Lambda's AWS-managed key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//! - `requireKeyWithoutEnvironment` (default `false`): also require a
//!   customer-managed key on functions without environment variables.
//!
//! ## NOT_APPLICABLE when
//! The function has no environment variables (unless
//! `requireKeyWithoutEnvironment`), was deleted, is no longer recorded, or
//! left the rule's scope.

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources;
use crate::resources::lambda_function::{REQUIRE_KEY_WITHOUT_ENVIRONMENT, TYPE as FUNCTION};

pub static SPEC: RuleSpec = RuleSpec {
    id: "lambda-env-encrypted",
    description: "Lambda functions with environment variables encrypt them with a customer-managed KMS key \
                  (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[FUNCTION],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[
        KMS_KEY_ARNS,
        ALLOW_AWS_MANAGED_KEYS,
        TRUSTED_KEY_ACCOUNTS,
        REQUIRE_KEY_WITHOUT_ENVIRONMENT,
    ],
    own_iam_actions: &[
        "kms:DescribeKey",
        "lambda:GetFunctionConfiguration",
        "lambda:ListFunctions",
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
pub static RULE: EncryptionRule = EncryptionRule::new(&SPEC, &[&resources::lambda_function::STORE]);
