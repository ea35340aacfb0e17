//! Reading the files a command is given: Config rule events, and the
//! configuration items of snapshot, history or plain JSON files.

use std::borrow::Cow;
use std::path::Path;

use atrest_common::item::parse_timestamp;
use atrest_common::{ConfigurationItem, Invocation};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::CliError;

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

/// A Config snapshot or history file, its items left undecoded: slices of
/// the file's bytes, each decoded when it is evaluated.
#[derive(serde::Deserialize)]
struct SnapshotSlices<'a> {
    #[serde(borrow, rename = "configurationItems")]
    items: Vec<&'a RawValue>,
}

/// Decodes a Config rule event file.
pub fn read_event(path: &Path) -> Result<Invocation, CliError> {
    let value = read_json(path)?;
    Invocation::from_value(value).map_err(|source| CliError::Rule {
        path: path.display().to_string(),
        source,
    })
}

/// A file of configuration items, read whole (and gunzipped).
pub struct ItemFile {
    name: String,
    bytes: Vec<u8>,
}

impl ItemFile {
    pub fn read(path: &Path) -> Result<Self, CliError> {
        Ok(ItemFile {
            name: path.display().to_string(),
            bytes: read_bytes(path)?,
        })
    }

    /// The file's items, undecoded: a Config snapshot or history file
    /// (`configurationItems`), a JSON array of items, or one item. The whole
    /// file is checked to be JSON of one of those shapes; each item is
    /// decoded (and its errors named) by [`Items::decode`].
    pub fn items(&self) -> Result<Items<'_>, CliError> {
        let input = |problem: &str| CliError::Input {
            path: self.name.clone(),
            problem: problem.into(),
        };
        let neither = || input("neither a Config snapshot (configurationItems) nor configuration items");
        // The common case in one pass over the bytes that allocates nothing
        // per item. Anything else, and every error, takes the path below.
        if let Ok(file) = serde_json::from_slice::<SnapshotSlices<'_>>(&self.bytes) {
            return Ok(self.slices(file.items));
        }
        let value = parse_json(Path::new(&self.name), &self.bytes)?;
        let slices = match &value {
            Value::Object(m) => match m.get("configurationItems") {
                // A list, yet not read above (e.g. the field appears twice): serde names why.
                Some(Value::Array(_)) => serde_json::from_slice::<SnapshotSlices<'_>>(&self.bytes).map(|f| f.items),
                Some(_) => return Err(input("configurationItems is not a list")),
                None if m.contains_key("resourceType") => {
                    serde_json::from_slice::<&RawValue>(&self.bytes).map(|r| vec![r])
                }
                None => return Err(neither()),
            },
            Value::Array(_) => serde_json::from_slice::<Vec<&RawValue>>(&self.bytes),
            _ => return Err(neither()),
        };
        let slices = slices.map_err(|source| CliError::Json {
            path: self.name.clone(),
            source,
        })?;
        Ok(self.slices(slices))
    }

    fn slices<'a>(&'a self, slices: Vec<&'a RawValue>) -> Items<'a> {
        Items {
            name: &self.name,
            slices,
        }
    }
}

/// The items of one [`ItemFile`], each decoded on demand.
pub struct Items<'a> {
    name: &'a str,
    slices: Vec<&'a RawValue>,
}

impl Items<'_> {
    /// Every item in turn, decoded.
    pub fn decoded(&self) -> impl Iterator<Item = Result<ConfigurationItem, CliError>> + '_ {
        self.slices.iter().enumerate().map(|(i, slice)| self.decode(i, slice))
    }

    /// The items whose flag in `keep` is set, decoded in turn.
    pub fn decoded_where<'k>(
        &'k self,
        keep: &'k [bool],
    ) -> impl Iterator<Item = Result<ConfigurationItem, CliError>> + 'k {
        self.slices
            .iter()
            .enumerate()
            .filter(|(i, _)| keep.get(*i).copied().unwrap_or(true))
            .map(|(i, slice)| self.decode(i, slice))
    }

    /// Each item's resource (type, id, account, region) and capture time,
    /// read without decoding the rest; `None` for an item that does not
    /// say (its full decoding names the problem).
    pub fn versions(&self) -> Vec<Option<Version<'_>>> {
        self.slices
            .iter()
            .map(|slice| {
                let id: Identity<'_> = serde_json::from_str(slice.get()).ok()?;
                let captured = id.capture.as_ref().and_then(parse_timestamp)?;
                Some(Version {
                    resource: (id.resource_type, id.resource_id, id.account, id.region),
                    captured: (captured.secs(), captured.subsec_nanos()),
                })
            })
            .collect()
    }

    /// Item `i` (from 0), decoded; errors name the file and the item's
    /// position (from 1).
    fn decode(&self, i: usize, slice: &RawValue) -> Result<ConfigurationItem, CliError> {
        serde_json::from_str(slice.get()).map_err(|e| CliError::Input {
            path: self.name.to_owned(),
            problem: format!("configuration item #{}: {e}", i + 1),
        })
    }

    /// The items of the `AWS::KMS::*` types (keys and aliases), decoded: what
    /// an offline key directory is built from. Only the items whose text
    /// names such a type are decoded: the type appears literally, unless it
    /// is written with `\u` escapes, and those items are decoded too.
    pub fn kms_items(&self) -> Result<Vec<ConfigurationItem>, CliError> {
        let kms = memchr::memmem::Finder::new(KMS_TYPE_PREFIX.as_bytes());
        let escape = memchr::memmem::Finder::new(b"\\u");
        let mut out = Vec::new();
        for (i, slice) in self.slices.iter().enumerate() {
            let text = slice.get().as_bytes();
            if kms.find(text).is_none() && escape.find(text).is_none() {
                continue;
            }
            let item = self.decode(i, slice)?;
            if item.resource_type.starts_with(KMS_TYPE_PREFIX) {
                out.push(item);
            }
        }
        Ok(out)
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
    ItemFile::read(path)?.items()?.decoded().collect()
}
