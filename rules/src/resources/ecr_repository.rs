//! `AWS::ECR::Repository`: a repository's encryption (configuration
//! `EncryptionConfiguration` with `EncryptionType` and `KmsKey`, tags;
//! live: DescribeRepositories, ListTagsForResource). `AES256` encrypts
//! with keys ECR owns; `KMS` (or `KMS_DSSE`) names its key, the AWS-managed
//! `aws/ecr` included: without one the key cannot be verified.
//! Config's schema does not list the encryption: an item without it is
//! completed from DescribeRepositories. Config names a repository by its
//! name.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext, Verdict};

use super::{read_failed, refused, tags_failed, under_key, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::ECR::Repository";

/// A repository's `EncryptionConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    /// `AES256`, `KMS` or `KMS_DSSE`.
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

impl Encryption {
    fn kms_key(&self) -> Option<String> {
        match self.encryption_type.as_str() {
            "KMS" | "KMS_DSSE" => self.kms_key.clone(),
            _ => None,
        }
    }
}

/// What is read of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    /// Its ARN (for its tags), when known.
    pub arn: Option<String>,
    /// `None` when the record does not say (then asked of ECR);
    /// `Some(None)` when ECR reports no encryption configuration.
    pub encryption: Option<Option<Encryption>>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

/// The SDK's encryption configuration, read.
fn encryption_of(e: &aws_sdk_ecr::types::EncryptionConfiguration) -> Encryption {
    Encryption {
        encryption_type: e.encryption_type().as_str().to_owned(),
        kms_key: e.kms_key().filter(|k| !k.is_empty()).map(str::to_owned),
    }
}

/// What ECR says of a repository's encryption.
async fn describe(ctx: &RuleContext<'_>, name: &str) -> Result<Read<Option<Encryption>>, Error> {
    let ecr = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ecr);
    match ecr.describe_repositories().repository_names(name).send().await {
        Ok(d) => Ok(match d.repositories().first() {
            Some(r) => Read::Found(r.encryption_configuration().map(encryption_of)),
            None => Read::Gone,
        }),
        Err(e) => read_failed(AwsError::from_sdk("ecr", "DescribeRepositories", &e), "repository"),
    }
}

impl Repository {
    /// The encryption, as recorded or else asked of ECR.
    async fn encryption(&self, ctx: &RuleContext<'_>) -> Result<Read<Option<Encryption>>, Error> {
        match &self.encryption {
            Some(e) => Ok(Read::Found(e.clone())),
            None => describe(ctx, &self.name).await,
        }
    }
}

#[async_trait]
impl Protected for Repository {
    async fn protection(&self, ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(match self.encryption(ctx).await? {
            Read::Found(None) => {
                refused("ECR reports no encryption configuration for the repository: cannot be verified.")
            }
            Read::Found(Some(e)) => match e.kms_key() {
                Some(key) => under_key("Repository", &key),
                None if e.encryption_type == "AES256" => {
                    refused("Repository is encrypted with AES256, keys ECR owns, not a customer-managed key.")
                }
                None if e.encryption_type.starts_with("KMS") => refused(
                    "Repository is encrypted with KMS, but the record names no key: the key cannot be verified.",
                ),
                None => refused(format!(
                    "Unknown repository encryption type `{}`: cannot be verified.",
                    e.encryption_type
                )),
            },
            Read::Gone => Protection::Settled(Verdict::not_applicable("The repository no longer exists.")),
            Read::Unreadable(why) => refused(why),
        })
    }

    fn key(&self) -> Option<String> {
        self.encryption
            .as_ref()
            .and_then(|e| e.as_ref())
            .and_then(Encryption::kms_key)
    }

    async fn key_asked(&self, ctx: &RuleContext<'_>) -> Result<Read<Option<String>>, Error> {
        Ok(match self.encryption(ctx).await? {
            Read::Found(e) => Read::Found(e.as_ref().and_then(Encryption::kms_key)),
            Read::Gone => Read::Gone,
            Read::Unreadable(why) => Read::Unreadable(why),
        })
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let Some(arn) = &self.arn else {
            return Ok(Read::Unreadable(
                "The repository's ARN is unknown: its tags could not be read.".to_owned(),
            ));
        };
        let ecr = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ecr);
        match ecr.list_tags_for_resource().resource_arn(arn).send().await {
            Ok(t) => Ok(Read::Found(
                t.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            )),
            Err(e) => tags_failed(AwsError::from_sdk("ecr", "ListTagsForResource", &e), "repository"),
        }
    }
}

/// ECR repositories.
pub struct Repositories;

pub static STORE: Repositories = Repositories;

impl Store for Repositories {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        const NESTED: &[&str] = &["EncryptionConfiguration", "encryptionConfiguration"];
        let encryption = item.nested_str(NESTED, &["EncryptionType", "encryptionType"]).map(|t| {
            Some(Encryption {
                encryption_type: t.to_owned(),
                kms_key: item.nested_str(NESTED, &["KmsKey", "kmsKey"]).map(str::to_owned),
            })
        });
        Box::new(Repository {
            name: item
                .str_field(&["RepositoryName", "repositoryName"])
                .unwrap_or(&item.resource_id)
                .to_owned(),
            arn: item
                .str_field(&["Arn", "arn"])
                .or(item.arn.as_deref())
                .map(str::to_owned),
            encryption,
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let ecr = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ecr);
        let pages = ecr.describe_repositories().max_results(1000).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("ecr", "DescribeRepositories", &e))?;
            Ok(page
                .repositories()
                .iter()
                .filter_map(|r| {
                    let repository = Repository {
                        name: r.repository_name()?.to_owned(),
                        arn: r.repository_arn().map(str::to_owned),
                        encryption: Some(r.encryption_configuration().map(encryption_of)),
                        tags: None,
                    };
                    Some(Listed::ready(repository.name.clone(), repository))
                })
                .collect())
        })))
    }
}
