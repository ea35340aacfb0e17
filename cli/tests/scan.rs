//! `atrest scan` against a moto server: a live, read-only sweep.

use std::process::Command;

use atrest_e2e::{count_operations, seed, Moto};
use serde_json::Value;

/// The AWS settings that point the CLI at `moto`.
fn aws_env(moto: &Moto) -> [(&'static str, &str); 5] {
    [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

/// The CLI with nothing of this machine's AWS set-up, pointed at `moto`.
fn atrest_on(moto: &Moto) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atrest"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(aws_env(moto));
    command
}

#[tokio::test]
async fn scan_sweeps_the_account_read_only() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let encrypted = seed::volume(&moto, Some(&key), 8, &[]).await;
    let plain = seed::volume(&moto, None, 8, &[]).await;

    moto.start_recording();
    let o = atrest_on(&moto)
        .args([
            "scan",
            "--rule",
            "ebs-volume-encrypted",
            "--rule",
            "kms-key-rotation-enabled",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let recorded = moto.recording();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let findings: Value = serde_json::from_slice(&o.stdout).unwrap();
    let get = |id: &str| {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["resourceId"] == id)
            .unwrap_or_else(|| panic!("{id} not in {findings}"))
            .clone()
    };
    let e = get(&encrypted);
    assert_eq!(e["compliance"], "COMPLIANT");
    assert_eq!(e["rule"], "ebs-volume-encrypted");
    assert_eq!(e["accountId"], "123456789012");
    assert_eq!(e["region"], "eu-west-1");
    assert_eq!(get(&plain)["compliance"], "NON_COMPLIANT");
    let key_id = key.rsplit('/').next().unwrap();
    assert_eq!(get(key_id)["rule"], "kms-key-rotation-enabled");
    assert_eq!(get(key_id)["compliance"], "NON_COMPLIANT");
    // Read-only: nothing was sent to Config; the key was described once,
    // though both rules needed it (one key directory for the region).
    let ops = count_operations(&recorded);
    assert!(ops.keys().all(|o| !o.starts_with("config:")), "{ops:?}");
    assert_eq!(ops.get("kms:DescribeKey"), Some(&1), "{ops:?}");
}

#[tokio::test]
async fn scan_lists_which_key_protects_what() {
    let Some(moto) = Moto::start() else { return };
    let used = seed::key(&moto, &[]).await;
    let doomed = seed::key(&moto, &[]).await;
    let idle = seed::key(&moto, &[]).await;
    let on_used = seed::volume(&moto, Some(&used), 8, &[]).await;
    let on_doomed = seed::volume(&moto, Some(&doomed), 8, &[]).await;
    aws_sdk_kms::Client::new(&moto.sdk_config())
        .schedule_key_deletion()
        // moto takes the key id here, not the ARN.
        .key_id(doomed.rsplit('/').next().unwrap())
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();

    let o = atrest_on(&moto)
        .args(["scan", "--rule", "ebs-volume-encrypted", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys = report["keyInventory"]["keys"].as_array().unwrap();
    let entry = |arn: &str| {
        keys.iter()
            .find(|k| k["key"] == arn)
            .unwrap_or_else(|| panic!("{arn} not in {keys:?}"))
    };
    // Every key of the region is listed (ListKeys), used or not.
    assert_eq!(keys.len(), 3, "{keys:?}");
    let used = entry(&used);
    assert_eq!(used["protects"]["AWS::EC2::Volume"], serde_json::json!([on_used]));
    assert_eq!(
        (used["manager"].as_str(), used["state"].as_str()),
        (Some("CUSTOMER"), Some("Enabled"))
    );
    assert_eq!(
        (used["accountId"].as_str(), used["region"].as_str()),
        (Some("123456789012"), Some("eu-west-1"))
    );
    assert_eq!(used["rotation"], "DISABLED");
    assert_eq!(
        (used["unused"].as_bool(), used["finding"].is_null()),
        (Some(false), true)
    );
    let doomed = entry(&doomed);
    assert_eq!(doomed["state"], "PendingDeletion");
    let finding = doomed["finding"].as_str().unwrap();
    assert!(finding.contains(&format!("AWS::EC2::Volume {on_doomed}")), "{finding}");
    assert_eq!(entry(&idle)["unused"], true);

    // The same inventory as CSV: one row per key and resource.
    let o = atrest_on(&moto)
        .args([
            "scan",
            "--rule",
            "ebs-volume-encrypted",
            "--inventory",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "the pending-deletion key is a finding");
    let csv = String::from_utf8(o.stdout).unwrap();
    assert_eq!(csv.lines().count(), 4, "a header and a row per key: {csv}");
    assert!(
        csv.lines().any(|l| l.contains(&on_used) && l.contains(",Enabled,")),
        "{csv}"
    );
}

#[test]
fn scan_without_a_region_says_so() {
    let o = Command::new(env!("CARGO_BIN_EXE_atrest"))
        .args(["scan", "--format", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no region"), "{err}");
    assert!(o.stdout.is_empty());
}

#[test]
fn evaluate_put_sends_the_evaluations_to_config() {
    let Some(moto) = Moto::start() else { return };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    moto.start_recording();
    let o = atrest_on(&moto)
        .args([
            "evaluate",
            "--rule",
            "ebs-volume-encrypted",
            "--put",
            "--format",
            "json",
            "--event",
            "examples/events/ebs-volume-unencrypted.json",
            "examples/events/ebs-volume-deleted.json",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let sent = atrest_e2e::evaluations(&moto.recording());
    assert_eq!(
        sent,
        [
            (
                "AWS::EC2::Volume".into(),
                "vol-0c1a2b3c4d5e6f703".into(),
                "NON_COMPLIANT".into()
            ),
            (
                "AWS::EC2::Volume".into(),
                "vol-0c1a2b3c4d5e6f704".into(),
                "NOT_APPLICABLE".into()
            ),
        ]
    );
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn scan_shows_a_progress_bar_only_on_a_terminal() {
    let Some(moto) = Moto::start() else { return };
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("\n!!!!! SKIPPED: util-linux `script` (a pseudo-terminal) is missing !!!!!\n");
        return;
    }
    let command = format!(
        "{} scan --rule ebs-volume-encrypted --rule kms-key-rotation-enabled --format table",
        env!("CARGO_BIN_EXE_atrest")
    );
    let env = aws_env(&moto);
    // On a pseudo-terminal: the bar (accounts, and resources judged) is
    // drawn, then cleared before the report.
    let tty = Command::new("/usr/bin/script")
        .args(["-qc", &command, "/dev/null"])
        .envs(env)
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("1/1 accounts"), "{screen}");
    assert!(screen.contains("resources judged"), "{screen}");
    assert!(screen.contains("RULE"), "{screen}");
    // Piped: no bar at all, on either stream.
    let piped = Command::new(env!("CARGO_BIN_EXE_atrest"))
        .args([
            "scan",
            "--rule",
            "ebs-volume-encrypted",
            "--rule",
            "kms-key-rotation-enabled",
            "--format",
            "table",
        ])
        .envs(env)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&piped.stdout),
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(!all.contains("2/2 ") && !all.contains(" in eu-west-1"), "{all}");
    assert!(all.starts_with("RULE"), "{all}");
}

/// `evaluate` runs the Lambda handler's path: an event whose rule assumes
/// the execution role is evaluated with that role's credentials (one
/// AssumeRole, then the key look-up), and one without a role to assume is
/// refused as the handler refuses it — never evaluated with the caller's
/// own credentials.
#[test]
fn evaluate_assumes_the_events_execution_role_as_the_handler_does() {
    let Some(moto) = Moto::start() else { return };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let text = std::fs::read_to_string(root.join("examples/events/ebs-volume-customer-key.json")).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["ruleParameters"] = Value::String(r#"{"assumeExecutionRole": "true"}"#.into());
    event["executionRoleArn"] = Value::String("arn:aws:iam::222233334444:role/atrest-member".into());
    let dir = std::env::temp_dir().join(format!("atrest-evaluate-role-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let with_role = dir.join("with-role.json");
    std::fs::write(&with_role, event.to_string()).unwrap();
    event.as_object_mut().unwrap().remove("executionRoleArn");
    let without_role = dir.join("without-role.json");
    std::fs::write(&without_role, event.to_string()).unwrap();

    let evaluate = |event: &std::path::Path| {
        atrest_on(&moto)
            .args([
                "evaluate",
                "--rule",
                "ebs-volume-encrypted",
                "--format",
                "json",
                "--event",
            ])
            .arg(event)
            .output()
            .unwrap()
    };
    moto.start_recording();
    let o = evaluate(&with_role);
    // The key is not in the member account moto models: NON_COMPLIANT.
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let calls = count_operations(&moto.recording());
    assert_eq!(calls.get("sts:AssumeRole"), Some(&1), "{calls:?}");
    assert!(calls.contains_key("kms:DescribeKey"), "{calls:?}");

    let o = evaluate(&without_role);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("assumeExecutionRole") && err.contains("executionRoleArn"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `atrest scan --rule <id> --format json` for each store rule of the
/// resource layer: a resource under a customer key is COMPLIANT, one
/// without is NON_COMPLIANT; the same key outside `kmsKeyArns` (`--param`),
/// or unreadable (DescribeKey denied by the fault proxy), is NON_COMPLIANT.
#[tokio::test]
async fn scan_judges_every_store_rule() {
    use atrest_e2e::fault_proxy::{Fault, FaultProxy};
    use atrest_e2e::stores::{store, RULES};
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let other = seed::key(&moto, &[]).await;
    let denied = FaultProxy::failing(&moto.endpoint, "kms:DescribeKey", Fault::AccessDenied);
    for id in RULES {
        let compliant = store(&moto, id, "scan-cmk", Some(&key)).await;
        let plain = store(&moto, id, "scan-plain", None).await;
        let cases = [
            (None, None, "COMPLIANT", "customer-managed KMS key"),
            (Some(&other), None, "NON_COMPLIANT", "not in kmsKeyArns"),
            (None, Some(&denied.endpoint), "NON_COMPLIANT", "could not be verified"),
        ];
        for (allowed, endpoint, cmk_verdict, says) in cases {
            let mut command = atrest_on(&moto);
            command.args(["scan", "--rule", id, "--format", "json"]);
            if let Some(allowed) = allowed {
                command.args(["--param", &format!("{id}.kmsKeyArns={allowed}")]);
            }
            if let Some(endpoint) = endpoint {
                command.env("AWS_ENDPOINT_URL", endpoint);
            }
            let o = command.output().unwrap();
            assert_eq!(o.status.code(), Some(1), "{id}: {}", String::from_utf8_lossy(&o.stderr));
            let findings: Value = serde_json::from_slice(&o.stdout).unwrap();
            // moto names a queue by the endpoint it was asked through.
            let named = |resource: &str| endpoint.map_or(resource.to_owned(), |e| resource.replace(&moto.endpoint, e));
            let finding = |resource: &str| {
                findings["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["resourceId"] == named(resource) && f["rule"] == *id)
                    .cloned()
                    .unwrap_or_else(|| panic!("{id}: no finding for {resource} in {findings}"))
            };
            let cmk = finding(&compliant);
            assert_eq!(cmk["compliance"], cmk_verdict, "{id}: {cmk}");
            assert!(cmk["annotation"].as_str().unwrap().contains(says), "{id}: {cmk}");
            assert_eq!(finding(&plain)["compliance"], "NON_COMPLIANT", "{id}");
        }
    }
}
