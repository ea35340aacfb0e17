//! `AWS::SecretsManager::Secret`: the KMS key that encrypts a secret's
//! values (configuration `KmsKeyId` — `KMSKeyId` in Config's schema —,
//! tags; live: ListSecrets, which lists the tags too). No key means the
//! AWS-managed `aws/secretsmanager`. The secret's value is never asked for.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};
use serde_json::Value;

use super::{refused, tags_of, under_key, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::SecretsManager::Secret";

/// The AWS-managed key of Secrets Manager.
const AWS_MANAGED: &str = "alias/aws/secretsmanager";

/// The key a secret's record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRecord {
    /// None: Secrets Manager's AWS-managed key (how it records that key).
    Default,
    Named(String),
    /// A key field that is not a string: cannot be read.
    Malformed,
}

/// What is read of a secret (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub key: KeyRecord,
    pub tags: Tags,
}

impl Secret {
    fn kms_key(&self) -> Option<String> {
        match &self.key {
            KeyRecord::Default => Some(AWS_MANAGED.to_owned()),
            KeyRecord::Named(k) => Some(k.clone()),
            KeyRecord::Malformed => None,
        }
    }
}

#[async_trait]
impl Protected for Secret {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(match self.kms_key() {
            Some(key) => under_key("Secret", &key),
            None => refused("The record's KMS key of the secret is not a key reference: cannot be verified."),
        })
    }
    fn key(&self) -> Option<String> {
        self.kms_key()
    }
    async fn tags(&self, _ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        Ok(Read::Found(self.tags.clone()))
    }
}

/// Secrets Manager secrets.
pub struct Secrets;

pub static STORE: Secrets = Secrets;

impl Store for Secrets {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        let key = match item.field(&["KmsKeyId", "KMSKeyId", "kmsKeyId"]) {
            None => KeyRecord::Default,
            Some(Value::String(k)) if k.is_empty() => KeyRecord::Default,
            Some(Value::String(k)) => KeyRecord::Named(k.clone()),
            Some(_) => KeyRecord::Malformed,
        };
        Box::new(Secret {
            key,
            tags: item.tags.clone(),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let secrets = atrest_common::aws_client!(ctx.aws()?, aws_sdk_secretsmanager);
        let pages = secrets.list_secrets().max_results(100).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("secretsmanager", "ListSecrets", &e))?;
            Ok(page
                .secret_list()
                .iter()
                .filter_map(|s| {
                    let secret = Secret {
                        key: match s.kms_key_id().filter(|k| !k.is_empty()) {
                            Some(k) => KeyRecord::Named(k.to_owned()),
                            None => KeyRecord::Default,
                        },
                        tags: tags_of(s.tags().iter().map(|t| (t.key(), t.value()))),
                    };
                    Some(Listed::ready(s.arn()?, secret))
                })
                .collect())
        })))
    }
}
