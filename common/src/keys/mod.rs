//! The key directory: what is known about the KMS keys that protect
//! resources, looked up once per key and cached.
//!
//! A key reference (key id, key ARN, alias name or alias ARN) resolves to a
//! [`Lookup`]: the key's facts, or the distinct outcomes "does not exist" and
//! "cannot be read", which every rule must turn into something other than
//! COMPLIANT. Failures that may pass (throttling, 5xx) are errors: the
//! invocation fails and Config retries it.

mod cache;
mod items;
mod kms;
mod uses;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_smithy_types::DateTime;

use crate::error::Error;
use cache::Cache;
pub use items::{
    policy_from_item, records_key_manager, rotation_from_item, ItemKeySource, KMS_ALIAS_TYPE, KMS_KEY_TYPE,
};
pub use kms::KmsKeySource;
pub use uses::{KeyUse, TypeUses, LISTED_PER_TYPE};

/// Who manages a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyManager {
    Aws,
    Customer,
}

/// What DescribeKey tells about a key (or, offline, its Config item).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyFacts {
    /// The key ARN; for an `alias/aws/...` reference that was not looked up,
    /// the reference itself.
    pub arn: String,
    pub key_id: String,
    pub account_id: Option<String>,
    pub manager: KeyManager,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...; empty when unknown.
    pub state: String,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, ...; empty when unknown.
    pub spec: String,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY`, ...; empty when unknown.
    pub usage: String,
    /// `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`; empty when unknown.
    pub origin: String,
    pub custom_key_store_id: Option<String>,
    pub multi_region: bool,
    /// `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE` for imported keys.
    pub expiration_model: Option<String>,
    pub valid_to: Option<DateTime>,
    pub deletion_date: Option<DateTime>,
}

impl KeyFacts {
    pub fn is_customer_managed(&self) -> bool {
        self.manager == KeyManager::Customer
    }

    /// Facts known without a call: an `alias/aws/...` reference names an
    /// AWS-managed key.
    fn aws_managed_alias(reference: &str) -> Self {
        KeyFacts {
            arn: reference.to_owned(),
            key_id: reference.to_owned(),
            account_id: None,
            manager: KeyManager::Aws,
            state: String::new(),
            spec: String::new(),
            usage: String::new(),
            origin: String::new(),
            custom_key_store_id: None,
            multi_region: false,
            expiration_model: None,
            valid_to: None,
            deletion_date: None,
        }
    }
}

/// Automatic rotation of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub enabled: bool,
    /// `RotationPeriodInDays` when KMS reports it.
    pub period_days: Option<i32>,
    /// `false` when the key type does not support automatic rotation.
    pub supported: bool,
}

/// A key's tags.
pub type Tags = BTreeMap<String, String>;

/// The outcome of a look-up that reached an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<T> {
    Found(T),
    /// The key does not exist (annotation-ready reason).
    NotFound(String),
    /// The key exists or may exist, but this could not be read (reason).
    Unreadable(String),
}

impl<T> Lookup<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// Where key facts come from: KMS, or the `AWS::KMS::Key` items of a
/// Config snapshot.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// Resolves a key id, key ARN, alias name or alias ARN.
    async fn describe(&self, reference: &str) -> Result<Lookup<KeyFacts>, Error>;
    /// The key's automatic rotation.
    async fn rotation(&self, key: &KeyFacts) -> Result<Lookup<Rotation>, Error>;
    /// The key's tags.
    async fn tags(&self, key: &KeyFacts) -> Result<Lookup<Tags>, Error>;
    /// The key policy document (`default`), as JSON text.
    async fn policy(&self, key: &KeyFacts) -> Result<Lookup<String>, Error>;
    /// The key's alias names (`alias/...`).
    async fn aliases(&self, key: &KeyFacts) -> Result<Lookup<Vec<String>>, Error>;
}

/// How long a warm container trusts what it learnt about a key.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Key facts by reference, each fetched at most once per key within the TTL;
/// concurrent asks for one key share one call.
pub struct KeyDirectory {
    source: Box<dyn KeySource>,
    described: Cache<Lookup<Arc<KeyFacts>>>,
    rotations: Cache<Lookup<Rotation>>,
    tags: Cache<Lookup<Arc<Tags>>>,
    policies: Cache<Lookup<Arc<String>>>,
    aliases: Cache<Lookup<Arc<Vec<String>>>>,
    /// Which resources use which key, when asked to note it.
    uses: Option<uses::UseLog>,
}

impl KeyDirectory {
    pub fn new(source: impl KeySource + 'static, ttl: Duration) -> Self {
        KeyDirectory {
            source: Box::new(source),
            described: Cache::new(ttl),
            rotations: Cache::new(ttl),
            tags: Cache::new(ttl),
            policies: Cache::new(ttl),
            aliases: Cache::new(ttl),
            uses: None,
        }
    }

    /// The same directory, noting which resources use which key (the
    /// CLI's key inventory); a Lambda function does not.
    pub fn noting_uses(mut self) -> Self {
        self.uses = Some(uses::UseLog::default());
        self
    }

    /// Whether uses are noted.
    pub fn notes_uses(&self) -> bool {
        self.uses.is_some()
    }

    /// Notes that `resource_id` of `resource_type` is protected by `key`
    /// (as its record names it), when uses are noted.
    pub fn note_use(&self, resource_type: &str, resource_id: &str, key: &str, account_id: Option<&str>) {
        if let Some(log) = &self.uses {
            log.note(resource_type, resource_id, key.trim(), account_id);
        }
    }

    /// The uses noted so far, per key reference, each resource counted
    /// once; the log is emptied.
    pub fn take_uses(&self) -> Vec<KeyUse> {
        self.uses.as_ref().map(uses::UseLog::take).unwrap_or_default()
    }

    /// The key's policy document (GetKeyPolicy `default`).
    pub async fn policy(&self, key: &KeyFacts) -> Result<Lookup<Arc<String>>, Error> {
        self.policies
            .get_or_try_init(&key.arn, || async { Ok(arc(self.source.policy(key).await?)) })
            .await
    }

    /// The key's policy, read at or after `not_before` (the capture time of
    /// the configuration item under evaluation): a policy cached before the
    /// item was recorded may predate the change the item records.
    pub async fn policy_since(&self, key: &KeyFacts, not_before: DateTime) -> Result<Lookup<Arc<String>>, Error> {
        self.policies
            .get_or_try_init_since(&key.arn, wall_time(not_before), || async {
                Ok(arc(self.source.policy(key).await?))
            })
            .await
    }

    /// The key's rotation status, read at or after `not_before` (see
    /// [`KeyDirectory::policy_since`]).
    pub async fn rotation_since(&self, key: &KeyFacts, not_before: DateTime) -> Result<Lookup<Rotation>, Error> {
        self.rotations
            .get_or_try_init_since(&key.arn, wall_time(not_before), || self.source.rotation(key))
            .await
    }

    /// The key's facts, read at or after `not_before` (see
    /// [`KeyDirectory::policy_since`]).
    pub async fn key_since(&self, reference: &str, not_before: DateTime) -> Result<Lookup<Arc<KeyFacts>>, Error> {
        let reference = reference.trim();
        if is_aws_managed_alias(reference) {
            return Ok(Lookup::Found(Arc::new(KeyFacts::aws_managed_alias(reference))));
        }
        self.described
            .get_or_try_init_since(reference, wall_time(not_before), || async {
                Ok(arc(self.source.describe(reference).await?))
            })
            .await
    }

    /// The key's aliases (ListAliases by key).
    pub async fn aliases(&self, key: &KeyFacts) -> Result<Lookup<Arc<Vec<String>>>, Error> {
        self.aliases
            .get_or_try_init(&key.arn, || async { Ok(arc(self.source.aliases(key).await?)) })
            .await
    }

    /// A directory backed by KMS (DescribeKey, GetKeyRotationStatus,
    /// ListResourceTags).
    pub fn kms(client: aws_sdk_kms::Client) -> Self {
        Self::new(KmsKeySource::new(client), DEFAULT_TTL)
    }

    /// The facts of the key a reference names.
    pub async fn key(&self, reference: &str) -> Result<Lookup<Arc<KeyFacts>>, Error> {
        let reference = reference.trim();
        if is_aws_managed_alias(reference) {
            return Ok(Lookup::Found(Arc::new(KeyFacts::aws_managed_alias(reference))));
        }
        let lookup = self
            .described
            .get_or_try_init(reference, || async {
                Ok(match self.source.describe(reference).await? {
                    Lookup::Found(f) => Lookup::Found(Arc::new(f)),
                    Lookup::NotFound(r) => Lookup::NotFound(r),
                    Lookup::Unreadable(r) => Lookup::Unreadable(r),
                })
            })
            .await?;
        // The same key asked for by its ARN or id later needs no call.
        if let Lookup::Found(facts) = &lookup {
            for alias in [&facts.arn, &facts.key_id] {
                if alias != reference {
                    self.described.insert_ready(alias, lookup.clone());
                }
            }
        }
        Ok(lookup)
    }

    /// The key's rotation status.
    pub async fn rotation(&self, key: &KeyFacts) -> Result<Lookup<Rotation>, Error> {
        self.rotations
            .get_or_try_init(&key.arn, || self.source.rotation(key))
            .await
    }

    /// The key's tags.
    pub async fn tags(&self, key: &KeyFacts) -> Result<Lookup<Arc<Tags>>, Error> {
        self.tags
            .get_or_try_init(&key.arn, || async {
                Ok(match self.source.tags(key).await? {
                    Lookup::Found(t) => Lookup::Found(Arc::new(t)),
                    Lookup::NotFound(r) => Lookup::NotFound(r),
                    Lookup::Unreadable(r) => Lookup::Unreadable(r),
                })
            })
            .await
    }
}

/// A capture time on the wall clock (times before 1970 read as 1970).
fn wall_time(t: DateTime) -> SystemTime {
    let secs = u64::try_from(t.secs()).unwrap_or(0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(u64::from(t.subsec_nanos()))
}

fn arc<T>(lookup: Lookup<T>) -> Lookup<Arc<T>> {
    match lookup {
        Lookup::Found(t) => Lookup::Found(Arc::new(t)),
        Lookup::NotFound(r) => Lookup::NotFound(r),
        Lookup::Unreadable(r) => Lookup::Unreadable(r),
    }
}

/// `alias/aws/...` or an alias ARN ending so: an AWS-managed key.
pub fn is_aws_managed_alias(reference: &str) -> bool {
    let alias = match reference.split_once(":alias/") {
        Some((prefix, name)) if prefix.starts_with("arn:") => name,
        _ => match reference.strip_prefix("alias/") {
            Some(name) => name,
            None => return false,
        },
    };
    alias.starts_with("aws/")
}
