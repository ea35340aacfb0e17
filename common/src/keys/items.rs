//! Key facts from the `AWS::KMS::Key` configuration items of a Config
//! snapshot: no AWS call is made.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use serde_json::Value;

use super::{KeyFacts, KeyManager, KeySource, Lookup, Rotation, Tags};
use crate::error::Error;
use crate::item::{parse_timestamp, ConfigurationItem};

/// The resource type of a KMS key in Config.
pub const KMS_KEY_TYPE: &str = "AWS::KMS::Key";

struct Recorded {
    /// The facts, or why the item does not give them.
    facts: Result<KeyFacts, String>,
    rotation: Option<Rotation>,
    tags: Tags,
    policy: Option<String>,
}

/// Answers key look-ups from recorded configuration items.
#[derive(Default)]
pub struct ItemKeySource {
    keys: Vec<Recorded>,
    /// key ARN and key id → index in `keys`.
    index: HashMap<String, usize>,
    /// alias name → target key id, from `AWS::KMS::Alias` items.
    aliases: HashMap<String, String>,
    /// Whether any alias was recorded (else aliases are unknown, not absent).
    records_aliases: bool,
    /// Key ARNs and ids whose latest item records their deletion.
    deleted: HashSet<String>,
}

/// The resource type of a KMS alias in Config.
pub const KMS_ALIAS_TYPE: &str = "AWS::KMS::Alias";

impl ItemKeySource {
    /// Keeps the `AWS::KMS::Key` and `AWS::KMS::Alias` items among `items`
    /// (others are ignored). Of several versions of one key or alias (a
    /// configuration-history file), the latest by capture time counts (the
    /// later in order on a tie); a key whose latest version is a deletion
    /// is known as deleted, and an alias so is gone.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a ConfigurationItem>) -> Self {
        let mut source = ItemKeySource::default();
        let mut latest: HashMap<(&str, &str), &ConfigurationItem> = HashMap::new();
        let mut order: Vec<(&str, &str)> = Vec::new();
        for item in items {
            if item.resource_type != KMS_KEY_TYPE && item.resource_type != KMS_ALIAS_TYPE {
                continue;
            }
            let id = (item.resource_type.as_str(), item.resource_id.as_str());
            match latest.get(&id) {
                Some(seen) if seen.capture_time > item.capture_time => {}
                Some(_) => {
                    latest.insert(id, item);
                }
                None => {
                    latest.insert(id, item);
                    order.push(id);
                }
            }
        }
        let items: Vec<&ConfigurationItem> = order.iter().filter_map(|id| latest.get(id).copied()).collect();
        for item in items.iter().filter(|i| i.resource_type == KMS_ALIAS_TYPE) {
            source.records_aliases = true;
            if item.status.is_gone() {
                continue;
            }
            let name = item
                .str_field(&["aliasName", "AliasName"])
                .or(item.resource_name.as_deref())
                .unwrap_or(&item.resource_id);
            if let Some(target) = item.str_field(&["targetKeyId", "TargetKeyId"]) {
                source.aliases.insert(name.to_owned(), target.to_owned());
            }
        }
        for item in items.into_iter().filter(|i| i.resource_type == KMS_KEY_TYPE) {
            let (arn, key_id) = key_names(item);
            if item.status.is_gone() {
                source.deleted.insert(arn);
                source.deleted.insert(key_id);
                continue;
            }
            let recorded = recorded(item);
            let n = source.keys.len();
            source.index.insert(arn, n);
            source.index.insert(key_id, n);
            source.keys.push(recorded);
        }
        source
    }

    /// How many keys were recorded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key a reference (key id or ARN, alias name or ARN) resolves to.
    fn resolve<'a>(&'a self, reference: &'a str) -> &'a str {
        let alias = reference.split_once(":alias/").map(|(_, n)| format!("alias/{n}"));
        self.aliases
            .get(alias.as_deref().unwrap_or(reference))
            .map_or(reference, String::as_str)
    }

    fn find(&self, reference: &str) -> Option<&Recorded> {
        self.index.get(self.resolve(reference)).map(|&i| &self.keys[i])
    }
}

fn recorded(item: &ConfigurationItem) -> Recorded {
    Recorded {
        facts: KeyFacts::from_item(item).ok_or_else(|| {
            format!(
                "the item of KMS key {} does not record who manages the key (keyManager)",
                key_names(item).0
            )
        }),
        rotation: rotation_from_item(item),
        tags: item.tags.clone(),
        policy: policy_from_item(item),
    }
}

/// A key item's key ARN and key id.
fn key_names(item: &ConfigurationItem) -> (String, String) {
    let key_id = item
        .str_field(&["keyId", "KeyId"])
        .unwrap_or(&item.resource_id)
        .to_owned();
    let arn = item
        .str_field(&["arn", "Arn"])
        .map(str::to_owned)
        .or_else(|| item.arn.clone())
        .unwrap_or_else(|| key_id.clone());
    (arn, key_id)
}

impl KeyFacts {
    /// The facts an `AWS::KMS::Key` configuration item records; `None` when
    /// it does not say who manages the key (`keyManager` missing or of an
    /// unknown value): missing facts are never read as good news. Other
    /// missing fields read as empty, which every rule takes as unknown.
    pub fn from_item(item: &ConfigurationItem) -> Option<Self> {
        let text = |names: &[&str]| item.str_field(names).unwrap_or_default().to_owned();
        let (arn, key_id) = key_names(item);
        let manager = match item.str_field(&["keyManager", "KeyManager"])? {
            "AWS" => KeyManager::Aws,
            "CUSTOMER" => KeyManager::Customer,
            _ => return None,
        };
        let date = |names: &[&str]| item.field(names).and_then(parse_timestamp);
        Some(KeyFacts {
            arn,
            key_id,
            account_id: item.account_id.clone(),
            manager,
            state: text(&["keyState", "KeyState"]),
            spec: text(&["keySpec", "KeySpec", "customerMasterKeySpec", "CustomerMasterKeySpec"]),
            usage: text(&["keyUsage", "KeyUsage"]),
            origin: text(&["origin", "Origin"]),
            custom_key_store_id: item
                .str_field(&["customKeyStoreId", "CustomKeyStoreId"])
                .map(str::to_owned),
            multi_region: item.bool_field(&["multiRegion", "MultiRegion"]).unwrap_or(false),
            expiration_model: item
                .str_field(&["expirationModel", "ExpirationModel"])
                .map(str::to_owned),
            valid_to: date(&["validTo", "ValidTo"]),
            deletion_date: date(&["deletionDate", "DeletionDate"]),
        })
    }
}

/// The key policy a key item records in `supplementaryConfiguration.Policy`.
pub fn policy_from_item(item: &ConfigurationItem) -> Option<String> {
    match item.supplementary_configuration.get("Policy")? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Object(_) => item.supplementary_configuration.get("Policy").map(Value::to_string),
        _ => None,
    }
}

/// Whether a key item records who manages the key (and its state).
pub fn records_key_manager(item: &ConfigurationItem) -> bool {
    item.str_field(&["keyManager", "KeyManager"]).is_some() && item.str_field(&["keyState", "KeyState"]).is_some()
}

/// The rotation status a key item records in
/// `supplementaryConfiguration.KeyRotationStatus`, if any.
pub fn rotation_from_item(item: &ConfigurationItem) -> Option<Rotation> {
    item.supplementary("KeyRotationStatus").and_then(|v| rotation_from(&v))
}

/// `KeyRotationStatus` is recorded as a boolean, a boolean in a string, or
/// an object like GetKeyRotationStatus's output.
fn rotation_from(v: &Value) -> Option<Rotation> {
    let enabled = match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Object(m) => m
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("keyRotationEnabled"))
            .and_then(|(_, v)| v.as_bool())?,
        _ => return None,
    };
    let period_days = v
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("rotationPeriodInDays")))
        .and_then(|(_, v)| v.as_i64())
        .and_then(|d| i32::try_from(d).ok());
    Some(Rotation {
        enabled,
        period_days,
        supported: true,
    })
}

fn not_recorded(reference: &str) -> String {
    format!("KMS key {reference} is not among the recorded AWS::KMS::Key items")
}

#[async_trait]
impl KeySource for ItemKeySource {
    async fn describe(&self, reference: &str) -> Result<Lookup<KeyFacts>, Error> {
        Ok(match self.find(reference) {
            Some(Recorded { facts: Ok(f), .. }) => Lookup::Found(f.clone()),
            Some(Recorded { facts: Err(why), .. }) => Lookup::Unreadable(why.clone()),
            None if self.deleted.contains(self.resolve(reference)) => Lookup::NotFound(format!(
                "KMS key {reference} was deleted (its latest recorded configuration item says so)"
            )),
            None if reference.contains("alias/") => Lookup::Unreadable(format!(
                "alias {reference} is not among the recorded AWS::KMS::Alias items"
            )),
            None => Lookup::Unreadable(not_recorded(reference)),
        })
    }

    async fn rotation(&self, key: &KeyFacts) -> Result<Lookup<Rotation>, Error> {
        Ok(match self.find(&key.arn).map(|r| r.rotation) {
            Some(Some(rotation)) => Lookup::Found(rotation),
            Some(None) => Lookup::Unreadable(format!("the item of KMS key {} has no KeyRotationStatus", key.arn)),
            None => Lookup::Unreadable(not_recorded(&key.arn)),
        })
    }

    async fn tags(&self, key: &KeyFacts) -> Result<Lookup<Tags>, Error> {
        Ok(match self.find(&key.arn) {
            Some(r) => Lookup::Found(r.tags.clone()),
            None => Lookup::Unreadable(not_recorded(&key.arn)),
        })
    }

    async fn policy(&self, key: &KeyFacts) -> Result<Lookup<String>, Error> {
        Ok(match self.find(&key.arn).map(|r| r.policy.clone()) {
            Some(Some(policy)) => Lookup::Found(policy),
            Some(None) => Lookup::Unreadable(format!("the item of KMS key {} records no key policy", key.arn)),
            None => Lookup::Unreadable(not_recorded(&key.arn)),
        })
    }

    async fn aliases(&self, key: &KeyFacts) -> Result<Lookup<Vec<String>>, Error> {
        if !self.records_aliases {
            return Ok(Lookup::Unreadable(format!(
                "the aliases of KMS key {} cannot be read offline: no AWS::KMS::Alias items were recorded",
                key.arn
            )));
        }
        let mut names: Vec<String> = self
            .aliases
            .iter()
            .filter(|(_, target)| **target == key.key_id || **target == key.arn)
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        Ok(Lookup::Found(names))
    }
}
