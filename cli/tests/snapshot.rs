//! `atrest snapshot` on the bundled Config snapshot, in every format, and
//! its refusals of bad input; `ocsf` and `asff` validated against their
//! vendored schemas (cli/tests/schemas/: the OCSF 1.5.0 Compliance Finding
//! JSON Schema; the Security Hub API model, with ASFF imported into moto's
//! Security Hub); `atrest diff` between two of its JSON reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use atrest_e2e::{schema_check, Moto};
use serde_json::{json, Value};

const SNAPSHOT: &str = "examples/config-snapshot.json";
const TAGS: &str = "kms-key-tags-aligned.tagKeys=CostCenter,Application";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn atrest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atrest"))
        .args(args)
        .current_dir(root())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atrest-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_findings(args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let o = atrest(args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stderr)));
    (o.status.code(), v["findings"].as_array().unwrap().clone())
}

fn find<'a>(findings: &'a [Value], rule: &str, id: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["rule"] == rule && f["resourceId"] == id)
        .unwrap_or_else(|| panic!("no finding of {rule} for {id}"))
}

#[test]
fn the_bundled_snapshot_is_judged_offline() {
    let (code, findings) = json_findings(&["snapshot", SNAPSHOT, "--param", TAGS, "--format", "json"]);
    assert_eq!(code, Some(1));
    assert_eq!(findings.len(), 112);
    let f = find(&findings, "ebs-volume-encrypted", "vol-0a11b22c33d44e551");
    assert_eq!(f["compliance"], "COMPLIANT");
    assert_eq!(f["accountId"], "111122223333");
    assert_eq!(f["region"], "eu-west-1");
    assert_eq!(f["resourceType"], "AWS::EC2::Volume");
    assert_eq!(
        find(&findings, "ebs-volume-encrypted", "vol-0a11b22c33d44e555")["compliance"],
        "NON_COMPLIANT"
    );
    assert_eq!(
        find(&findings, "s3-bucket-encrypted", "acme-marketing-assets-eu")["compliance"],
        "NON_COMPLIANT"
    );
    assert_eq!(
        find(&findings, "kms-key-tags-aligned", "vol-0a11b22c33d44e553")["annotation"],
        "CostCenter: resource=Payments, key=Finance"
    );
    assert_eq!(
        find(&findings, "kms-key-usable", "4d5e6f70-8192-4a3b-8c4d-5e6f70819203")["compliance"],
        "NON_COMPLIANT"
    );
    // Offline, whether a function has environment variables cannot be known:
    // reported as such, never COMPLIANT.
    let lambda = find(&findings, "lambda-env-encrypted", "settle-payments");
    assert_eq!(lambda["compliance"], "NON_COMPLIANT");
    assert!(lambda["annotation"]
        .as_str()
        .unwrap()
        .starts_with("Not verifiable offline"));
    // Aliases come from the snapshot's AWS::KMS::Alias items.
    assert_eq!(
        find(&findings, "kms-alias-naming", "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f")["compliance"],
        "COMPLIANT"
    );
}

#[test]
fn gzipped_snapshots_read_the_same() {
    let dir = temp_dir("gz");
    let gz = dir.join("snapshot.json.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(&std::fs::read(root().join(SNAPSHOT)).unwrap()).unwrap();
    enc.finish().unwrap();
    let (_, plain) = json_findings(&[
        "snapshot",
        SNAPSHOT,
        "--format",
        "json",
        "--rule",
        "s3-bucket-encrypted",
    ]);
    let (_, zipped) = json_findings(&[
        "snapshot",
        gz.to_str().unwrap(),
        "--format",
        "json",
        "--rule",
        "s3-bucket-encrypted",
    ]);
    assert_eq!(plain.len(), 4);
    assert_eq!(plain, zipped);
}

#[test]
fn a_rule_needing_a_parameter_is_left_out_with_a_note() {
    let o = atrest(&["snapshot", SNAPSHOT, "--format", "json"]);
    assert!(text(&o.stderr).contains("kms-key-tags-aligned skipped: it needs --param kms-key-tags-aligned.tagKeys"));
    let findings: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] != "kms-key-tags-aligned"));
}

#[test]
fn the_key_inventory_names_the_pending_deletion_key_with_what_it_protects() {
    let o = atrest(&["snapshot", SNAPSHOT, "--param", TAGS, "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys = report["keyInventory"]["keys"].as_array().unwrap();
    let key = |id: &str| {
        keys.iter()
            .find(|k| k["keyId"] == id)
            .unwrap_or_else(|| panic!("{id} not in {keys:?}"))
    };
    let doomed = key("4d5e6f70-8192-4a3b-8c4d-5e6f70819203");
    assert_eq!(doomed["state"], "PendingDeletion");
    assert_eq!(doomed["deletionDate"], "2026-12-06T00:00:00Z");
    assert_eq!(
        doomed["protects"]["AWS::Backup::BackupVault"],
        serde_json::json!(["ledger-vault"])
    );
    assert_eq!(
        doomed["protects"]["AWS::CloudTrail::Trail"],
        serde_json::json!(["management-events"])
    );
    let finding = doomed["finding"].as_str().unwrap();
    assert!(finding.contains("AWS::Backup::BackupVault ledger-vault, AWS::CloudTrail::Trail management-events"));
    assert!(finding.contains("pending deletion"), "{finding}");
    // The retired reporting key protects nothing recorded; an AWS-managed
    // key that protects nothing is not "unused" (not the organisation's).
    assert_eq!(key("5e6f7081-92a3-4b4c-9d5e-6f708192a3b4")["unused"], true);
    let aws = key("1b2c3d4e-5f60-4718-892a-3b4c5d6e7f80");
    assert_eq!(
        (aws["manager"].as_str(), aws["unused"].as_bool()),
        (Some("AWS"), Some(false))
    );
    let unused: Vec<&Value> = keys.iter().filter(|k| k["unused"] == true).collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert_eq!(key("6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f")["protectedResources"], 8);

    // The table names the finding under the counts; --inventory lists every key.
    let table = text(&atrest(&["snapshot", SNAPSHOT, "--param", TAGS, "--format", "table"]).stdout);
    assert!(
        table.contains("KEYS: 10 listed, 5 customer-managed, 1 unused"),
        "{table}"
    );
    assert!(table.contains(finding), "{table}");
    let o = atrest(&["snapshot", SNAPSHOT, "--inventory", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(1), "the pending-deletion key is a finding");
    let csv = text(&o.stdout);
    let rows: Vec<&str> = csv.lines().filter(|l| l.contains("4d5e6f70-8192")).collect();
    assert_eq!(rows.len(), 2, "one row per resource it protects: {csv}");
    assert!(
        rows[0].contains(",PendingDeletion,2026-12-06T00:00:00Z,ENABLED,,AWS::Backup::BackupVault,ledger-vault,false,")
    );

    // HTML holds it; --inventory is refused in a format it is not written
    // in, before anything is evaluated.
    let html = text(&atrest(&["snapshot", SNAPSHOT, "--format", "html"]).stdout);
    assert!(html.contains(r#"<table id="keys">"#));
    assert!(html.contains("Key inventory"));
    let o = atrest(&["snapshot", SNAPSHOT, "--inventory", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(text(&o.stderr).contains("--inventory is written as table, json or csv, not sarif"));
}

#[test]
fn table_csv_junit_and_sarif_carry_the_same_findings() {
    let args = |format: &'static str| vec!["snapshot", SNAPSHOT, "--param", TAGS, "--format", format];
    let table = text(&atrest(&args("table")).stdout);
    assert!(
        table.contains("112 evaluated: 46 compliant, 31 non-compliant, 35 not applicable"),
        "{table}"
    );
    assert!(
        table.contains("NON_COMPLIANT:\n  ebs-volume-encrypted  AWS::EC2::Volume vol-0a11b22c33d44e554"),
        "{table}"
    );

    let csv = text(&atrest(&args("csv")).stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rule,resourceType,resourceId,compliance,annotation,orderingTimestamp,accountId,region")
    );
    assert_eq!(lines.count(), 112);
    assert!(csv.contains("kms-key-tags-aligned,AWS::EC2::Volume,vol-0a11b22c33d44e553,NON_COMPLIANT,\"CostCenter: resource=Payments, key=Finance\""));

    let junit = text(&atrest(&args("junit")).stdout);
    assert!(junit.starts_with("<?xml"));
    assert!(
        junit.contains(r#"<testsuites name="atrest" tests="112" failures="31">"#),
        "{junit}"
    );
    assert!(junit.contains(r#"<testsuite name="ebs-volume-encrypted" tests="6" failures="2" skipped="0">"#));
    assert_eq!(junit.matches("<testcase ").count(), 112);
    assert_eq!(junit.matches("<failure ").count(), 31);

    let sarif: Value = serde_json::from_slice(&atrest(&args("sarif")).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "atrest");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.iter().filter(|r| r["level"] == "error").count(), 31);
    let r = results.iter().find(|r| r["level"] == "error").unwrap();
    let rule_index = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(run["tool"]["driver"]["rules"][rule_index]["id"], r["ruleId"]);
    assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
        .as_str()
        .unwrap()
        .contains('/'));
}

/// Chromium, for the HTML check: required under CI, else skipped loudly.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "chromium is missing under CI: the test command installs it"
        );
        eprintln!("\n!!!!! SKIPPED: chromium not installed (run the README's test command) !!!!!\n");
    }
    found
}

fn rendered_dom(chromium: &Path, page: &Path, fragment: &str, profile: &Path) -> String {
    let o = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--virtual-time-budget=2000",
            "--dump-dom",
            &format!("file://{}{fragment}", page.display()),
        ])
        .output()
        .unwrap();
    text(&o.stdout)
}

#[test]
fn the_html_evidence_page_renders_and_filters_in_a_browser() {
    let dir = temp_dir("html");
    let page = dir.join("evidence.html");
    let o = atrest(&[
        "snapshot",
        SNAPSHOT,
        "--param",
        TAGS,
        "--format",
        "html",
        "--output",
        page.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") || html.matches("http").count() == html.matches("https://github.com/atrest").count()
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "self-contained"
    );
    // Beside each rule, what its COMPLIANT proves and what it does not.
    assert_eq!(html.matches("COMPLIANT proves: ").count(), 26);
    assert!(html.contains("COMPLIANT proves: the key policy itself refuses every critical action to every principal without MFA. It does not prove: anything about grants"));
    let Some(chromium) = chromium() else { return };

    let dom = rendered_dom(&chromium, &page, "", &dir.join("profile-1"));
    assert!(
        dom.contains(r#"<span id="total">112</span>"#),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(dom.contains(r#"id="accounts">111122223333<"#));
    assert!(dom.contains("<svg class=\"chart\""));
    assert!(dom.contains("112 of 112 findings shown"), "the script ran");
    assert!(dom.contains("<td>v4.0</td><td>3.5.1</td>"));

    let dom = rendered_dom(&chromium, &page, "#filter=NON_COMPLIANT", &dir.join("profile-2"));
    assert!(
        dom.contains("31 of 112 findings shown"),
        "filter applied in the browser"
    );
    assert_eq!(dom.matches(r#"data-shown="yes""#).count(), 31);
}

/// The bundled snapshot with its items edited (e.g. put in another order).
fn rewritten_snapshot(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<Value>)) -> PathBuf {
    let mut snapshot: Value = serde_json::from_str(&std::fs::read_to_string(root().join(SNAPSHOT)).unwrap()).unwrap();
    edit(snapshot["configurationItems"].as_array_mut().unwrap());
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&snapshot).unwrap()).unwrap();
    path
}

#[test]
fn key_items_count_wherever_they_are_and_however_they_are_written() {
    let dir = temp_dir("order");
    let args = |file: &Path| -> Vec<String> {
        ["snapshot", file.to_str().unwrap(), "--param", TAGS, "--format", "json"]
            .map(String::from)
            .to_vec()
    };
    let judged = |file: &Path| {
        let args = args(file);
        let (code, mut findings) = json_findings(&args.iter().map(String::as_str).collect::<Vec<_>>());
        findings.sort_by_key(|f| f.to_string());
        (code, findings)
    };
    let expected = judged(&root().join(SNAPSHOT));
    // Key and alias items last, after every resource they protect.
    let keys_last = rewritten_snapshot(&dir, "keys-last.json", |items| {
        items.sort_by_key(|i| i["resourceType"].as_str().unwrap().starts_with("AWS::KMS::"));
    });
    let last = std::fs::read_to_string(&keys_last).unwrap();
    let last_key = last.rfind("\"AWS::KMS::Key\"").unwrap();
    assert!(last.rfind("\"AWS::EC2::Volume\"").unwrap() < last_key);
    assert_eq!(judged(&keys_last), expected);
    // Every type of a key item written with escapes: "AWS\u003a\u003aKMS…".
    let escaped = dir.join("escaped.json");
    let text = std::fs::read_to_string(root().join(SNAPSHOT)).unwrap();
    let written = text.replace("\"AWS::KMS::", "\"AWS\\u003a\\u003aKMS\\u003a\\u003a");
    assert!(!written.contains("AWS::KMS::") && written.contains("\\u003aKey\""));
    std::fs::write(&escaped, written).unwrap();
    assert_eq!(judged(&escaped), expected);
}

/// A configuration-history file: several versions of one resource. Only
/// the latest by capture time counts, wherever it stands in the file; a key
/// whose latest version is its deletion no longer resolves.
#[test]
fn history_files_judge_the_latest_version_of_each_resource() {
    let dir = temp_dir("history");
    const VOLUME: &str = "vol-0a11b22c33d44e553";
    const KEY: &str = "8a7b6c5d-4e3f-4210-9f8e-7d6c5b4a3921";
    let history = rewritten_snapshot(&dir, "history.json", |items| {
        let volume = items.iter().find(|i| i["resourceId"] == VOLUME).unwrap().clone();
        let key = items
            .iter()
            .position(|i| i["resourceId"] == KEY && i["resourceType"] == "AWS::KMS::Key")
            .unwrap();
        // An older, unencrypted version of the volume, after the current one.
        let mut older = volume;
        older["configurationItemCaptureTime"] = json!("2026-11-01T00:00:00.000Z");
        older["configuration"]["encrypted"] = json!(false);
        items.push(older);
        // The key's deletion, a day later, before its last live version.
        let mut deleted = items[key].clone();
        deleted["configurationItemCaptureTime"] = json!("2026-11-30T00:00:00.000Z");
        deleted["configurationItemStatus"] = json!("ResourceDeleted");
        deleted["configuration"] = json!(null);
        deleted["supplementaryConfiguration"] = json!({});
        items.insert(key, deleted);
    });
    let o = atrest(&[
        "snapshot",
        history.to_str().unwrap(),
        "--param",
        TAGS,
        "--format",
        "json",
    ]);
    assert!(
        text(&o.stderr)
            .contains("history: the latest version of each of 2 resources judged, 2 earlier versions set aside"),
        "{}",
        text(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let of = |rule: &str, id: &str| -> Vec<&Value> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule && f["resourceId"] == id)
            .collect()
    };
    let volume = of("ebs-volume-encrypted", VOLUME);
    assert_eq!(volume.len(), 1, "one finding per resource: {volume:?}");
    assert_eq!(volume[0]["compliance"], "NON_COMPLIANT");
    assert!(
        volume[0]["annotation"].as_str().unwrap().contains("was deleted"),
        "{volume:?}"
    );
    let key = of("kms-key-usable", KEY);
    assert_eq!(key.len(), 1);
    assert_eq!(key[0]["compliance"], "NOT_APPLICABLE");
    // Each resource judged once: as many findings as for the snapshot itself.
    assert_eq!(findings.len(), 112);
}

#[test]
fn bad_input_is_refused_without_a_report() {
    let dir = temp_dir("bad");
    let not_json = dir.join("broken.json");
    std::fs::write(&not_json, "{\"configurationItems\": [").unwrap();
    let not_snapshot = dir.join("other.json");
    std::fs::write(&not_snapshot, "{\"hello\": 1}").unwrap();
    let bad_item = dir.join("bad-item.json");
    // Items are decoded one at a time as they are judged: a bad item after
    // good ones still stops the run before anything is reported.
    let late_bad_item = dir.join("late-bad-item.json");
    let mut snapshot: Value = serde_json::from_str(&std::fs::read_to_string(root().join(SNAPSHOT)).unwrap()).unwrap();
    let items = snapshot["configurationItems"].as_array_mut().unwrap();
    items.push(serde_json::json!({"resourceType": "AWS::EC2::Volume", "resourceId": "vol-late", "tags": 7}));
    let late_position = format!("configuration item #{}: AWS::EC2::Volume vol-late", items.len());
    std::fs::write(&late_bad_item, snapshot.to_string()).unwrap();
    std::fs::write(
        &bad_item,
        r#"{"configurationItems": [{"resourceType": "AWS::EC2::Volume"}]}"#,
    )
    .unwrap();
    let out = dir.join("report.json");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["snapshot", not_json.to_str().unwrap()], "is not valid JSON"),
        (
            vec!["snapshot", not_snapshot.to_str().unwrap()],
            "neither a Config snapshot",
        ),
        (vec!["snapshot", bad_item.to_str().unwrap()], "configuration item #1"),
        (vec!["snapshot", late_bad_item.to_str().unwrap()], &late_position),
        (vec!["snapshot", "no/such/file.json"], "cannot read no/such/file.json"),
        (
            vec!["snapshot", SNAPSHOT, "--rule", "no-such-rule"],
            "unknown rule `no-such-rule`",
        ),
        (
            vec!["snapshot", SNAPSHOT, "--param", "oops"],
            "expected RULE.NAME=VALUE",
        ),
        (
            vec![
                "snapshot",
                SNAPSHOT,
                "--param",
                "kms-key-rotation-enabled.maxRotationPeriodInDays=7",
            ],
            "from 90 to 2560",
        ),
        (
            vec!["snapshot", SNAPSHOT, "--param", "ebs-volume-encrypted.kmsKeyArn=x"],
            "unknown parameter",
        ),
    ];
    for (mut args, expected) in cases {
        args.extend(["--output", out.to_str().unwrap()]);
        let o = atrest(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = text(&o.stderr);
        assert!(err.starts_with("atrest: ") && err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(o.stdout.is_empty());
        assert!(!out.exists(), "no partial report for {args:?}");
    }
}

/// The bundled snapshot with `n` more volumes cloned from its first, named
/// `vol-clone-0000`… in file order.
fn many_volumes(dir: &Path, name: &str, n: usize, edit: impl FnOnce(&mut Vec<Value>)) -> PathBuf {
    rewritten_snapshot(dir, name, |items| {
        let volume = items
            .iter()
            .find(|i| i["resourceType"] == "AWS::EC2::Volume")
            .unwrap()
            .clone();
        for k in 0..n {
            let mut clone = volume.clone();
            clone["resourceId"] = json!(format!("vol-clone-{k:04}"));
            clone["ARN"] = json!(format!("arn:aws:ec2:eu-west-1:111122223333:volume/vol-clone-{k:04}"));
            items.push(clone);
        }
        edit(items);
    })
}

/// Items are judged by several workers at once, a few hundred at a time:
/// the findings still come in file order, and of two bad items the first
/// in the file is the error, whichever worker finished first.
#[test]
fn many_items_judged_in_parallel_keep_file_order_and_the_first_error() {
    let dir = temp_dir("parallel");
    let big = many_volumes(&dir, "big.json", 3000, |_| {});
    let (_, findings) = json_findings(&["snapshot", big.to_str().unwrap(), "--rule", "ebs-volume-encrypted"]);
    let clones: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["resourceId"].as_str())
        .filter(|id| id.starts_with("vol-clone-"))
        .collect();
    let expected: Vec<String> = (0..3000).map(|k| format!("vol-clone-{k:04}")).collect();
    assert_eq!(clones, expected, "findings in file order");
    let bad = |id: &str| json!({"resourceType": "AWS::EC2::Volume", "resourceId": id, "tags": 7});
    let mut early = 0;
    let two_bad = many_volumes(&dir, "two-bad.json", 3000, |items| {
        early = items.len() - 2500;
        items.insert(early, bad("vol-early"));
        items.push(bad("vol-late"));
    });
    let o = atrest(&["snapshot", two_bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "configuration item #{}: AWS::EC2::Volume vol-early",
            early + 1
        )),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn the_readme_shows_what_its_run_command_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run -q -p atrest -- "))
        .expect("the README's run command");
    let args: Vec<&str> = command
        .trim_start_matches("cargo run -q -p atrest -- ")
        .split_whitespace()
        .collect();
    let shown = readme.split(command).nth(1).unwrap();
    let shown = shown.split("```text\n").nth(1).unwrap().split("```").next().unwrap();
    let o = atrest(&args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stdout).trim_end(), shown.trim_end());
}

/// The bundled snapshot's report in `format`, parsed.
fn report(format: &str) -> Value {
    let o = atrest(&["snapshot", SNAPSHOT, "--format", format]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn ocsf_events_are_valid_compliance_findings() {
    let events = report("ocsf");
    let findings = report("json")["findings"].as_array().unwrap().clone();
    let list = events.as_array().unwrap();
    assert_eq!(list.len(), findings.len());
    let failing = list
        .iter()
        .find(|e| e["compliance"]["status_id"] == 3)
        .expect("a failed control");
    assert_eq!(failing["class_uid"], 2003);
    assert_eq!(failing["type_uid"], 200301);
    assert_eq!(failing["severity_id"], 3);
    assert_eq!(failing["cloud"]["account"]["uid"], "111122223333");
    assert!(failing["compliance"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().starts_with("PCI DSS v4.0 ")));
    let Some((valid, out)) = schema_check("ocsf", &events, None) else {
        return;
    };
    assert!(valid, "{out}");

    // The check can fail: an event without its class, with an unknown
    // severity and a field OCSF does not define is refused, by name.
    let mut broken = events.clone();
    let first = broken[0].as_object_mut().unwrap();
    first.remove("class_uid");
    first.insert("severity_id".into(), 42.into());
    first.insert("colour".into(), "red".into());
    let (valid, out) = schema_check("ocsf", &broken, None).unwrap();
    assert!(!valid);
    assert!(
        out.contains("class_uid") && out.contains("42") && out.contains("colour"),
        "{out}"
    );
}

#[test]
fn asff_findings_pass_the_security_hub_model_and_import_into_moto() {
    let Some(moto) = Moto::start() else { return };
    let findings = report("asff");
    let list = findings.as_array().unwrap();
    let failed = list
        .iter()
        .find(|f| f["Compliance"]["Status"] == "FAILED")
        .expect("a failed finding");
    assert_eq!(failed["Severity"]["Label"], "MEDIUM");
    assert_eq!(failed["AwsAccountId"], "111122223333");
    assert_eq!(
        failed["ProductArn"],
        "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    );
    let volume = list
        .iter()
        .find(|f| f["Resources"][0]["Id"] == "vol-0a11b22c33d44e551")
        .unwrap();
    assert_eq!(volume["Resources"][0]["Type"], "AwsEc2Volume");
    assert_eq!(volume["Compliance"]["Status"], "PASSED");
    let (valid, out) = schema_check("asff", &findings, Some(&moto)).unwrap();
    assert!(valid, "{out}");

    // The check can fail: a status Security Hub does not know and a
    // finding without its account are refused, by name.
    let mut broken = findings.clone();
    broken[0]["Compliance"]["Status"] = "MAYBE".into();
    broken[1].as_object_mut().unwrap().remove("AwsAccountId");
    let (valid, out) = schema_check("asff", &broken, None).unwrap();
    assert!(!valid);
    assert!(out.contains("MAYBE") && out.contains("AwsAccountId"), "{out}");
}

#[test]
fn diff_names_what_changed_between_two_reports() {
    let dir = temp_dir("diff");
    let old = report("json");
    let mut new = old.clone();
    let findings = new["findings"].as_array_mut().unwrap();
    let fixed_at = findings
        .iter()
        .position(|f| f["compliance"] == "NON_COMPLIANT")
        .unwrap();
    findings[fixed_at]["compliance"] = "COMPLIANT".into();
    let worse_at = findings.iter().position(|f| f["compliance"] == "COMPLIANT").unwrap();
    findings[worse_at]["compliance"] = "NON_COMPLIANT".into();
    let worse = findings[worse_at]["resourceId"].clone();
    let gone = findings.pop().unwrap();
    let (old_path, new_path) = (dir.join("old.json"), dir.join("new.json"));
    std::fs::write(&old_path, old.to_string()).unwrap();
    std::fs::write(&new_path, new.to_string()).unwrap();
    let (old_arg, new_arg) = (old_path.to_str().unwrap(), new_path.to_str().unwrap());

    let o = atrest(&["diff", old_arg, new_arg, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let diff: Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary = &diff["summary"];
    assert_eq!(summary["newNonCompliant"], 1);
    assert_eq!(summary["fixed"], 1);
    assert_eq!(summary["gone"], 1);
    assert_eq!(summary["unchanged"], old["findings"].as_array().unwrap().len() - 3);
    assert_eq!(diff["changes"][0]["change"], "new-non-compliant");
    assert_eq!(diff["changes"][0]["resourceId"], worse);
    let gone_change = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "gone")
        .unwrap();
    assert_eq!(gone_change["resourceId"], gone["resourceId"]);

    // The table says the same; a report against itself changes nothing: exit 0.
    let o = atrest(&["diff", old_arg, new_arg, "--format", "table"]);
    assert_eq!(o.status.code(), Some(1));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("1 newly non-compliant, 0 unassessed, 1 fixed, 1 gone, 0 new"),
        "{table}"
    );
    assert!(table.contains("\nNEW-NON-COMPLIANT:\n"), "{table}");
    let o = atrest(&["diff", old_arg, old_arg, "--format", "table"]);
    assert_eq!(o.status.code(), Some(0));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("0 newly non-compliant, 0 unassessed, 0 fixed, 0 gone, 0 new, 0 changed"),
        "{table}"
    );
    let o = atrest(&["diff", old_arg, new_arg, "--format", "csv"]);
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.starts_with("change,rule,accountId,region,resourceType,resourceId,before,after,annotation\n"));
    assert_eq!(csv.lines().count(), 4, "{csv}");

    // Not a report: a clear error naming the file, nothing on stdout.
    let o = atrest(&["diff", old_arg, SNAPSHOT]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(SNAPSHOT) && err.contains("not an atrest JSON report"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
