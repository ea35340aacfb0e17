//! `AWS::Logs::LogGroup`: the KMS key of a log group (DescribeLogGroups'
//! `kmsKeyId`; tags: ListTagsForResource). No key means the keys CloudWatch
//! Logs owns. Config does not record log groups: items of this type come
//! from snapshots the CLI builds, and Config names them by their name.

use async_trait::async_trait;
use atrest_common::evaluation::MAX_RESOURCE_ID_CHARS;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{named_key, tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::Logs::LogGroup";

/// What is read of a log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// Its ARN without the trailing `:*` (for its tags), when known.
    pub arn: Option<String>,
    pub kms_key_id: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for LogGroup {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(named_key(
            "Log group",
            self.kms_key_id.as_deref(),
            "Log group is encrypted with keys CloudWatch Logs owns, not a customer-managed key.",
        ))
    }

    fn key(&self) -> Option<String> {
        self.kms_key_id.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let Some(arn) = &self.arn else {
            return Ok(Read::Unreadable(
                "The log group's ARN is unknown: its tags could not be read.".to_owned(),
            ));
        };
        let logs = atrest_common::aws_client!(ctx.aws()?, aws_sdk_cloudwatchlogs);
        match logs.list_tags_for_resource().resource_arn(arn).send().await {
            Ok(t) => Ok(Read::Found(t.tags().cloned().unwrap_or_default().into_iter().collect())),
            Err(e) => tags_failed(AwsError::from_sdk("logs", "ListTagsForResource", &e), "log group"),
        }
    }
}

/// CloudWatch Logs log groups.
pub struct LogGroups;

pub static STORE: LogGroups = LogGroups;

impl Store for LogGroups {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(LogGroup {
            arn: item
                .str_field(&["logGroupArn", "LogGroupArn"])
                .or(item.arn.as_deref())
                .map(|a| a.trim_end_matches(":*").to_owned()),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId"]).map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let logs = atrest_common::aws_client!(ctx.aws()?, aws_sdk_cloudwatchlogs);
        let pages = logs.describe_log_groups().limit(50).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("logs", "DescribeLogGroups", &e))?;
            Ok(page
                .log_groups()
                .iter()
                .filter_map(|g| {
                    let name = g.log_group_name()?;
                    if name.chars().count() > MAX_RESOURCE_ID_CHARS {
                        tracing::warn!(
                            log_group_name_chars = name.chars().count(),
                            "log group name longer than a Config resource id: not evaluated"
                        );
                        return None;
                    }
                    let group = LogGroup {
                        arn: g
                            .log_group_arn()
                            .or(g.arn())
                            .map(|a| a.trim_end_matches(":*").to_owned()),
                        kms_key_id: g.kms_key_id().filter(|k| !k.is_empty()).map(str::to_owned),
                        tags: None,
                    };
                    Some(Listed::ready(name, group))
                })
                .collect())
        })))
    }

    /// Log groups without a key of their own are many (one per function,
    /// job, ...) and have no key whose tags could align: a tag sweep passes
    /// them over.
    fn sweeps_unkeyed(&self) -> bool {
        false
    }
}
