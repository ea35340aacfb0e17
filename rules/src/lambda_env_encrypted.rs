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
//! A customer-managed key that is disabled or pending deletion still counts
//! as customer-managed here: the data is encrypted under a key the
//! organisation controls. The key's own state is judged by
//! `kms-key-not-pending-deletion`.
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

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS};

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
    resource_types: &[FUNCTION],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, REQUIRE_KEY_WITHOUT_ENVIRONMENT],
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
    pub variables: usize,
    pub kms_key_arn: Option<String>,
}

/// Counts the variables of an environment; the values are not copied.
fn count(variables: Option<&std::collections::HashMap<String, String>>) -> usize {
    variables.map_or(0, |v| v.len())
}

/// Judges one function.
pub async fn judge(f: &Function, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    if f.variables == 0 && !ctx.params.bool(REQUIRE_KEY_WITHOUT_ENVIRONMENT.name) {
        return Ok(Verdict::not_applicable("The function has no environment variables."));
    }
    let subject = if f.variables == 0 {
        "The function (no environment variables)".to_owned()
    } else {
        format!("The function's {} environment variable(s)", f.variables)
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
            Ok(out) => count(out.environment().and_then(|e| e.variables())),
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
                        variables: count(f.environment().and_then(|e| e.variables())),
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
