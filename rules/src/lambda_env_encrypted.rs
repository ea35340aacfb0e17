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

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{
    AwsError, AwsErrorKind, ConfigurationItem, Error, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers, Verdict,
};

use aws_sdk_lambda::types::EnvironmentResponse;

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const FUNCTION: &str = "AWS::Lambda::Function";

const REQUIRE_KEY_WITHOUT_ENVIRONMENT: ParamSpec = ParamSpec {
    name: "requireKeyWithoutEnvironment",
    kind: ParamKind::Bool,
    default: Some("false"),
    required: false,
    description: "Also require a customer-managed KMSKeyArn on functions without environment variables.",
};

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
};

/// The rule.
pub struct LambdaEnvEncrypted;

pub static RULE: LambdaEnvEncrypted = LambdaEnvEncrypted;

/// What the judgement needs of a function: how many variables (never what
/// they hold) and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub variables: Variables,
    pub kms_key_arn: Option<String>,
}

/// What Lambda says of a function's environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variables {
    /// This many (values dropped).
    Count(usize),
    /// Lambda could not decrypt them (`Environment.Error`, with its error
    /// code): the variables exist, how many is unknown.
    Unreadable(String),
}

/// Counts the variables of an environment; the values are not copied. An
/// `Error` in the environment (the caller may not decrypt, or the key is
/// disabled) means variables exist that could not be read.
fn count(environment: Option<&EnvironmentResponse>) -> Variables {
    match environment {
        Some(env) if env.error().is_some() => Variables::Unreadable(
            env.error()
                .and_then(|e| e.error_code())
                .unwrap_or("an unnamed error")
                .to_owned(),
        ),
        Some(env) => Variables::Count(env.variables().map_or(0, |v| v.len())),
        None => Variables::Count(0),
    }
}

/// Judges one function.
pub async fn judge(f: &Function, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    let subject = match &f.variables {
        Variables::Count(0) if !ctx.params.bool(REQUIRE_KEY_WITHOUT_ENVIRONMENT.name) => {
            return Ok(Verdict::not_applicable("The function has no environment variables."))
        }
        Variables::Count(0) => "The function (no environment variables)".to_owned(),
        Variables::Count(n) => format!("The function's {n} environment variable(s)"),
        Variables::Unreadable(code) => {
            format!("The function's environment variables (Lambda reports {code} reading them)")
        }
    };
    match &f.kms_key_arn {
        Some(key) => judge_key(ctx, &subject, key).await,
        None if ctx.params.bool(ALLOW_AWS_MANAGED_KEYS.name) && ctx.params.list(KMS_KEY_ARNS.name).is_empty() => Ok(
            Verdict::compliant(format!("{subject}: Lambda's AWS-managed key (allowed).")),
        ),
        None => Ok(Verdict::non_compliant(format!(
            "{subject}: no KMSKeyArn, so Lambda's AWS-managed key encrypts them, not a customer-managed key."
        ))),
    }
}

#[async_trait]
impl Rule for LambdaEnvEncrypted {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let recorded_key = item
            .str_field(&["kmsKeyArn", "kmskeyArn", "KMSKeyArn", "kMSKeyArn"])
            .map(str::to_owned);
        let name = item
            .arn
            .as_deref()
            .or(item.str_field(&["functionArn", "functionName"]))
            .unwrap_or(&item.resource_id);
        let lambda = atrest_common::aws_client!(ctx.aws()?, aws_sdk_lambda);
        // Config does not record environment variables: ask for the count.
        let variables = match lambda.get_function_configuration().function_name(name).send().await {
            Ok(out) => count(out.environment()),
            Err(e) => {
                let err = AwsError::from_sdk("lambda", "GetFunctionConfiguration", &e);
                return match err.kind {
                    AwsErrorKind::AccessDenied | AwsErrorKind::NotFound => Ok(Verdict::non_compliant(format!(
                        "Whether the function has environment variables could not be verified: {}.",
                        err.message
                    ))),
                    _ => Err(err.into()),
                };
            }
        };
        let function = Function {
            variables,
            kms_key_arn: recorded_key,
        };
        judge(&function, ctx).await
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let lambda = atrest_common::aws_client!(ctx.aws()?, aws_sdk_lambda);
        let mut pages = lambda.list_functions().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("lambda", "ListFunctions", &e))?;
            // Keep names, counts and keys; the page, values and all, goes now.
            let functions: Vec<(String, Function)> = page
                .functions()
                .iter()
                .filter_map(|f| {
                    let name = f.function_name()?.to_owned();
                    let function = Function {
                        variables: count(f.environment()),
                        kms_key_arn: f.kms_key_arn().filter(|k| !k.is_empty()).map(str::to_owned),
                    };
                    Some((name, function))
                })
                .collect();
            drop(page);
            let n = functions.len();
            for (i, (name, function)) in functions.into_iter().enumerate() {
                out.ensure_time(n - i).await?;
                out.push(FUNCTION, &name, judge(&function, ctx).await?).await?;
            }
        }
        Ok(())
    }
}
