//! `AWS::S3::Bucket`: a bucket's default encryption (configuration
//! supplementary `ServerSideEncryptionConfiguration`, tags or
//! `BucketTaggingConfiguration`; live: ListBuckets of the region, then
//! GetBucketEncryption and GetBucketTagging per bucket as it is reached).

use async_trait::async_trait;
use atrest_common::keys::is_aws_managed_alias;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, AwsErrorKind, ConfigurationItem, Error, RuleContext, Verdict};
use serde_json::Value;

use super::{tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::S3::Bucket";

/// `requireBucketKey`: SSE-KMS must use an S3 Bucket Key.
pub const REQUIRE_BUCKET_KEY: ParamSpec = ParamSpec {
    name: "requireBucketKey",
    kind: ParamKind::Bool,
    default: Some("false"),
    required: false,
    description: "SSE-KMS buckets must use an S3 Bucket Key.",
};

/// A bucket's default encryption rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultEncryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    pub algorithm: String,
    /// `kmsMasterKeyID`: absent means the AWS-managed `aws/s3` key.
    pub key: Option<String>,
    pub bucket_key: bool,
}

/// What is read of a bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    /// Its default encryption (`None`: none); `Err` names what in the
    /// record could not be read.
    pub encryption: Result<Option<DefaultEncryption>, String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

/// The default encryption a bucket's configuration item records: `Ok(None)`
/// when it records none.
pub fn encryption_of_item(item: &ConfigurationItem) -> Result<Option<DefaultEncryption>, String> {
    let Some(config) = item
        .supplementary("ServerSideEncryptionConfiguration")
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let rules = config
        .get("rules")
        .or_else(|| config.get("Rules"))
        .and_then(Value::as_array)
        .ok_or("ServerSideEncryptionConfiguration has no rules list")?;
    for rule in rules {
        let by_default = rule
            .get("applyServerSideEncryptionByDefault")
            .or_else(|| rule.get("ApplyServerSideEncryptionByDefault"));
        let Some(by_default) = by_default.filter(|v| !v.is_null()) else {
            continue;
        };
        let text = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| by_default.get(*n).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let algorithm =
            text(&["sseAlgorithm", "SSEAlgorithm"]).ok_or("a default encryption rule has no sseAlgorithm")?;
        let bucket_key = ["bucketKeyEnabled", "BucketKeyEnabled"]
            .iter()
            .find_map(|n| rule.get(*n).and_then(Value::as_bool))
            .unwrap_or(false);
        return Ok(Some(DefaultEncryption {
            key: text(&["kmsMasterKeyID", "KMSMasterKeyID", "kmsMasterKeyId"]),
            algorithm,
            bucket_key,
        }));
    }
    Ok(None)
}

/// A bucket's tags as recorded: the item's `tags`, else its recorded
/// tagging configuration.
fn tags_of_item(item: &ConfigurationItem) -> Tags {
    if !item.tags.is_empty() {
        return item.tags.clone();
    }
    item.supplementary("BucketTaggingConfiguration")
        .and_then(|c| c.get("tagSets").and_then(|s| s.as_array()).cloned())
        .into_iter()
        .flatten()
        .filter_map(|set| set.get("tags").cloned())
        .filter_map(|t| atrest_common::item::parse_tags(t).ok())
        .flatten()
        .collect()
}

/// A full key ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`); not an alias
/// ARN, whose alias anyone allowed to may re-point.
pub fn is_key_arn(reference: &str) -> bool {
    let fields: Vec<&str> = reference.splitn(6, ':').collect();
    matches!(fields.as_slice(), ["arn", _, "kms", _, account, resource]
        if !account.is_empty() && resource.starts_with("key/") && resource.len() > 4)
}

fn settled(text: impl Into<String>) -> Protection {
    Protection::Settled(Verdict::non_compliant(text))
}

#[async_trait]
impl Protected for Bucket {
    async fn protection(&self, ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        let enc = match &self.encryption {
            Err(problem) => {
                return Ok(settled(format!(
                    "The recorded encryption configuration cannot be read: {problem}."
                )))
            }
            Ok(None) => {
                return Ok(settled(
                    "No default encryption configuration is recorded for the bucket.",
                ))
            }
            Ok(Some(enc)) => enc,
        };
        match enc.algorithm.as_str() {
            "AES256" => {
                return Ok(settled(
                    "Default encryption is SSE-S3 (AES256), not a customer-managed KMS key.",
                ))
            }
            "aws:kms" | "aws:kms:dsse" => {}
            other => return Ok(settled(format!("Unknown default encryption algorithm `{other}`."))),
        }
        if enc.algorithm == "aws:kms" && ctx.params.bool(REQUIRE_BUCKET_KEY.name) && !enc.bucket_key {
            return Ok(settled(
                "SSE-KMS without an S3 Bucket Key, and requireBucketKey is true.",
            ));
        }
        let subject = "Bucket default encryption".to_owned();
        Ok(match &enc.key {
            // `aws/s3` is every writer's own anyway: judged as AWS-managed.
            Some(key) if !is_key_arn(key) && !is_aws_managed_alias(key) => settled(format!(
                "Bucket default encryption names KMS key `{key}` without its full key ARN: S3 resolves it in the \
                 writer's account, so objects written from other accounts land under their keys."
            )),
            Some(key) => Protection::Key {
                subject,
                key: key.clone(),
            },
            None => Protection::Key {
                subject,
                key: "alias/aws/s3".to_owned(),
            },
        })
    }

    fn key(&self) -> Option<String> {
        match &self.encryption {
            Ok(Some(e)) if e.algorithm.starts_with("aws:kms") => {
                Some(e.key.clone().unwrap_or_else(|| "alias/aws/s3".to_owned()))
            }
            _ => None,
        }
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let s3 = atrest_common::aws_client!(ctx.aws()?, aws_sdk_s3);
        match s3.get_bucket_tagging().bucket(&self.name).send().await {
            Ok(t) => Ok(Read::Found(
                t.tag_set()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
            )),
            Err(e) => {
                let err = AwsError::from_sdk("s3", "GetBucketTagging", &e);
                match err.code.as_deref() {
                    Some("NoSuchTagSet") => Ok(Read::Found(Tags::new())),
                    Some("NoSuchBucket") => Ok(Read::Gone),
                    _ => tags_failed(err, "bucket"),
                }
            }
        }
    }
}

/// GetBucketEncryption: `Found(None)` when the bucket has no configuration.
async fn read_encryption(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Read<Option<DefaultEncryption>>, Error> {
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Ok(Read::Found(out.server_side_encryption_configuration().and_then(|c| {
            c.rules().iter().find_map(|r| {
                let d = r.apply_server_side_encryption_by_default()?;
                Some(DefaultEncryption {
                    algorithm: d.sse_algorithm().as_str().to_owned(),
                    key: d.kms_master_key_id().filter(|k| !k.is_empty()).map(str::to_owned),
                    bucket_key: r.bucket_key_enabled().unwrap_or(false),
                })
            })
        }))),
        Err(e) => {
            let err = AwsError::from_sdk("s3", "GetBucketEncryption", &e);
            match (err.kind, err.code.as_deref()) {
                (_, Some("ServerSideEncryptionConfigurationNotFoundError")) => Ok(Read::Found(None)),
                (_, Some("NoSuchBucket")) => Ok(Read::Gone),
                (AwsErrorKind::AccessDenied, _) => Ok(Read::Unreadable(format!(
                    "Default encryption could not be verified: access denied to s3:GetEncryptionConfiguration ({}).",
                    err.message
                ))),
                _ => Err(err.into()),
            }
        }
    }
}

/// S3 buckets.
pub struct Buckets;

pub static STORE: Buckets = Buckets;

impl Store for Buckets {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Bucket {
            name: item.resource_id.clone(),
            encryption: encryption_of_item(item),
            tags: Some(tags_of_item(item)),
        })
    }

    /// The buckets of the region (all of them when the region is unknown):
    /// Config rules are regional, other regions' buckets are theirs.
    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let aws = ctx.aws()?;
        let region = aws.region();
        let s3 = atrest_common::aws_client!(aws, aws_sdk_s3);
        let mut request = s3.list_buckets().max_buckets(1000);
        if let Some(r) = region {
            request = request.bucket_region(r);
        }
        Ok(Box::new(paged(request.into_paginator().send(), move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("s3", "ListBuckets", &e))?;
            Ok(page
                .buckets()
                .iter()
                .filter(|b| !matches!((region, b.bucket_region()), (Some(r), Some(b)) if r != b))
                .filter_map(|b| b.name())
                .map(|name| {
                    let (s3, name) = (s3.clone(), name.to_owned());
                    Listed::later(name.clone(), async move {
                        Ok(match read_encryption(&s3, &name).await? {
                            Read::Found(encryption) => Read::Found(Box::new(Bucket {
                                name,
                                encryption: Ok(encryption),
                                tags: None,
                            })
                                as Box<dyn Protected>),
                            Read::Gone => Read::Gone,
                            Read::Unreadable(why) => Read::Unreadable(why),
                        })
                    })
                })
                .collect())
        })))
    }
}
