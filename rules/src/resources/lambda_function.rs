//! `AWS::Lambda::Function`: the key of a function's environment variables
//! (configuration `kmsKeyArn`, tags; live: ListFunctions, ListTags). Config
//! does not record the variables: how many there are is asked of Lambda
//! (GetFunctionConfiguration), and their values are dropped the moment
//! they are counted.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, AwsErrorKind, ConfigurationItem, Error, RuleContext, Verdict};
use aws_sdk_lambda::types::EnvironmentResponse;

use super::{tags_failed, Listed, Protected, Protection, Read, Store, Tags};
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS};

pub const TYPE: &str = "AWS::Lambda::Function";

/// `requireKeyWithoutEnvironment`.
pub const REQUIRE_KEY_WITHOUT_ENVIRONMENT: ParamSpec = ParamSpec {
    name: "requireKeyWithoutEnvironment",
    kind: ParamKind::Bool,
    default: Some("false"),
    required: false,
    description: "Also require a customer-managed KMSKeyArn on functions without environment variables.",
};

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

/// What is read of a function: how many variables (never what they hold),
/// its key and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its name, the Config resource id.
    pub name: String,
    /// Its ARN, or whatever the record names it by.
    pub handle: String,
    /// `None` when not known yet (Config does not record them).
    pub variables: Option<Variables>,
    pub kms_key_arn: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

impl Function {
    /// The variables: as listed, else asked of Lambda. `Err(verdict)` when
    /// they could not be.
    async fn variables(&self, ctx: &RuleContext<'_>) -> Result<Result<Variables, Verdict>, Error> {
        if let Some(v) = &self.variables {
            return Ok(Ok(v.clone()));
        }
        let lambda = atrest_common::aws_client!(ctx.aws()?, aws_sdk_lambda);
        match lambda
            .get_function_configuration()
            .function_name(&self.handle)
            .send()
            .await
        {
            Ok(out) => Ok(Ok(count(out.environment()))),
            Err(e) => {
                let err = AwsError::from_sdk("lambda", "GetFunctionConfiguration", &e);
                match err.kind {
                    AwsErrorKind::AccessDenied | AwsErrorKind::NotFound => Ok(Err(Verdict::non_compliant(format!(
                        "Whether the function has environment variables could not be verified: {}.",
                        err.message
                    )))),
                    _ => Err(err.into()),
                }
            }
        }
    }
}

#[async_trait]
impl Protected for Function {
    async fn protection(&self, ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        let variables = match self.variables(ctx).await? {
            Ok(v) => v,
            Err(verdict) => return Ok(Protection::Settled(verdict)),
        };
        let subject = match &variables {
            Variables::Count(0) if !ctx.params.bool(REQUIRE_KEY_WITHOUT_ENVIRONMENT.name) => {
                return Ok(Protection::Settled(Verdict::not_applicable(
                    "The function has no environment variables.",
                )))
            }
            Variables::Count(0) => "The function (no environment variables)".to_owned(),
            Variables::Count(n) => format!("The function's {n} environment variable(s)"),
            Variables::Unreadable(code) => {
                format!("The function's environment variables (Lambda reports {code} reading them)")
            }
        };
        Ok(match &self.kms_key_arn {
            Some(key) => Protection::Key {
                subject,
                key: key.clone(),
            },
            None if ctx.params.bool(ALLOW_AWS_MANAGED_KEYS.name) && ctx.params.list(KMS_KEY_ARNS.name).is_empty() => {
                Protection::Settled(Verdict::compliant(format!(
                    "{subject}: Lambda's AWS-managed key (allowed)."
                )))
            }
            None => Protection::Settled(Verdict::non_compliant(format!(
                "{subject}: no KMSKeyArn, so Lambda's AWS-managed key encrypts them, not a customer-managed key."
            ))),
        })
    }

    fn key(&self) -> Option<String> {
        self.kms_key_arn.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let lambda = atrest_common::aws_client!(ctx.aws()?, aws_sdk_lambda);
        match lambda.list_tags().resource(&self.handle).send().await {
            Ok(t) => Ok(Read::Found(
                t.tags()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            )),
            Err(e) => tags_failed(AwsError::from_sdk("lambda", "ListTags", &e), "function"),
        }
    }
}

/// Lambda functions.
pub struct Functions;

pub static STORE: Functions = Functions;

impl Store for Functions {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        let handle = item
            .arn
            .as_deref()
            .or(item.str_field(&["functionArn", "functionName"]))
            .unwrap_or(&item.resource_id);
        Box::new(Function {
            name: item.resource_id.clone(),
            handle: handle.to_owned(),
            variables: None,
            kms_key_arn: item
                .str_field(&["kmsKeyArn", "kmskeyArn", "KMSKeyArn", "kMSKeyArn"])
                .map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let lambda = atrest_common::aws_client!(ctx.aws()?, aws_sdk_lambda);
        Ok(Box::new(paged(
            lambda.list_functions().into_paginator().send(),
            |page| {
                let page = page.map_err(|e| AwsError::from_sdk("lambda", "ListFunctions", &e))?;
                // Names, counts and keys only: the page, values and all, goes
                // when this returns.
                Ok(page
                    .functions()
                    .iter()
                    .filter_map(|f| {
                        let name = f.function_name()?.to_owned();
                        let function = Function {
                            handle: f.function_arn().unwrap_or(&name).to_owned(),
                            name: name.clone(),
                            variables: Some(count(f.environment())),
                            kms_key_arn: f.kms_key_arn().filter(|k| !k.is_empty()).map(str::to_owned),
                            tags: None,
                        };
                        Some(Listed::ready(name, function))
                    })
                    .collect())
            },
        )))
    }
}
