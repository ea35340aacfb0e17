//! `AWS::Kinesis::Stream`: a stream's server-side encryption
//! (configuration `StreamEncryption` with `EncryptionType` and `KeyId` —
//! also accepted flat, as DescribeStreamSummary spells them —, tags; live:
//! ListStreams, DescribeStreamSummary, ListTagsForStream). Config names a
//! stream by its name.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{found, read_failed, refused, tags_failed, under_key, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::Kinesis::Stream";

/// What is read of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub name: String,
    /// `KMS` or `NONE`; `None` when the record does not say.
    pub encryption_type: Option<String>,
    /// A key id, key ARN, alias name or alias ARN.
    pub key_id: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

impl Stream {
    fn kms_key(&self) -> Option<String> {
        (self.encryption_type.as_deref() == Some("KMS"))
            .then(|| self.key_id.clone())
            .flatten()
    }
}

#[async_trait]
impl Protected for Stream {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(match (self.encryption_type.as_deref(), &self.key_id) {
            (Some("KMS"), Some(key)) => under_key("Stream", key),
            (Some("KMS"), None) => {
                refused("Stream is encrypted, but the record names no KMS key: the key cannot be verified.")
            }
            (Some("NONE"), _) => refused("Stream is not encrypted."),
            (None, _) => refused("The record does not say whether the stream is encrypted: cannot be verified."),
            (Some(other), _) => refused(format!("Unknown stream encryption type `{other}`: cannot be verified.")),
        })
    }

    fn key(&self) -> Option<String> {
        self.kms_key()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let kinesis = atrest_common::aws_client!(ctx.aws()?, aws_sdk_kinesis);
        let mut tags = Tags::new();
        let mut after: Option<String> = None;
        loop {
            let asked = kinesis
                .list_tags_for_stream()
                .stream_name(&self.name)
                .set_exclusive_start_tag_key(after.take())
                .send()
                .await;
            let page = match asked {
                Ok(p) => p,
                Err(e) => return tags_failed(AwsError::from_sdk("kinesis", "ListTagsForStream", &e), "stream"),
            };
            tags.extend(
                page.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned())),
            );
            match (page.has_more_tags(), page.tags().last()) {
                (true, Some(last)) => after = Some(last.key().to_owned()),
                _ => return Ok(Read::Found(tags)),
            }
        }
    }
}

/// Kinesis data streams.
pub struct Streams;

pub static STORE: Streams = Streams;

impl Store for Streams {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        const NESTED: &[&str] = &["StreamEncryption", "streamEncryption"];
        let nested_or_flat = |names: &[&str]| {
            item.nested_str(NESTED, names)
                .or_else(|| item.str_field(names))
                .map(str::to_owned)
        };
        Box::new(Stream {
            name: item
                .str_field(&["Name", "name", "StreamName"])
                .unwrap_or(&item.resource_id)
                .to_owned(),
            encryption_type: nested_or_flat(&["EncryptionType", "encryptionType"]),
            key_id: nested_or_flat(&["KeyId", "keyId"]),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let kinesis = atrest_common::aws_client!(ctx.aws()?, aws_sdk_kinesis);
        let pages = kinesis.list_streams().limit(100).into_paginator().send();
        Ok(Box::new(paged(pages, move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("kinesis", "ListStreams", &e))?;
            Ok(page
                .stream_names()
                .iter()
                .map(|name| {
                    let (kinesis, name) = (kinesis.clone(), name.clone());
                    Listed::later(name.clone(), async move {
                        let asked = kinesis.describe_stream_summary().stream_name(&name).send().await;
                        let summary = match asked {
                            Ok(s) => s.stream_description_summary,
                            Err(e) => {
                                return read_failed(
                                    AwsError::from_sdk("kinesis", "DescribeStreamSummary", &e),
                                    "stream",
                                )
                            }
                        };
                        let Some(summary) = summary else {
                            return Ok(Read::Gone);
                        };
                        Ok(found(Stream {
                            encryption_type: summary.encryption_type().map(|t| t.as_str().to_owned()),
                            key_id: summary.key_id().filter(|k| !k.is_empty()).map(str::to_owned),
                            name,
                            tags: None,
                        }))
                    })
                })
                .collect())
        })))
    }
}
