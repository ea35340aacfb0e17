//! Where `atrest snapshot` reads from: files, directories and
//! `s3://bucket/prefix/`. A file is read as it is. A directory is walked,
//! and an S3 prefix listed (ListObjectsV2), for the snapshots AWS Config
//! delivers (`AWSLogs/<account>/Config/<region>/<y>/<m>/<d>/ConfigSnapshot/
//! <account>_Config_<region>_ConfigSnapshot_<yyyymmddThhmmssZ>_<id>.json.gz`):
//! the latest of each account and region is read, the others left out.
//! An S3 object is streamed to a temporary file (deleted at the end of the
//! run) and then read as a local one, its errors naming its `s3://` URL.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use atrest_common::aws::retry_config;
use atrest_common::AwsError;
use aws_config::BehaviorVersion;

use crate::error::CliError;

/// One file to read, and the name its errors give it.
pub struct Input {
    pub path: PathBuf,
    pub name: String,
}

/// The files of a run, and what they are, for the report's source line.
pub struct Resolved {
    pub inputs: Vec<Input>,
    pub source: String,
    /// Where downloaded objects are; removed when dropped.
    _downloads: Option<tempfile::TempDir>,
}

/// A snapshot AWS Config delivered: its account, region and time, and
/// where it is (a path or an S3 key).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Delivered {
    account: String,
    region: String,
    /// `yyyymmddThhmmssZ`: sorts as time does.
    taken: String,
    location: String,
}

/// The account, region and time of a delivered snapshot's file name, or
/// `None` when the name is not one.
fn delivered(location: &str) -> Option<Delivered> {
    let (dir, name) = location.rsplit_once('/').unwrap_or(("", location));
    if !dir.ends_with("ConfigSnapshot") || !(name.ends_with(".json.gz") || name.ends_with(".json")) {
        return None;
    }
    let mut parts = name.split('_');
    let account = parts.next()?;
    let (config, region, kind, taken) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let valid = account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && config == "Config"
        && kind == "ConfigSnapshot"
        && taken.len() == 16
        && taken.as_bytes()[8] == b'T'
        && taken.ends_with('Z');
    valid.then(|| Delivered {
        account: account.to_owned(),
        region: region.to_owned(),
        taken: taken.to_owned(),
        location: location.to_owned(),
    })
}

/// The latest snapshot of each account and region (on a tie of times, the
/// last location), in account and region order.
fn latest(found: impl IntoIterator<Item = Delivered>) -> Vec<Delivered> {
    let mut by_place: BTreeMap<(String, String), Delivered> = BTreeMap::new();
    for d in found {
        let place = (d.account.clone(), d.region.clone());
        match by_place.get(&place) {
            Some(held) if (&held.taken, &held.location) >= (&d.taken, &d.location) => {}
            _ => {
                by_place.insert(place, d);
            }
        }
    }
    by_place.into_values().collect()
}

/// An `s3://bucket/prefix` argument, split.
fn s3_url(arg: &str) -> Option<Result<(String, String), CliError>> {
    let rest = arg.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    Some(if bucket.is_empty() {
        Err(CliError::Usage(format!(
            "`{arg}` names no bucket (s3://BUCKET/PREFIX/)"
        )))
    } else {
        Ok((bucket.to_owned(), prefix.to_owned()))
    })
}

/// The files of the arguments, with S3 objects downloaded.
pub async fn resolve(args: &[String]) -> Result<Resolved, CliError> {
    let mut inputs = Vec::new();
    let mut sources = Vec::new();
    let mut downloads: Option<tempfile::TempDir> = None;
    let mut s3: Option<aws_sdk_s3::Client> = None;
    for arg in args {
        if let Some(url) = s3_url(arg) {
            let (bucket, prefix) = url?;
            if s3.is_none() {
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .retry_config(retry_config())
                    .load()
                    .await;
                s3 = Some(aws_sdk_s3::Client::new(&sdk));
            }
            let Some(client) = s3.as_ref() else { continue };
            let chosen = latest(list(client, &bucket, &prefix).await?);
            if chosen.is_empty() {
                return Err(no_snapshot(arg));
            }
            let dir = match &downloads {
                Some(dir) => dir.path().to_owned(),
                None => {
                    let dir = tempfile::Builder::new()
                        .prefix("atrest-s3-")
                        .tempdir()
                        .map_err(CliError::Write)?;
                    let path = dir.path().to_owned();
                    downloads = Some(dir);
                    path
                }
            };
            sources.push(described(arg, &chosen));
            for (n, d) in chosen.iter().enumerate() {
                let path = dir.join(format!("{}-{n}.json.gz", inputs.len()));
                download(client, &bucket, &d.location, &path).await?;
                inputs.push(Input {
                    path,
                    name: format!("s3://{bucket}/{}", d.location),
                });
            }
        } else if Path::new(arg).is_dir() {
            let chosen = latest(walk(Path::new(arg))?);
            if chosen.is_empty() {
                return Err(no_snapshot(arg));
            }
            sources.push(described(arg, &chosen));
            inputs.extend(chosen.into_iter().map(|d| Input {
                path: PathBuf::from(&d.location),
                name: d.location,
            }));
        } else {
            sources.push(arg.clone());
            inputs.push(Input {
                path: PathBuf::from(arg),
                name: arg.clone(),
            });
        }
    }
    Ok(Resolved {
        inputs,
        source: sources.join(", "),
        _downloads: downloads,
    })
}

fn no_snapshot(arg: &str) -> CliError {
    CliError::Input {
        path: arg.to_owned(),
        problem: "holds no snapshot delivered by AWS Config \
                  (…/ConfigSnapshot/<account>_Config_<region>_ConfigSnapshot_<time>_<id>.json.gz)"
            .into(),
    }
}

/// "s3://b/p (latest of 2 accounts × regions: 111122223333 eu-west-1 20261201T000000Z, ...)".
fn described(arg: &str, chosen: &[Delivered]) -> String {
    let each: Vec<String> = chosen
        .iter()
        .map(|d| format!("{} {} {}", d.account, d.region, d.taken))
        .collect();
    format!(
        "{arg} (the latest snapshot of {} account-regions: {})",
        chosen.len(),
        each.join("; ")
    )
}

/// The delivered snapshots under a directory, at any depth.
fn walk(dir: &Path) -> Result<Vec<Delivered>, CliError> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        let entry = entry.map_err(|e| CliError::Read {
            path: e
                .path()
                .map_or_else(|| dir.display().to_string(), |p| p.display().to_string()),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            found.extend(delivered(&entry.path().to_string_lossy()));
        }
    }
    Ok(found)
}

/// The delivered snapshots under an S3 prefix (every page).
async fn list(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<Vec<Delivered>, CliError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            CliError::Aws(format!(
                "s3://{bucket}/{prefix}: {}",
                AwsError::from_sdk("s3", "ListObjectsV2", &e)
            ))
        })?;
        found.extend(page.contents().iter().filter_map(|o| o.key()).filter_map(delivered));
    }
    Ok(found)
}

/// Streams one object to `path`, a piece at a time.
async fn download(client: &aws_sdk_s3::Client, bucket: &str, key: &str, path: &Path) -> Result<(), CliError> {
    let url = format!("s3://{bucket}/{key}");
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| CliError::Aws(format!("{url}: {}", AwsError::from_sdk("s3", "GetObject", &e))))?;
    let mut body = object.body;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(CliError::Write)?);
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| CliError::Aws(format!("{url}: reading the object: {e}")))?
    {
        file.write_all(&chunk).map_err(CliError::Write)?;
    }
    file.flush().map_err(CliError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "AWSLogs/111122223333/Config/eu-west-1/2026/12/1/ConfigSnapshot";

    #[test]
    fn delivered_snapshot_names_are_read_and_others_left_out() {
        let d = delivered(&format!(
            "{PREFIX}/111122223333_Config_eu-west-1_ConfigSnapshot_20261201T101500Z_0a1b.json.gz"
        ))
        .unwrap();
        assert_eq!(
            (d.account.as_str(), d.region.as_str(), d.taken.as_str()),
            ("111122223333", "eu-west-1", "20261201T101500Z")
        );
        for other in [
            "AWSLogs/111122223333/Config/ConfigWritabilityCheckFile",
            "AWSLogs/111122223333/Config/eu-west-1/2026/12/1/ConfigHistory/111122223333_Config_eu-west-1_ConfigHistory_AWS::EC2::Volume_20261201T000000Z_20261201T010000Z_1.json.gz",
            &format!("{PREFIX}/111122223333_Config_eu-west-1_ConfigSnapshot_yesterday_0a1b.json.gz"),
            &format!("{PREFIX}/notes.txt"),
        ] {
            assert_eq!(delivered(other), None, "{other}");
        }
    }

    #[test]
    fn the_latest_snapshot_of_each_account_and_region_is_chosen() {
        let at = |account: &str, region: &str, taken: &str| Delivered {
            account: account.into(),
            region: region.into(),
            taken: taken.into(),
            location: format!("{account}/{region}/{taken}"),
        };
        let chosen = latest([
            at("111122223333", "eu-west-1", "20261201T000000Z"),
            at("111122223333", "eu-west-1", "20261202T000000Z"),
            at("111122223333", "us-east-1", "20261130T000000Z"),
            at("444455556666", "eu-west-1", "20261203T000000Z"),
            at("444455556666", "eu-west-1", "20261101T000000Z"),
        ]);
        let taken: Vec<&str> = chosen.iter().map(|d| d.taken.as_str()).collect();
        assert_eq!(taken, ["20261202T000000Z", "20261130T000000Z", "20261203T000000Z"]);
    }

    #[test]
    fn an_s3_url_needs_a_bucket() {
        assert!(s3_url("s3:///prefix").unwrap().is_err());
        assert_eq!(
            s3_url("s3://bucket/AWSLogs/").unwrap().unwrap(),
            ("bucket".to_owned(), "AWSLogs/".to_owned())
        );
        assert!(s3_url("local/file.json").is_none());
    }
}
