//! Reading the files a command is given: Config rule events, and the
//! configuration items of snapshot, history or plain JSON files.

use std::borrow::Cow;
use std::path::Path;

use atrest_common::item::parse_timestamp;
use atrest_common::{ConfigurationItem, Invocation};
use serde_json::Value;

use crate::error::CliError;
use crate::item_stream::ItemReader;

/// Reads a file, gunzipping it when it is gzip-compressed (Config delivers
/// snapshots and history files as `.json.gz`).
fn read_bytes(path: &Path) -> Result<Vec<u8>, CliError> {
    let read_err = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let raw = std::fs::read(path).map_err(read_err)?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(raw.as_slice()), &mut text).map_err(read_err)?;
    Ok(text)
}

/// Reads and parses a JSON file, gzip-compressed or not.
pub fn read_json(path: &Path) -> Result<Value, CliError> {
    parse_json(path, &read_bytes(path)?)
}

fn parse_json(path: &Path, bytes: &[u8]) -> Result<Value, CliError> {
    serde_json::from_slice(bytes).map_err(|source| CliError::Json {
        path: path.display().to_string(),
        source,
    })
}

/// Decodes a Config rule event file.
pub fn read_event(path: &Path) -> Result<Invocation, CliError> {
    let value = read_json(path)?;
    Invocation::from_value(value).map_err(|source| CliError::Rule {
        path: path.display().to_string(),
        source,
    })
}

/// Decodes item `i` (from 0) of the file `name`; errors name the file and
/// the item's position (from 1).
pub fn decode_item(name: &str, i: usize, text: &str) -> Result<ConfigurationItem, CliError> {
    serde_json::from_str(text).map_err(|e| CliError::Input {
        path: name.to_owned(),
        problem: format!("configuration item #{}: {e}", i + 1),
    })
}

/// The resource (type, id, account, region) and capture time an item
/// records, read without decoding the rest; `None` for an item that does
/// not say (its full decoding names the problem).
pub fn version_of(text: &str) -> Option<Version<'_>> {
    let id: Identity<'_> = serde_json::from_str(text).ok()?;
    let captured = id.capture.as_ref().and_then(parse_timestamp)?;
    Some(Version {
        resource: (id.resource_type, id.resource_id, id.account, id.region),
        captured: (captured.secs(), captured.subsec_nanos()),
    })
}

/// Finds the items of the `AWS::KMS::*` types (keys and aliases) without
/// decoding the others: the type appears literally in an item's text,
/// unless it is written with `\u` escapes.
pub struct KmsFilter {
    kms: memchr::memmem::Finder<'static>,
    escape: memchr::memmem::Finder<'static>,
}

impl KmsFilter {
    pub fn new() -> Self {
        KmsFilter {
            kms: memchr::memmem::Finder::new(KMS_TYPE_PREFIX.as_bytes()),
            escape: memchr::memmem::Finder::new(b"\\u"),
        }
    }

    /// Item `i` of file `name`, decoded, when it is a key or an alias.
    pub fn kms_item(&self, name: &str, i: usize, text: &str) -> Result<Option<ConfigurationItem>, CliError> {
        let bytes = text.as_bytes();
        if self.kms.find(bytes).is_none() && self.escape.find(bytes).is_none() {
            return Ok(None);
        }
        let item = decode_item(name, i, text)?;
        Ok(item.resource_type.starts_with(KMS_TYPE_PREFIX).then_some(item))
    }
}

/// Which resource an item records: type, id, account, region.
pub type ResourceKey<'a> = (Cow<'a, str>, Cow<'a, str>, Option<Cow<'a, str>>, Option<Cow<'a, str>>);

/// One recorded version of a resource.
pub struct Version<'a> {
    pub resource: ResourceKey<'a>,
    /// The capture time (seconds, nanoseconds).
    pub captured: (i64, u32),
}

/// The fields of an item that say which resource, and when.
#[derive(serde::Deserialize)]
struct Identity<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Cow<'a, str>,
    #[serde(rename = "resourceId", borrow)]
    resource_id: Cow<'a, str>,
    #[serde(rename = "awsAccountId", alias = "accountId", default, borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(rename = "awsRegion", default, borrow)]
    region: Option<Cow<'a, str>>,
    #[serde(rename = "configurationItemCaptureTime", default)]
    capture: Option<Value>,
}

/// The prefix of every resource type the key directory reads.
const KMS_TYPE_PREFIX: &str = "AWS::KMS::";

/// The configuration items of a file: a Config snapshot or history file
/// (`configurationItems`), a JSON array of items, or one item.
pub fn read_items(path: &Path) -> Result<Vec<ConfigurationItem>, CliError> {
    let name = path.display().to_string();
    let mut reader = ItemReader::open(path)?;
    let mut items = Vec::new();
    while let Some((i, text)) = reader.next_item()? {
        items.push(decode_item(&name, i, text)?);
    }
    Ok(items)
}
