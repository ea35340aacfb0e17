//! # atrest-e2e
//!
//! The harness of the end-to-end tests: a moto server (PyPI `moto[server]`,
//! a real AWS wire-protocol peer) per test on a free loopback port, the AWS
//! context pointed at it, and its request recorder read back as the list of
//! operations that reached it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atrest_common::aws::{retry_config, AwsContext};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_config::config::{Credentials, SharedCredentialsProvider};
use serde_json::Value;

/// Numbers the servers of this process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub mod events;
pub mod fault_proxy;
pub mod http;
pub mod runtime_api;
pub mod seed;
pub mod stores;

/// The region every test runs in.
pub const REGION: &str = "eu-west-1";
/// moto's account id.
pub const ACCOUNT: &str = "123456789012";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The virtual environment holding `moto_server` (`ATREST_VENV`, or `.venv`
/// at the workspace root, as `make venv` creates it).
pub fn venv() -> PathBuf {
    std::env::var_os("ATREST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"))
}

/// Runs the schema check (cli/tests/schemas/validate.py: `ocsf` against the
/// OCSF Compliance Finding JSON Schema, `asff` against the Security Hub API
/// model, and imported into `moto` when given) on `document`; its exit
/// status and output. `None` when the virtual environment is missing
/// outside CI.
pub fn schema_check(kind: &str, document: &serde_json::Value, moto: Option<&Moto>) -> Option<(bool, String)> {
    let python = venv().join("bin/python");
    if !python.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the virtual environment is missing under CI"
        );
        eprintln!("\n!!!!! SKIPPED: no virtual environment (make venv) !!!!!\n");
        return None;
    }
    let text = document.to_string();
    let file = std::env::temp_dir().join(format!(
        "atrest-schema-{kind}-{}-{}.json",
        std::process::id(),
        NEXT_FILE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&file, &text).expect("write the document to check");
    let mut command = std::process::Command::new(python);
    command
        .arg(root().join("cli/tests/schemas/validate.py"))
        .arg(kind)
        .arg(&file);
    if let Some(moto) = moto {
        command.arg(&moto.endpoint);
    }
    let o = command.output().expect("run validate.py");
    let _ = std::fs::remove_file(&file);
    Some((
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    ))
}

/// Numbers the documents `schema_check` writes, so tests running at once
/// do not share a file.
static NEXT_FILE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A running moto server, stopped (by its own pid) when dropped, also when a
/// test panics.
pub struct Moto {
    child: Child,
    recording: PathBuf,
    pub endpoint: String,
}

impl Moto {
    /// Starts a server, or returns `None` — with a loud message — when the
    /// virtual environment is missing and `CI` is not set. Under CI a
    /// missing moto fails the test.
    pub fn start() -> Option<Moto> {
        let server = venv().join("bin/moto_server");
        if !server.exists() {
            let msg = format!(
                "moto_server not found at {}: run `make venv` (or the README's test command)",
                server.display()
            );
            if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
                panic!("{msg}");
            }
            eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
            return None;
        }
        // Port 0: the server picks a free port itself and says which, so
        // tests running side by side never race for one.
        // Each server records to its own file (moto's default is one file in
        // the working directory, which servers side by side would share).
        let dir = std::env::temp_dir().join(format!("atrest-moto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for moto's recordings");
        let recording = dir.join(format!("recording-{}", NEXT.fetch_add(1, Ordering::SeqCst)));
        let mut child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto_server starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.split("Running on ").nth(1) {
                        let _ = tx.send(url.trim().to_owned());
                        sent = true;
                    }
                }
                // Keep draining so the server never blocks on a full pipe.
            }
        });
        let mut moto = Moto {
            child,
            recording,
            endpoint: String::new(),
        };
        moto.endpoint = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto_server said where it listens within 60 s");
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&format!("{}/moto-api/", moto.endpoint)).call().is_err() {
            assert!(Instant::now() < deadline, "moto_server did not answer within 60 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(moto)
    }

    /// The SDK configuration of a client of this server (dummy credentials,
    /// atrest's retry policy with short backoffs).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "moto",
            )))
            .retry_config(
                retry_config()
                    .with_initial_backoff(Duration::from_millis(5))
                    .with_max_backoff(Duration::from_millis(50)),
            )
            .build()
    }

    /// An atrest AWS context pointed at this server.
    pub fn aws(&self) -> AwsContext {
        AwsContext::new(self.sdk_config())
    }

    fn post(&self, path: &str) {
        ureq::post(&format!("{}{path}", self.endpoint))
            .send_empty()
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    }

    /// Starts recording requests (and forgets earlier recordings).
    pub fn start_recording(&self) {
        self.post("/moto-api/recorder/reset-recording");
        self.post("/moto-api/recorder/start-recording");
    }

    /// Stops recording and returns what was recorded.
    pub fn recording(&self) -> Vec<Recorded> {
        self.post("/moto-api/recorder/stop-recording");
        let text = ureq::get(&format!("{}/moto-api/recorder/download-recording", self.endpoint))
            .call()
            .expect("download-recording")
            .body_mut()
            .read_to_string()
            .expect("recording is text");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Recorded::parse(serde_json::from_str(l).expect("a recorded request is JSON")))
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.recording);
    }
}

/// One request moto received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: serde_json::Map<String, Value>,
    pub body: Vec<u8>,
}

impl Recorded {
    fn parse(v: Value) -> Self {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let raw = text("body");
        let body = if v.get("body_encoded").and_then(Value::as_bool).unwrap_or(false) {
            aws_smithy_types::base64::decode(&raw).expect("recorded body is base64")
        } else {
            raw.into_bytes()
        };
        Recorded {
            method: text("method"),
            url: text("url"),
            headers: v.get("headers").and_then(Value::as_object).cloned().unwrap_or_default(),
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }

    /// The service, from the SigV4 credential scope (`…/REGION/SERVICE/aws4_request`).
    pub fn service(&self) -> String {
        self.header("Authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(3))
            .unwrap_or("unknown")
            .to_owned()
    }

    /// `service:Operation`, as IAM names it.
    pub fn operation(&self) -> String {
        operation_of(&self.method, &self.url, |n| self.header(n), &self.body)
    }

    /// The JSON body of a JSON-protocol request.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The attempt number the SDK put in `amz-sdk-request`.
    pub fn attempt(&self) -> u32 {
        self.header("Amz-Sdk-Request")
            .and_then(|h| h.split(';').find_map(|p| p.trim().strip_prefix("attempt=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
    }
}

/// `service:Operation` of a request: the service from its SigV4 credential
/// scope; the operation from `X-Amz-Target` (JSON), `Action=` (query),
/// `x-id=` or the REST route (S3, Lambda).
pub fn operation_of<'a>(method: &str, url: &str, header: impl Fn(&str) -> Option<&'a str>, body: &[u8]) -> String {
    let service = header("Authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let op = if let Some(target) = header("X-Amz-Target") {
        target.rsplit('.').next().unwrap_or(target).to_owned()
    } else if let Some(action) = form_value(body, "Action") {
        action
    } else if let Some(id) = url.split(['?', '&']).find_map(|p| p.strip_prefix("x-id=")) {
        id.to_owned()
    } else {
        rest_operation(&service, method, url)
    };
    format!("{service}:{op}")
}

/// The operation of a REST request (S3 sub-resources, Lambda, EFS and
/// Backup routes).
fn rest_operation(service: &str, method: &str, url: &str) -> String {
    let after_host = url.splitn(4, '/').nth(3).unwrap_or_default();
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let known = match (service, method, segments.as_slice(), query) {
        ("s3", "GET", [_bucket], "encryption") => Some("GetBucketEncryption"),
        ("s3", "GET", [_bucket], "tagging") => Some("GetBucketTagging"),
        ("lambda", "GET", ["2015-03-31", "functions"], _) => Some("ListFunctions"),
        ("lambda", "GET", ["2015-03-31", "functions", _, "configuration"], _) => Some("GetFunctionConfiguration"),
        ("lambda", "GET", ["2017-03-31", "tags", _], _) => Some("ListTags"),
        ("elasticfilesystem", "GET", ["2015-02-01", "file-systems"], _) => Some("DescribeFileSystems"),
        ("backup", "GET", ["backup-vaults"], _) => Some("ListBackupVaults"),
        ("backup", "GET", ["tags", _], _) => Some("ListTags"),
        _ => None,
    };
    match known {
        Some(op) => op.to_owned(),
        None => format!("{method} /{path}?{query}"),
    }
}

fn form_value(body: &[u8], key: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
}

/// Counts operations (first attempts only) by `service:Operation`.
pub fn count_operations(recorded: &[Recorded]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for r in recorded.iter().filter(|r| r.attempt() == 1) {
        *counts.entry(r.operation()).or_insert(0) += 1;
    }
    counts
}

/// The bodies of the PutEvaluations calls recorded, in order.
pub fn put_evaluations(recorded: &[Recorded]) -> Vec<Value> {
    recorded
        .iter()
        .filter(|r| r.operation() == "config:PutEvaluations")
        .map(Recorded::json)
        .collect()
}

/// Every evaluation sent, as (resource type, resource id, compliance).
pub fn evaluations(recorded: &[Recorded]) -> Vec<(String, String, String)> {
    put_evaluations(recorded)
        .iter()
        .flat_map(|b| b["Evaluations"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (
                s("ComplianceResourceType"),
                s("ComplianceResourceId"),
                s("ComplianceType"),
            )
        })
        .collect()
}

/// The IAM action that authorises an API operation (`service:Operation`);
/// the same name except where IAM names it otherwise.
pub fn iam_action(operation: &str) -> String {
    match operation {
        "s3:ListBuckets" => "s3:ListAllMyBuckets".into(),
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration".into(),
        other => other.to_owned(),
    }
}

/// Asserts that every operation recorded is one the rule's spec declares
/// (so the least-privilege role of its function suffices); the STS call of
/// an execution role is made with the function's own role, declared by the
/// deployment. Returns the IAM actions used.
pub fn assert_within_spec(recorded: &[Recorded], rule: &dyn atrest_common::Rule) -> Vec<String> {
    let declared = rule.spec().iam_actions();
    let mut used: Vec<String> = count_operations(recorded)
        .keys()
        .map(|op| iam_action(op))
        .filter(|a| a != "sts:AssumeRole")
        .collect();
    used.sort();
    for action in &used {
        assert!(
            declared.contains(&action.as_str()),
            "{} called {action}, which its spec does not declare ({declared:?})",
            rule.spec().id
        );
    }
    used
}

/// Each evaluated resource's compliance, by resource id.
pub fn compliance_by_id(recorded: &[Recorded]) -> std::collections::BTreeMap<String, String> {
    evaluations(recorded).into_iter().map(|(_, id, c)| (id, c)).collect()
}

/// The annotation delivered for resource `id` (empty when none).
pub fn annotation_of(recorded: &[Recorded], id: &str) -> String {
    put_evaluations(recorded)
        .iter()
        .flat_map(|b| b["Evaluations"].as_array().cloned().unwrap_or_default())
        .find(|e| e["ComplianceResourceId"] == id)
        .and_then(|e| e["Annotation"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A scheduled sweep of `rule` on moto with `params`: what was recorded,
/// after checking every call is one the rule's spec declares.
pub async fn sweep_recorded(moto: &Moto, rule: &dyn atrest_common::Rule, params: Value) -> Vec<Recorded> {
    let handler = atrest_common::lambda::Handler::new(moto.aws());
    moto.start_recording();
    handler
        .handle(rule, events::scheduled(rule.spec().id, params))
        .await
        .expect("the sweep");
    let recorded = moto.recording();
    assert_within_spec(&recorded, rule);
    recorded
}
