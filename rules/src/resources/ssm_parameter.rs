//! `AWS::SSM::Parameter`: a parameter's type and key (DescribeParameters'
//! `Name`, `Type`, `KeyId` — never its value). Config does not record
//! parameters; items of this type come from snapshots the CLI builds.

use async_trait::async_trait;
use atrest_common::evaluation::MAX_RESOURCE_ID_CHARS;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext, Verdict};

use super::{tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::SSM::Parameter";

/// `sensitiveNamePattern`: plaintext parameters whose names say they hold secrets.
pub const SENSITIVE_NAME_PATTERN: ParamSpec = ParamSpec {
    name: "sensitiveNamePattern",
    kind: ParamKind::Regex { case_insensitive: true },
    default: Some("password|passwd|secret|token|api[_-]?key|private[_-]?key|credential"),
    required: false,
    description: "Case-insensitive regular expression: String and StringList parameters whose names match hold \
                  plaintext secrets.",
};

/// What DescribeParameters (or the item) tells of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    /// `String`, `StringList` or `SecureString`; `None` when the record
    /// does not say.
    pub kind: Option<String>,
    pub key_id: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for Parameter {
    async fn protection(&self, ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        let Some(kind) = self.kind.as_deref() else {
            return Ok(Protection::Settled(Verdict::non_compliant(
                "The record does not say the parameter's type: cannot be verified.",
            )));
        };
        Ok(match kind {
            "SecureString" => Protection::Key {
                subject: "SecureString".to_owned(),
                key: self.key_id.clone().unwrap_or_else(|| "alias/aws/ssm".to_owned()),
            },
            "String" | "StringList" => {
                let sensitive = ctx
                    .params
                    .regex(SENSITIVE_NAME_PATTERN.name)
                    .is_some_and(|r| r.is_match(&self.name));
                Protection::Settled(if sensitive {
                    Verdict::non_compliant(format!(
                        "A {kind} parameter whose name looks like a secret: a plaintext secret, not a SecureString."
                    ))
                } else {
                    Verdict::not_applicable(format!("A {kind} parameter whose name is not a secret's."))
                })
            }
            other => Protection::Settled(Verdict::non_compliant(format!(
                "Unknown parameter type `{other}`: cannot be verified."
            ))),
        })
    }

    fn key(&self) -> Option<String> {
        (self.kind.as_deref() == Some("SecureString"))
            .then(|| self.key_id.clone().unwrap_or_else(|| "alias/aws/ssm".to_owned()))
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        use aws_sdk_ssm::types::ResourceTypeForTagging;
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let ssm = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ssm);
        let listed = ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(&self.name)
            .send()
            .await;
        match listed {
            Ok(t) => Ok(Read::Found(
                t.tag_list()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            )),
            Err(e) => tags_failed(AwsError::from_sdk("ssm", "ListTagsForResource", &e), "parameter"),
        }
    }
}

/// SSM parameters.
pub struct Parameters;

pub static STORE: Parameters = Parameters;

impl Store for Parameters {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Parameter {
            name: item
                .str_field(&["Name", "name"])
                .unwrap_or(&item.resource_id)
                .to_owned(),
            kind: item.str_field(&["Type", "type"]).map(str::to_owned),
            key_id: item.str_field(&["KeyId", "keyId"]).map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let ssm = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ssm);
        let pages = ssm.describe_parameters().max_results(50).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("ssm", "DescribeParameters", &e))?;
            Ok(page
                .parameters()
                .iter()
                .filter_map(|p| {
                    let name = p.name()?;
                    if name.chars().count() > MAX_RESOURCE_ID_CHARS {
                        tracing::warn!(
                            parameter_name_chars = name.chars().count(),
                            "parameter name longer than a Config resource id: not evaluated"
                        );
                        return None;
                    }
                    let parameter = Parameter {
                        name: name.to_owned(),
                        kind: Some(p.r#type().map(|t| t.as_str()).unwrap_or("unknown").to_owned()),
                        key_id: p.key_id().map(str::to_owned),
                        tags: None,
                    };
                    Some(Listed::ready(name, parameter))
                })
                .collect())
        })))
    }

    /// Plaintext parameters have no key whose tags could align: a tag
    /// sweep passes them over (thousands of them, one call each).
    fn sweeps_unkeyed(&self) -> bool {
        false
    }
}
