//! The resource layer: one module per protected resource type. Each says
//! its Config type, how a configuration item records what protects the
//! resource and its tags, and how to list the resources live (the SDK
//! paginator), yielding the same value. Change-triggered evaluations,
//! periodic sweeps, `atrest scan` and `atrest snapshot` all judge that one
//! value, so each type has exactly one reading of its configuration.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use atrest_common::sweep::BoxPages;
use atrest_common::{AwsError, AwsErrorKind, ConfigurationItem, Error, RuleContext, Verdict};

#[cfg(feature = "backup")]
pub mod backup_vault;
#[cfg(feature = "cloudtrail")]
pub mod cloudtrail_trail;
#[cfg(feature = "dynamodb")]
pub mod dynamodb_table;
#[cfg(feature = "ec2")]
pub mod ebs_volume;
#[cfg(feature = "ecr")]
pub mod ecr_repository;
#[cfg(feature = "elasticfilesystem")]
pub mod efs_file_system;
#[cfg(feature = "kinesis")]
pub mod kinesis_stream;
#[cfg(feature = "lambda")]
pub mod lambda_function;
#[cfg(feature = "logs")]
pub mod logs_log_group;
#[cfg(feature = "rds")]
pub mod rds;
#[cfg(feature = "s3")]
pub mod s3_bucket;
#[cfg(feature = "secretsmanager")]
pub mod secretsmanager_secret;
#[cfg(feature = "sns")]
pub mod sns_topic;
#[cfg(feature = "sqs")]
pub mod sqs_queue;
#[cfg(feature = "ssm")]
pub mod ssm_parameter;

/// Tag key to value.
pub type Tags = BTreeMap<String, String>;

/// What reading something of a resource gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read<T> {
    Found(T),
    /// The resource no longer exists (deleted since it was listed).
    Gone,
    /// It could not be read: the sentence saying so and why.
    Unreadable(String),
}

/// What protects a resource's data at rest, under the rule's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// Encrypted under this KMS key (key id, key ARN, alias or alias ARN);
    /// `subject` starts the annotations ("Volume", "DB snapshot", ...).
    Key { subject: String, key: String },
    /// Judged without a key look-up: not encrypted, a key the service owns,
    /// a record that does not say, a key named in a way that cannot hold.
    Settled(Verdict),
}

/// One resource as read from its configuration item or its listing.
#[async_trait]
pub trait Protected: Send + Sync {
    /// What protects it, under the parameters of `ctx` (may ask AWS what
    /// Config does not record).
    async fn protection(&self, ctx: &RuleContext<'_>) -> Result<Protection, Error>;

    /// The KMS key that encrypts it, as recorded (the service's default
    /// key where the record names none); `None` when no KMS key does.
    fn key(&self) -> Option<String>;

    /// The key, asking AWS what the record does not say (by default the
    /// recorded [`key`](Protected::key)).
    async fn key_asked(&self, _ctx: &RuleContext<'_>) -> Result<Read<Option<String>>, Error> {
        Ok(Read::Found(self.key()))
    }

    /// Its tags: recorded or listed with it, else asked of AWS.
    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error>;
}

/// A resource read, possibly later (S3 reads each bucket's encryption
/// only when the sweep reaches it).
pub type Reading<'a> = Pin<Box<dyn Future<Output = Result<Read<Box<dyn Protected>>, Error>> + Send + 'a>>;

/// One resource of a live listing.
pub struct Listed<'a> {
    /// Its Config resource id.
    pub id: String,
    pub resource: Reading<'a>,
}

impl<'a> Listed<'a> {
    /// A resource the listing read whole.
    pub fn ready(id: impl Into<String>, resource: impl Protected + 'static) -> Self {
        let resource: Box<dyn Protected> = Box::new(resource);
        Listed {
            id: id.into(),
            resource: Box::pin(std::future::ready(Ok(Read::Found(resource)))),
        }
    }

    /// A resource read when the sweep reaches it.
    pub fn later(
        id: impl Into<String>,
        reading: impl Future<Output = Result<Read<Box<dyn Protected>>, Error>> + Send + 'a,
    ) -> Self {
        Listed {
            id: id.into(),
            resource: Box::pin(reading),
        }
    }
}

/// One protected resource type of the layer.
pub trait Store: Send + Sync {
    /// Its Config resource type.
    fn resource_type(&self) -> &'static str;

    /// The resource a configuration item of that type records.
    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected>;

    /// Every resource of the account and region, live, page by page.
    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error>;

    /// Whether a tag-alignment sweep reports the resources no KMS key
    /// protects (as NOT_APPLICABLE), or passes them over.
    fn sweeps_unkeyed(&self) -> bool {
        true
    }
}

/// Notes in the key directory which key protects this resource, as its
/// record names it (the CLI's key inventory; nothing when not noting).
pub fn note_key(ctx: &RuleContext<'_>, resource_type: &str, resource_id: &str, resource: &dyn Protected) {
    if !ctx.keys.notes_uses() {
        return;
    }
    if let Some(key) = resource.key() {
        ctx.keys.note_use(resource_type, resource_id, &key, ctx.account_id);
    }
}

/// The store of `resource_type` among `stores`.
pub fn store_of<'s>(stores: &[&'s dyn Store], resource_type: &str) -> Option<&'s dyn Store> {
    stores.iter().copied().find(|s| s.resource_type() == resource_type)
}

/// Tags from the SDK's (key, value) pairs.
pub fn tags_of<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

/// The protection of a resource recorded by an `encrypted` flag and a key
/// (EBS, RDS): `noun` names it ("Volume"), lower-cased mid-sentence.
pub fn flagged(noun: &str, encrypted: Option<bool>, key: Option<&str>) -> Protection {
    match (encrypted, key) {
        (Some(false), _) => Protection::Settled(Verdict::non_compliant(format!("{noun} is not encrypted."))),
        (None, _) => Protection::Settled(Verdict::non_compliant(format!(
            "The record does not say whether the {} is encrypted: encryption cannot be verified.",
            noun.to_lowercase()
        ))),
        (Some(true), None) => Protection::Settled(Verdict::non_compliant(format!(
            "{noun} is encrypted, but the record names no KMS key: the key cannot be verified."
        ))),
        (Some(true), Some(key)) => Protection::Key {
            subject: noun.to_owned(),
            key: key.to_owned(),
        },
    }
}

/// The key of a resource recorded by an `encrypted` flag and a key.
pub fn flagged_key(encrypted: Option<bool>, key: Option<&str>) -> Option<String> {
    encrypted.unwrap_or(false).then(|| key.map(str::to_owned)).flatten()
}

/// What a failed tag read of a `noun` means: gone when the resource is,
/// unreadable when access is denied, else an error (Config retries).
pub fn tags_failed(err: AwsError, noun: &str) -> Result<Read<Tags>, Error> {
    read_failed(err, &format!("{noun}'s tags"))
}

/// What a failed read of `what` ("queue's attributes") means: gone when
/// the resource is, unreadable when access is denied, else an error
/// (Config retries).
pub fn read_failed<T>(err: AwsError, what: &str) -> Result<Read<T>, Error> {
    match err.kind {
        AwsErrorKind::NotFound => Ok(Read::Gone),
        AwsErrorKind::AccessDenied => Ok(Read::Unreadable(format!(
            "The {what} could not be read: access denied ({}).",
            err.message
        ))),
        _ => Err(err.into()),
    }
}

/// Encrypted under `key`; `subject` starts the annotations.
pub fn under_key(subject: &str, key: &str) -> Protection {
    Protection::Key {
        subject: subject.to_owned(),
        key: key.to_owned(),
    }
}

/// Encrypted under the key the record names, else NON_COMPLIANT for
/// `without` (what no key means for the type).
pub fn named_key(subject: &str, key: Option<&str>, without: &str) -> Protection {
    match key {
        Some(key) => under_key(subject, key),
        None => refused(without),
    }
}

/// NON_COMPLIANT without a key look-up, for `why`.
pub fn refused(why: impl Into<String>) -> Protection {
    Protection::Settled(Verdict::non_compliant(why))
}

/// A resource read whole, boxed as the layer passes it on.
pub fn found(resource: impl Protected + 'static) -> Read<Box<dyn Protected>> {
    Read::Found(Box::new(resource))
}
