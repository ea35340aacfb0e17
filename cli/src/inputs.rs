//! Reading the files a command is given: Config rule events, and the
//! configuration items of snapshot, history or plain JSON files.

use std::path::Path;

use atrest_common::{ConfigurationItem, Invocation};
use serde_json::Value;

use crate::CliError;

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

/// A Config snapshot or history file, decoded straight into items.
#[derive(serde::Deserialize)]
struct ItemsFile {
    #[serde(rename = "configurationItems")]
    items: Vec<ConfigurationItem>,
}

/// Decodes a Config rule event file.
pub fn read_event(path: &Path) -> Result<Invocation, CliError> {
    let value = read_json(path)?;
    Invocation::from_value(value).map_err(|source| CliError::Rule {
        path: path.display().to_string(),
        source,
    })
}

/// The configuration items of a file: a Config snapshot or history file
/// (`configurationItems`), a JSON array of items, or one item.
pub fn read_items(path: &Path) -> Result<Vec<ConfigurationItem>, CliError> {
    let name = path.display().to_string();
    let bytes = read_bytes(path)?;
    // The common case in one pass, without a tree of the whole file first
    // (a snapshot of 100k items parses in about half the time). Anything
    // else, and every error, takes the path below, which names the problem.
    if let Ok(file) = serde_json::from_slice::<ItemsFile>(&bytes) {
        return Ok(file.items);
    }
    let value = parse_json(path, &bytes)?;
    let list = match value {
        Value::Object(mut m) if m.contains_key("configurationItems") => {
            m.remove("configurationItems").unwrap_or_default()
        }
        Value::Array(_) => value,
        Value::Object(ref m) if m.contains_key("resourceType") => Value::Array(vec![value]),
        _ => {
            return Err(CliError::Input {
                path: name,
                problem: "neither a Config snapshot (configurationItems) nor configuration items".into(),
            })
        }
    };
    let Value::Array(list) = list else {
        return Err(CliError::Input {
            path: name,
            problem: "configurationItems is not a list".into(),
        });
    };
    list.into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v).map_err(|e| CliError::Input {
                path: name.clone(),
                problem: format!("configuration item #{}: {e}", i + 1),
            })
        })
        .collect()
}
