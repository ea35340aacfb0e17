//! `AWS::SNS::Topic`: a topic's server-side encryption key (configuration
//! `KmsMasterKeyId`: a key id, key ARN, alias name or alias ARN; tags;
//! live: ListTopics, GetTopicAttributes, ListTagsForResource). No key
//! means the topic's messages are stored unencrypted.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{found, named_key, read_failed, tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::SNS::Topic";

/// What is read of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub kms_master_key_id: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for Topic {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(named_key(
            "Topic",
            self.kms_master_key_id.as_deref(),
            "Topic is not encrypted: it names no KMS key (KmsMasterKeyId).",
        ))
    }

    fn key(&self) -> Option<String> {
        self.kms_master_key_id.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let sns = atrest_common::aws_client!(ctx.aws()?, aws_sdk_sns);
        match sns.list_tags_for_resource().resource_arn(&self.arn).send().await {
            Ok(t) => Ok(Read::Found(
                t.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            )),
            Err(e) => tags_failed(AwsError::from_sdk("sns", "ListTagsForResource", &e), "topic"),
        }
    }
}

/// SNS topics.
pub struct Topics;

pub static STORE: Topics = Topics;

impl Store for Topics {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Topic {
            arn: item
                .str_field(&["TopicArn", "topicArn"])
                .unwrap_or(&item.resource_id)
                .to_owned(),
            kms_master_key_id: item.str_field(&["KmsMasterKeyId", "kmsMasterKeyId"]).map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let sns = atrest_common::aws_client!(ctx.aws()?, aws_sdk_sns);
        let pages = sns.list_topics().into_paginator().send();
        Ok(Box::new(paged(pages, move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("sns", "ListTopics", &e))?;
            Ok(page
                .topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(|arn| {
                    let (sns, arn) = (sns.clone(), arn.to_owned());
                    Listed::later(arn.clone(), async move {
                        let attributes = match sns.get_topic_attributes().topic_arn(&arn).send().await {
                            Ok(a) => a.attributes,
                            Err(e) => {
                                return read_failed(
                                    AwsError::from_sdk("sns", "GetTopicAttributes", &e),
                                    "topic's attributes",
                                )
                            }
                        };
                        let kms_master_key_id = attributes
                            .as_ref()
                            .and_then(|a| a.get("KmsMasterKeyId"))
                            .filter(|k| !k.is_empty())
                            .cloned();
                        Ok(found(Topic {
                            arn,
                            kms_master_key_id,
                            tags: None,
                        }))
                    })
                })
                .collect())
        })))
    }
}
