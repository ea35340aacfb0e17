//! `AWS::DynamoDB::Table`: a table's server-side encryption (configuration
//! `ssedescription` — `SSEDescription` in DescribeTable's spelling — with
//! its status, type and KMS key ARN; live: ListTables, DescribeTable,
//! ListTagsOfResource). No `SSEDescription` (or one whose status is
//! `DISABLED`) means the AWS-owned key DynamoDB uses by default. DynamoDB
//! names the key of every KMS-encrypted table, `aws/dynamodb` included: a
//! record of type `KMS` without a key ARN cannot be verified.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{found, read_failed, refused, tags_failed, under_key, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::DynamoDB::Table";

/// What the table's `SSEDescription` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sse {
    /// `ENABLED`, `ENABLING`, `DISABLED`, `DISABLING`, `UPDATING`.
    pub status: Option<String>,
    /// `KMS` (or the legacy `AES256`).
    pub sse_type: Option<String>,
    pub kms_master_key_arn: Option<String>,
}

/// What is read of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Its ARN (for its tags), when known.
    pub arn: Option<String>,
    /// `None`: no `SSEDescription`, the AWS-owned key.
    pub sse: Option<Sse>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

impl Table {
    /// Whether the record says DynamoDB's AWS-owned key.
    fn aws_owned(&self) -> bool {
        match &self.sse {
            None => true,
            Some(sse) => matches!(sse.status.as_deref(), Some("DISABLED" | "DISABLING")),
        }
    }

    /// The KMS key the record names.
    fn kms_key(&self) -> Option<String> {
        if self.aws_owned() {
            return None;
        }
        self.sse.as_ref()?.kms_master_key_arn.clone()
    }
}

#[async_trait]
impl Protected for Table {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        if self.aws_owned() {
            return Ok(refused(
                "Table is encrypted with the AWS-owned key DynamoDB uses by default, not a customer-managed key.",
            ));
        }
        Ok(match self.kms_key() {
            Some(key) => under_key("Table", &key),
            None => refused("Table encryption is on, but the record names no KMS key: the key cannot be verified."),
        })
    }

    fn key(&self) -> Option<String> {
        self.kms_key()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let Some(arn) = &self.arn else {
            return Ok(Read::Unreadable(
                "The table's ARN is unknown: its tags could not be read.".to_owned(),
            ));
        };
        let dynamodb = atrest_common::aws_client!(ctx.aws()?, aws_sdk_dynamodb);
        let mut tags = Tags::new();
        let mut token: Option<String> = None;
        loop {
            let page = dynamodb
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(token.take())
                .send()
                .await;
            let page = match page {
                Ok(p) => p,
                Err(e) => return tags_failed(AwsError::from_sdk("dynamodb", "ListTagsOfResource", &e), "table"),
            };
            tags.extend(page.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(Read::Found(tags)),
            }
        }
    }
}

/// The `SSEDescription` of an item, in any of its spellings.
fn item_sse(item: &ConfigurationItem) -> Option<Sse> {
    const SSE: &[&str] = &["ssedescription", "sseDescription", "SSEDescription"];
    item.field(SSE)?;
    let text = |names: &[&str]| item.nested_str(SSE, names).map(str::to_owned);
    Some(Sse {
        status: text(&["status", "Status"]),
        sse_type: text(&["ssetype", "sseType", "SSEType"]),
        kms_master_key_arn: text(&["kmsmasterKeyArn", "kmsMasterKeyArn", "KMSMasterKeyArn"]),
    })
}

/// DynamoDB tables.
pub struct Tables;

pub static STORE: Tables = Tables;

impl Store for Tables {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Table {
            arn: item
                .str_field(&["tableArn", "TableArn"])
                .or(item.arn.as_deref())
                .map(str::to_owned),
            sse: item_sse(item),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let dynamodb = atrest_common::aws_client!(ctx.aws()?, aws_sdk_dynamodb);
        let pages = dynamodb.list_tables().limit(100).into_paginator().send();
        Ok(Box::new(paged(pages, move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("dynamodb", "ListTables", &e))?;
            Ok(page
                .table_names()
                .iter()
                .map(|name| {
                    let (dynamodb, name) = (dynamodb.clone(), name.clone());
                    Listed::later(name.clone(), async move {
                        let described = dynamodb.describe_table().table_name(&name).send().await;
                        let table = match described {
                            Ok(d) => d.table,
                            Err(e) => return read_failed(AwsError::from_sdk("dynamodb", "DescribeTable", &e), "table"),
                        };
                        let Some(table) = table else {
                            return Ok(Read::Gone);
                        };
                        let sse = table.sse_description().map(|d| Sse {
                            status: d.status().map(|s| s.as_str().to_owned()),
                            sse_type: d.sse_type().map(|t| t.as_str().to_owned()),
                            kms_master_key_arn: d.kms_master_key_arn().map(str::to_owned),
                        });
                        Ok(found(Table {
                            arn: table.table_arn().map(str::to_owned),
                            sse,
                            tags: None,
                        }))
                    })
                })
                .collect())
        })))
    }
}
