//! `AWS::SQS::Queue`: a queue's server-side encryption (configuration
//! `KmsMasterKeyId`, `SqsManagedSseEnabled`, tags; live: ListQueues,
//! GetQueueAttributes, ListQueueTags). SSE-SQS encrypts with keys SQS owns:
//! not a customer-managed key. Config names a queue by its URL.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};
use aws_sdk_sqs::types::QueueAttributeName;

use super::{found, read_failed, refused, tags_failed, under_key, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::SQS::Queue";

/// What is read of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub url: String,
    pub kms_master_key_id: Option<String>,
    /// SSE-SQS; `None` when the record does not say.
    pub sqs_managed_sse: Option<bool>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for Queue {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(match (&self.kms_master_key_id, self.sqs_managed_sse) {
            (Some(key), _) => under_key("Queue", key),
            (None, Some(true)) => {
                refused("Queue is encrypted with SSE-SQS, keys SQS owns, not a customer-managed key (KmsMasterKeyId).")
            }
            (None, Some(false)) => refused("Queue is not encrypted: it names no KMS key (KmsMasterKeyId)."),
            (None, None) => refused(
                "The record names no KMS key for the queue and does not say whether SSE-SQS is on: \
                 no customer-managed key can be verified.",
            ),
        })
    }

    fn key(&self) -> Option<String> {
        self.kms_master_key_id.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let sqs = atrest_common::aws_client!(ctx.aws()?, aws_sdk_sqs);
        match sqs.list_queue_tags().queue_url(&self.url).send().await {
            Ok(t) => Ok(Read::Found(t.tags().cloned().unwrap_or_default().into_iter().collect())),
            Err(e) => tags_failed(AwsError::from_sdk("sqs", "ListQueueTags", &e), "queue"),
        }
    }
}

/// SQS queues.
pub struct Queues;

pub static STORE: Queues = Queues;

impl Store for Queues {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Queue {
            url: item
                .str_field(&["QueueUrl", "queueUrl"])
                .unwrap_or(&item.resource_id)
                .to_owned(),
            kms_master_key_id: item.str_field(&["KmsMasterKeyId", "kmsMasterKeyId"]).map(str::to_owned),
            sqs_managed_sse: item.bool_field(&["SqsManagedSseEnabled", "sqsManagedSseEnabled"]),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let sqs = atrest_common::aws_client!(ctx.aws()?, aws_sdk_sqs);
        let pages = sqs.list_queues().max_results(1000).into_paginator().send();
        Ok(Box::new(paged(pages, move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("sqs", "ListQueues", &e))?;
            Ok(page
                .queue_urls()
                .iter()
                .map(|url| {
                    let (sqs, url) = (sqs.clone(), url.clone());
                    Listed::later(url.clone(), async move {
                        let asked = sqs
                            .get_queue_attributes()
                            .queue_url(&url)
                            .attribute_names(QueueAttributeName::KmsMasterKeyId)
                            .attribute_names(QueueAttributeName::SqsManagedSseEnabled)
                            .send()
                            .await;
                        let attributes = match asked {
                            Ok(a) => a.attributes.unwrap_or_default(),
                            Err(e) => {
                                return read_failed(
                                    AwsError::from_sdk("sqs", "GetQueueAttributes", &e),
                                    "queue's attributes",
                                )
                            }
                        };
                        let get = |name: QueueAttributeName| attributes.get(&name).filter(|v| !v.is_empty());
                        Ok(found(Queue {
                            kms_master_key_id: get(QueueAttributeName::KmsMasterKeyId).cloned(),
                            // Absent counts as off: either way, no customer key.
                            sqs_managed_sse: Some(
                                get(QueueAttributeName::SqsManagedSseEnabled).is_some_and(|v| v == "true"),
                            ),
                            url,
                            tags: None,
                        }))
                    })
                })
                .collect())
        })))
    }
}
