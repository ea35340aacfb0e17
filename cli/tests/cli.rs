//! The `atrest` command, run as a process on the bundled examples.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn atrest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atrest"))
        .args(args)
        .current_dir(root())
        // No AWS access may be needed or attempted by offline commands.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const KEYS: &str = "examples/kms-keys.json";

#[test]
fn evaluate_prints_every_verdict_of_the_bundled_events_as_json() {
    let o = atrest(&[
        "evaluate",
        "--rule",
        "ebs-volume-encrypted",
        "--keys",
        KEYS,
        "--format",
        "json",
        "--event",
        "examples/events/ebs-volume-customer-key.json",
        "examples/events/ebs-volume-aws-managed-key.json",
        "examples/events/ebs-volume-unencrypted.json",
        "examples/events/ebs-volume-deleted.json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "some resource is non-compliant: {}",
        stderr(&o)
    );
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        report.get("keyInventory").is_none(),
        "evaluate judges events, not an account"
    );
    let findings = &report["findings"];
    let got: Vec<(&str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["resourceId"].as_str().unwrap(), f["compliance"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("vol-0c1a2b3c4d5e6f701", "COMPLIANT"),
            ("vol-0c1a2b3c4d5e6f702", "NON_COMPLIANT"),
            ("vol-0c1a2b3c4d5e6f703", "NON_COMPLIANT"),
            ("vol-0c1a2b3c4d5e6f704", "NOT_APPLICABLE"),
        ]
    );
    let first = &findings[0];
    assert_eq!(first["rule"], "ebs-volume-encrypted");
    assert_eq!(first["resourceType"], "AWS::EC2::Volume");
    assert_eq!(first["accountId"], "111122223333");
    assert_eq!(first["orderingTimestamp"], "2026-11-29T08:15:42.123Z");
    assert!(findings[1]["annotation"].as_str().unwrap().contains("AWS-managed"));
}

#[test]
fn evaluate_exits_zero_when_nothing_is_non_compliant_and_prints_a_table() {
    let o = atrest(&[
        "evaluate",
        "--rule",
        "ebs-volume-encrypted",
        "--keys",
        KEYS,
        "--format",
        "table",
        "--event",
        "examples/events/ebs-volume-customer-key.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("RULE"), "{out}");
    assert!(
        out.contains("ebs-volume-encrypted") && out.contains("  1             0              0"),
        "{out}"
    );
    assert!(
        out.contains("1 evaluated: 1 compliant, 0 non-compliant, 0 not applicable"),
        "{out}"
    );
    assert!(!out.contains("NON_COMPLIANT:"), "{out}");
}

#[test]
fn bad_input_is_one_line_on_stderr_exit_two_and_no_report() {
    let dir = std::env::temp_dir().join(format!("atrest-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, "{ this is not json").unwrap();
    let bad_param = dir.join("bad-param.json");
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/events/ebs-volume-customer-key.json")).unwrap(),
    )
    .unwrap();
    event["ruleParameters"] = Value::String(r#"{"allowAwsManagedKeys": "maybe"}"#.into());
    std::fs::write(&bad_param, event.to_string()).unwrap();
    let good = "examples/events/ebs-volume-customer-key.json";

    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--rule".into(), "no-such-rule".into(), "--event".into(), good.into()],
            "unknown rule `no-such-rule`",
        ),
        (
            vec![
                "--rule".into(),
                "ebs-volume-encrypted".into(),
                "--event".into(),
                good.into(),
                not_json.display().to_string(),
            ],
            "is not valid JSON",
        ),
        (
            vec![
                "--rule".into(),
                "ebs-volume-encrypted".into(),
                "--event".into(),
                "missing.json".into(),
            ],
            "cannot read missing.json",
        ),
        (
            vec![
                "--rule".into(),
                "ebs-volume-encrypted".into(),
                "--event".into(),
                bad_param.display().to_string(),
            ],
            "rule parameter `allowAwsManagedKeys`: expected `true` or `false`, got `maybe`",
        ),
        (
            vec![
                "--rule".into(),
                "ebs-volume-encrypted".into(),
                "--keys".into(),
                good.into(),
                "--event".into(),
                good.into(),
            ],
            "neither a Config snapshot",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["evaluate".to_owned()];
        all.extend(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let o = atrest(&refs);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        let err = stderr(&o);
        assert!(err.starts_with("atrest: ") && err.contains(expected), "{all:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(stdout(&o).is_empty(), "nothing may be reported: {}", stdout(&o));
    }
}

#[test]
fn rules_lists_the_catalogue() {
    let o = atrest(&["rules", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let rules: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ebs = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ebs-volume-encrypted")
        .expect("ebs-volume-encrypted listed");
    assert_eq!(ebs["resourceTypes"][0], "AWS::EC2::Volume");
    assert_eq!(ebs["triggers"], serde_json::json!(["change", "periodic"]));
    let actions: Vec<&str> = ebs["iamActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(actions.contains(&"ec2:DescribeVolumes") && actions.contains(&"config:PutEvaluations"));
    let params: Vec<&str> = ebs["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        params,
        [
            "kmsKeyArns",
            "allowAwsManagedKeys",
            "trustedKeyAccounts",
            "assumeExecutionRole",
            "executionRoleName"
        ]
    );
    assert_eq!(ebs["pciDss"]["v4.0"][0], "3.5.1");

    let o = atrest(&["rules"]);
    assert!(stdout(&o).contains("ebs-volume-encrypted\n  EBS volumes are encrypted"));
}

/// The committed rule manifest (what the CDK app reads) is the registry's.
/// Regenerate with `cargo run -q -p atrest -- rules --json > rules/manifest.json`.
#[test]
fn the_committed_manifest_is_current() {
    let o = atrest(&["rules", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("rules/manifest.json")).unwrap();
    let current: Value = serde_json::from_slice(&o.stdout).unwrap();
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        committed == current,
        "rules/manifest.json is stale: cargo run -q -p atrest -- rules --json > rules/manifest.json"
    );
    assert_eq!(current.as_array().unwrap().len(), 26);
}
