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

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{
    AwsError, ConfigurationItem, Error, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers, Verdict,
};

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const PARAMETER: &str = "AWS::SSM::Parameter";

const SENSITIVE_NAME_PATTERN: ParamSpec = ParamSpec {
    name: "sensitiveNamePattern",
    kind: ParamKind::Regex { case_insensitive: true },
    default: Some("password|passwd|secret|token|api[_-]?key|private[_-]?key|credential"),
    required: false,
    description: "Case-insensitive regular expression: String and StringList parameters whose names match hold \
                  plaintext secrets.",
};

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
};

/// The rule.
pub struct SsmParameterEncrypted;

pub static RULE: SsmParameterEncrypted = SsmParameterEncrypted;

/// What DescribeParameters tells of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter<'a> {
    pub name: &'a str,
    /// `String`, `StringList` or `SecureString`.
    pub kind: &'a str,
    pub key_id: Option<&'a str>,
}

/// Judges one parameter.
pub async fn judge(p: &Parameter<'_>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    match p.kind {
        "SecureString" => {
            let key = p.key_id.unwrap_or("alias/aws/ssm");
            judge_key(ctx, "SecureString", key).await
        }
        "String" | "StringList" => {
            let sensitive = ctx
                .params
                .regex(SENSITIVE_NAME_PATTERN.name)
                .is_some_and(|r| r.is_match(p.name));
            Ok(if sensitive {
                Verdict::non_compliant(format!(
                    "A {} parameter whose name looks like a secret: a plaintext secret, not a SecureString.",
                    p.kind
                ))
            } else {
                Verdict::not_applicable(format!("A {} parameter whose name is not a secret's.", p.kind))
            })
        }
        other => Ok(Verdict::non_compliant(format!(
            "Unknown parameter type `{other}`: cannot be verified."
        ))),
    }
}

#[async_trait]
impl Rule for SsmParameterEncrypted {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    /// Judges a parameter recorded as an item of type AWS::SSM::Parameter
    /// whose configuration holds DescribeParameters' `Name`, `Type` and
    /// `KeyId` (snapshots the CLI builds; Config itself records none).
    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let Some(kind) = item.str_field(&["Type", "type"]) else {
            return Ok(Verdict::non_compliant(
                "The record does not say the parameter's type: cannot be verified.",
            ));
        };
        let parameter = Parameter {
            name: item.str_field(&["Name", "name"]).unwrap_or(&item.resource_id),
            kind,
            key_id: item.str_field(&["KeyId", "keyId"]),
        };
        judge(&parameter, ctx).await
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let ssm = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ssm);
        let mut pages = ssm.describe_parameters().max_results(50).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ssm", "DescribeParameters", &e))?;
            let n = page.parameters().len();
            for (i, p) in page.parameters().iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(name) = p.name() else { continue };
                if name.chars().count() > atrest_common::evaluation::MAX_RESOURCE_ID_CHARS {
                    tracing::warn!(
                        parameter_name_chars = name.chars().count(),
                        "parameter name longer than a Config resource id: not evaluated"
                    );
                    continue;
                }
                let parameter = Parameter {
                    name,
                    kind: p.r#type().map(|t| t.as_str()).unwrap_or("unknown"),
                    key_id: p.key_id(),
                };
                out.push(PARAMETER, name, judge(&parameter, ctx).await?).await?;
            }
        }
        Ok(())
    }
}
