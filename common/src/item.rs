//! The configuration item: the recorded state of one resource, in any of the
//! shapes Config delivers it (change notifications of item versions 1.2 and
//! 1.3, `GetResourceConfigHistory`, snapshot and history files).

use std::collections::BTreeMap;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Error;

/// `configurationItemStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ItemStatus {
    #[serde(rename = "OK")]
    Ok,
    ResourceDiscovered,
    ResourceNotRecorded,
    ResourceDeleted,
    ResourceDeletedNotRecorded,
    /// A status this version of atrest does not know: the item is evaluated.
    #[serde(other)]
    Other,
}

impl ItemStatus {
    /// Deleted and not-recorded items are reported NOT_APPLICABLE without
    /// running the rule.
    pub fn is_gone(self) -> bool {
        matches!(
            self,
            ItemStatus::ResourceNotRecorded | ItemStatus::ResourceDeleted | ItemStatus::ResourceDeletedNotRecorded
        )
    }

    pub fn parse(s: &str) -> Self {
        serde_json::from_value(Value::String(s.to_owned())).unwrap_or(ItemStatus::Other)
    }
}

/// One configuration item, normalised across versions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawItem")]
pub struct ConfigurationItem {
    pub version: Option<String>,
    pub capture_time: Option<DateTime>,
    pub status: ItemStatus,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub arn: Option<String>,
    pub aws_region: Option<String>,
    pub account_id: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub relationships: Vec<Value>,
    /// The resource's configuration (decoded when it came as a JSON string).
    pub configuration: Value,
    /// Supplementary configuration; values that came as JSON strings are
    /// kept as strings (see [`ConfigurationItem::supplementary`]).
    pub supplementary_configuration: Map<String, Value>,
}

impl ConfigurationItem {
    /// The capture time, required for the OrderingTimestamp of a change
    /// evaluation.
    pub fn require_capture_time(&self) -> Result<DateTime, Error> {
        self.capture_time
            .ok_or_else(|| self.problem("configurationItemCaptureTime is missing or not a timestamp"))
    }

    /// A supplementary configuration entry, with JSON-in-a-string decoded
    /// (history files and GetResourceConfigHistory encode every value so).
    pub fn supplementary(&self, name: &str) -> Option<Value> {
        let value = self.supplementary_configuration.get(name)?;
        Some(decode_json_string(value.clone()))
    }

    /// A field of `configuration`, trying each spelling in turn (Config's
    /// schemas differ in casing between resource types and versions).
    pub fn field(&self, names: &[&str]) -> Option<&Value> {
        names
            .iter()
            .find_map(|n| self.configuration.get(*n))
            .filter(|v| !v.is_null())
    }

    /// A string field of `configuration`; empty strings count as absent.
    pub fn str_field(&self, names: &[&str]) -> Option<&str> {
        self.field(names).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    /// A string field of an object field of `configuration` (`parent`,
    /// then `names`, each in any of its spellings); empty strings count as
    /// absent.
    pub fn nested_str(&self, parent: &[&str], names: &[&str]) -> Option<&str> {
        let parent = self.field(parent)?;
        names
            .iter()
            .find_map(|n| parent.get(*n).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
    }

    /// A boolean field of `configuration` (also accepts "true"/"false").
    pub fn bool_field(&self, names: &[&str]) -> Option<bool> {
        match self.field(names)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// An error about this item.
    pub fn problem(&self, problem: impl Into<String>) -> Error {
        Error::Item {
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            problem: problem.into(),
        }
    }

    /// Converts an item returned by `GetResourceConfigHistory`.
    pub fn from_sdk(item: &aws_sdk_config::types::ConfigurationItem) -> Result<Self, Error> {
        let resource_type = item.resource_type().map(|t| t.as_str().to_owned()).unwrap_or_default();
        let resource_id = item.resource_id().unwrap_or_default().to_owned();
        let missing = |what: &str| Error::Item {
            resource_type: resource_type.clone(),
            resource_id: resource_id.clone(),
            problem: format!("GetResourceConfigHistory returned no {what}"),
        };
        if resource_type.is_empty() {
            return Err(missing("resourceType"));
        }
        if resource_id.is_empty() {
            return Err(missing("resourceId"));
        }
        let configuration = match item.configuration() {
            Some(text) if !text.is_empty() => serde_json::from_str(text).map_err(|e| Error::Item {
                resource_type: resource_type.clone(),
                resource_id: resource_id.clone(),
                problem: format!("configuration is not JSON: {e}"),
            })?,
            _ => Value::Null,
        };
        let supplementary_configuration = item
            .supplementary_configuration()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
            .unwrap_or_default();
        Ok(ConfigurationItem {
            version: item.version().map(str::to_owned),
            capture_time: item.configuration_item_capture_time().copied(),
            status: item
                .configuration_item_status()
                .map(|s| ItemStatus::parse(s.as_str()))
                .unwrap_or(ItemStatus::Other),
            resource_type,
            resource_id,
            resource_name: item.resource_name().map(str::to_owned),
            arn: item.arn().map(str::to_owned),
            aws_region: item.aws_region().map(str::to_owned),
            account_id: item.account_id().map(str::to_owned),
            tags: item
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            relationships: Vec::new(),
            configuration,
            supplementary_configuration,
        })
    }
}

/// Decodes a JSON object or array held in a string; anything else is
/// returned as it is.
pub fn decode_json_string(value: Value) -> Value {
    match &value {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => serde_json::from_str(s).unwrap_or(value),
        _ => value,
    }
}

/// Parses a Config timestamp: ISO 8601 (`2017-06-23T18:06:32.343Z`) or
/// epoch seconds / milliseconds as numbers.
pub fn parse_timestamp(value: &Value) -> Option<DateTime> {
    match value {
        Value::String(s) => DateTime::from_str(s, Format::DateTime)
            .or_else(|_| DateTime::from_str(s, Format::HttpDate))
            .ok(),
        Value::Number(n) => {
            let secs = n.as_f64()?;
            // Config's history files use epoch milliseconds.
            let secs = if secs > 1e11 { secs / 1000.0 } else { secs };
            Some(DateTime::from_secs_f64(secs))
        }
        _ => None,
    }
}

/// The shape of an item as it arrives: both spellings of the fields that
/// changed between item versions.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    #[serde(default)]
    configuration_item_version: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    configuration_item_capture_time: Value,
    configuration_item_status: Option<ItemStatus>,
    resource_type: Option<String>,
    resource_id: Option<String>,
    #[serde(default)]
    resource_name: Option<String>,
    #[serde(default, rename = "ARN")]
    arn_upper: Option<String>,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    aws_region: Option<String>,
    #[serde(default)]
    aws_account_id: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    tags: Value,
    #[serde(default)]
    relationships: Option<Vec<Value>>,
    #[serde(default)]
    configuration: Value,
    #[serde(default)]
    supplementary_configuration: Value,
}

impl TryFrom<RawItem> for ConfigurationItem {
    type Error = String;

    fn try_from(raw: RawItem) -> Result<Self, String> {
        let resource_type = raw
            .resource_type
            .filter(|s| !s.is_empty())
            .ok_or("configuration item has no resourceType")?;
        let resource_id = raw
            .resource_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("configuration item of type {resource_type} has no resourceId"))?;
        let configuration = match decode_json_string(raw.configuration) {
            Value::String(s) if s.is_empty() => Value::Null,
            Value::String(_) => {
                return Err(format!(
                    "{resource_type} {resource_id}: configuration is a string but not a JSON object"
                ))
            }
            v => v,
        };
        let supplementary_configuration = match decode_json_string(raw.supplementary_configuration) {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            _ => {
                return Err(format!(
                    "{resource_type} {resource_id}: supplementaryConfiguration is not an object"
                ))
            }
        };
        Ok(ConfigurationItem {
            version: raw.configuration_item_version.or(raw.version),
            capture_time: parse_timestamp(&raw.configuration_item_capture_time),
            status: raw.configuration_item_status.unwrap_or(ItemStatus::Other),
            tags: parse_tags(raw.tags).map_err(|e| format!("{resource_type} {resource_id}: {e}"))?,
            resource_type,
            resource_id,
            resource_name: raw.resource_name,
            arn: raw.arn_upper.or(raw.arn),
            aws_region: raw.aws_region,
            account_id: raw.aws_account_id.or(raw.account_id),
            relationships: raw.relationships.unwrap_or_default(),
            configuration,
            supplementary_configuration,
        })
    }
}

/// Tags come as a map (`{"k": "v"}`) or as a list of `{key, value}` pairs.
pub fn parse_tags(value: Value) -> Result<BTreeMap<String, String>, String> {
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
    match value {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => Ok(m.iter().map(|(k, v)| (k.clone(), text(v))).collect()),
        Value::Array(list) => list
            .iter()
            .map(|t| {
                let key = t.get("key").or_else(|| t.get("Key")).and_then(Value::as_str);
                let value = t.get("value").or_else(|| t.get("Value")).unwrap_or(&Value::Null);
                key.map(|k| (k.to_owned(), text(value)))
                    .ok_or_else(|| format!("tag without a key: {t}"))
            })
            .collect(),
        other => Err(format!("tags are neither a map nor a list: {other}")),
    }
}
