//! `atrest scan --organization` and `--accounts` on moto's organisation:
//! credentials from AssumeRole into another account's role act in that
//! account. The role of one account cannot be assumed: the fault proxy
//! answers its AssumeRole (and only its) with STS's AccessDenied.

use std::process::{Command, Output};

use atrest_e2e::fault_proxy::{Fault, FaultProxy};
use atrest_e2e::{count_operations, schema_check, Moto};
use aws_config::SdkConfig;
use serde_json::Value;

/// The management account moto's default credentials act in.
const MANAGEMENT: &str = "123456789012";

/// The CLI with nothing of this machine's AWS set-up, pointed at `endpoint`.
fn atrest_at(endpoint: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atrest"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

/// The configuration of `account` through its OrganizationAccountAccessRole.
async fn in_account(moto: &Moto, account: &str) -> SdkConfig {
    let arn = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
    moto.aws().assume_role(&arn, "seed").await.sdk_config().clone()
}

/// A volume in the account of `sdk`, under a new customer key of that
/// account when `encrypted`; its id.
async fn volume(sdk: &SdkConfig, encrypted: bool) -> String {
    let key = if encrypted {
        let created = aws_sdk_kms::Client::new(sdk).create_key().send().await.unwrap();
        created.key_metadata().and_then(|m| m.arn()).map(str::to_owned)
    } else {
        None
    };
    let created = aws_sdk_ec2::Client::new(sdk)
        .create_volume()
        .availability_zone("eu-west-1a")
        .size(8)
        .encrypted(encrypted)
        .set_kms_key_id(key)
        .send()
        .await
        .unwrap();
    created.volume_id().unwrap().to_owned()
}

/// An organisation of four member accounts: `alpha` with an encrypted
/// volume, `beta` with a plain one, `broken`, and `closed` (suspended).
struct Organisation {
    alpha: String,
    beta: String,
    broken: String,
    closed: String,
    alpha_volume: String,
    beta_volume: String,
}

async fn organisation(moto: &Moto) -> Organisation {
    use aws_sdk_organizations::types::OrganizationFeatureSet;
    let org = aws_sdk_organizations::Client::new(&moto.sdk_config());
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["alpha", "beta", "broken", "closed"] {
        let created = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap();
        ids.push(
            created
                .create_account_status()
                .and_then(|s| s.account_id())
                .unwrap()
                .to_owned(),
        );
    }
    org.close_account().account_id(&ids[3]).send().await.unwrap();
    let alpha_volume = volume(&in_account(moto, &ids[0]).await, true).await;
    let beta_volume = volume(&in_account(moto, &ids[1]).await, false).await;
    Organisation {
        alpha: ids[0].clone(),
        beta: ids[1].clone(),
        broken: ids[2].clone(),
        closed: ids[3].clone(),
        alpha_volume,
        beta_volume,
    }
}

/// `atrest scan --organization --rule ebs-volume-encrypted` through `endpoint`, in `format`.
fn scan_organization(endpoint: &str, format: &str, more: &[&str]) -> Output {
    atrest_at(endpoint)
        .args([
            "scan",
            "--organization",
            "--rule",
            "ebs-volume-encrypted",
            "--format",
            format,
        ])
        .args(more)
        .output()
        .unwrap()
}

fn findings(o: &Output) -> Vec<Value> {
    let report: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    report["findings"].as_array().unwrap().clone()
}

#[tokio::test]
async fn scan_organization_reports_every_account_and_names_the_one_it_could_not_enter() {
    let Some(moto) = Moto::start() else { return };
    let org = organisation(&moto).await;
    let proxy = FaultProxy::failing_when(&moto.endpoint, "sts:AssumeRole", &org.broken, Fault::AccessDenied);

    moto.start_recording();
    let o = scan_organization(&proxy.endpoint, "json", &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Something could not be assessed: exit 2, with the report still written.
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let found = findings(&o);
    let of = |id: &str| {
        found
            .iter()
            .find(|f| f["resourceId"] == id)
            .unwrap_or_else(|| panic!("{id} not in {found:?}"))
    };
    assert_eq!(of(&org.alpha_volume)["compliance"], "COMPLIANT");
    assert_eq!(of(&org.alpha_volume)["accountId"], org.alpha.as_str());
    assert_eq!(of(&org.beta_volume)["compliance"], "NON_COMPLIANT");
    assert_eq!(of(&org.beta_volume)["accountId"], org.beta.as_str());
    assert_eq!(of(&org.beta_volume)["region"], "eu-west-1");
    // Each volume is found in its own account only.
    assert_eq!(found.len(), 2, "{found:?}");
    // The broken account is an error naming it and the reason; the closed
    // one is not scanned at all.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["accountId"], org.broken.as_str());
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("AccessDenied")
            && reason.contains(&format!(
                "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
                org.broken
            )),
        "{reason}"
    );
    assert!(
        stderr.contains(&org.broken) && stderr.contains("not assessed"),
        "{stderr}"
    );
    assert!(
        !o.stdout.windows(12).any(|w| w == org.closed.as_bytes()),
        "the closed account was scanned"
    );
    // One AssumeRole per reachable member; the management account is read
    // with the caller's own credentials.
    let calls = count_operations(&moto.recording());
    assert_eq!(calls.get("sts:AssumeRole"), Some(&2), "{calls:?}");
    assert_eq!(calls.get("organizations:ListAccounts"), Some(&1), "{calls:?}");

    // The table: a total per account, and what was not assessed.
    let o = scan_organization(&proxy.endpoint, "table", &[]);
    assert_eq!(o.status.code(), Some(2));
    let table = String::from_utf8_lossy(&o.stdout);
    let row = |account: &str| {
        table
            .lines()
            .find(|l| l.starts_with(account))
            .unwrap_or_else(|| panic!("no row of {account} in\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(row(&org.alpha)[1..], ["1", "0", "0", "0"]);
    assert_eq!(row(&org.beta)[1..], ["0", "1", "0", "0"]);
    assert_eq!(row(&org.broken)[1..], ["0", "0", "0", "1"]);
    assert!(table.contains("NOT ASSESSED:"), "{table}");

    // The HTML page: the per-account summary, its filter and the error.
    let o = scan_organization(&proxy.endpoint, "html", &[]);
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(r#"<table id="per-account">"#), "no per-account summary");
    assert!(
        page.contains(&format!(r#"<option value="{}">"#, org.beta)),
        "no account filter"
    );
    assert!(page.contains(r#"<table id="errors">"#) && page.contains("AccessDenied"));

    // OCSF and ASFF carry the gap, not a clean account: an event of unknown
    // status, and a NOT_AVAILABLE finding for each region the scan covered.
    let o = scan_organization(
        &proxy.endpoint,
        "ocsf",
        &["--region", "eu-west-1", "--region", "us-east-1"],
    );
    assert_eq!(o.status.code(), Some(2));
    let events: Value = serde_json::from_slice(&o.stdout).unwrap();
    let gaps: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["compliance"]["status_id"] == 0)
        .collect();
    assert_eq!(gaps.len(), 1, "{events}");
    assert_eq!(gaps[0]["cloud"]["account"]["uid"], org.broken.as_str());
    assert_eq!(gaps[0]["resources"][0]["type"], "AWS::::Account");
    assert!(
        gaps[0]["message"].as_str().unwrap().contains("AccessDenied"),
        "{}",
        gaps[0]
    );
    if let Some((valid, out)) = schema_check("ocsf", &events, None) {
        assert!(valid, "{out}");
    }
    let o = scan_organization(
        &proxy.endpoint,
        "asff",
        &["--region", "eu-west-1", "--region", "us-east-1"],
    );
    assert_eq!(o.status.code(), Some(2));
    let asff: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut gaps: Vec<_> = asff
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["Compliance"]["Status"] == "NOT_AVAILABLE")
        .map(|f| {
            assert_eq!(f["AwsAccountId"], org.broken.as_str());
            assert_eq!(f["Resources"][0]["Type"], "AwsAccount");
            assert_eq!(f["Resources"][0]["Id"], format!("AWS::::Account:{}", org.broken));
            assert!(f["Description"].as_str().unwrap().contains("AccessDenied"), "{f}");
            f["Region"].as_str().unwrap().to_owned()
        })
        .collect();
    gaps.sort();
    assert_eq!(gaps, ["eu-west-1", "us-east-1"], "{asff}");
    if let Some((valid, out)) = schema_check("asff", &asff, Some(&moto)) {
        assert!(valid, "{out}");
    }

    // Without the broken account, nothing is missing: exit 1 for beta.
    let o = scan_organization(&proxy.endpoint, "json", &["--exclude-accounts", &org.broken]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report.get("errors").is_none(), "{report}");
}

#[tokio::test]
async fn scan_accounts_reads_the_named_accounts_through_the_named_role() {
    let Some(moto) = Moto::start() else { return };
    let org = organisation(&moto).await;
    moto.start_recording();
    let o = atrest_at(&moto.endpoint)
        .args(["scan", "--accounts"])
        .arg(format!("{},{}", org.alpha, MANAGEMENT))
        .args([
            "--role-name",
            "audit/atrest-reader",
            "--external-id",
            "ext-42",
            "--rule",
            "ebs-volume-encrypted",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let found = findings(&o);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["resourceId"], org.alpha_volume.as_str());
    let recorded = moto.recording();
    let assumed: Vec<_> = recorded.iter().filter(|r| r.operation() == "sts:AssumeRole").collect();
    assert_eq!(assumed.len(), 1);
    let body = String::from_utf8_lossy(&assumed[0].body);
    assert!(
        body.contains(&format!(
            "arn%3Aaws%3Aiam%3A%3A{}%3Arole%2Faudit%2Fatrest-reader",
            org.alpha
        )),
        "{body}"
    );
    assert!(
        body.contains("ExternalId=ext-42") && body.contains("RoleSessionName=atrest-scan"),
        "{body}"
    );
    let calls = count_operations(&recorded);
    assert!(!calls.contains_key("organizations:ListAccounts"), "{calls:?}");

    let o = atrest_at(&moto.endpoint)
        .args(["scan", "--accounts", "12345", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`12345` is not an AWS account id"));
    assert!(o.stdout.is_empty());
}

/// A Config snapshot of one unencrypted volume `id`, taken `at`, gzipped.
fn snapshot_of(account: &str, region: &str, id: &str, at: &str) -> Vec<u8> {
    use std::io::Write;
    let item = serde_json::json!({
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": at,
        "configurationStateId": 1,
        "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::Volume",
        "resourceId": id,
        "ARN": format!("arn:aws:ec2:{region}:{account}:volume/{id}"),
        "awsRegion": region,
        "awsAccountId": account,
        "tags": {},
        "relationships": [],
        "configuration": {"volumeId": id, "encrypted": false, "size": 8, "state": "available"},
        "supplementaryConfiguration": {}
    });
    let text = serde_json::json!({"fileVersion": "1.0", "configSnapshotId": id, "configurationItems": [item]});
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(text.to_string().as_bytes()).unwrap();
    z.finish().unwrap()
}

/// The key Config delivers a snapshot under.
fn delivery_key(account: &str, region: &str, taken: &str) -> String {
    format!(
        "org/AWSLogs/{account}/Config/{region}/2026/12/{}/ConfigSnapshot/{account}_Config_{region}_ConfigSnapshot_{taken}_5f0c.json.gz",
        &taken[6..8]
    )
}

#[tokio::test]
async fn snapshot_reads_the_latest_delivered_snapshot_of_each_account_and_region() {
    let Some(moto) = Moto::start() else { return };
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config());
    s3.create_bucket()
        .bucket("org-config")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (a, b) = ("111122223333", "444455556666");
    let objects = [
        (
            delivery_key(a, "eu-west-1", "20261201T060000Z"),
            snapshot_of(a, "eu-west-1", "vol-a-old", "2026-12-01T06:00:00Z"),
        ),
        (
            delivery_key(a, "eu-west-1", "20261202T060000Z"),
            snapshot_of(a, "eu-west-1", "vol-a-new", "2026-12-02T06:00:00Z"),
        ),
        (
            delivery_key(a, "us-east-1", "20261130T060000Z"),
            snapshot_of(a, "us-east-1", "vol-a-use1", "2026-11-30T06:00:00Z"),
        ),
        (
            delivery_key(b, "eu-west-1", "20261203T060000Z"),
            snapshot_of(b, "eu-west-1", "vol-b-new", "2026-12-03T06:00:00Z"),
        ),
        (
            delivery_key(b, "eu-west-1", "20261102T060000Z"),
            snapshot_of(b, "eu-west-1", "vol-b-old", "2026-11-02T06:00:00Z"),
        ),
        (
            format!("org/AWSLogs/{a}/Config/ConfigWritabilityCheckFile"),
            b"writable".to_vec(),
        ),
    ];
    for (key, body) in objects {
        s3.put_object()
            .bucket("org-config")
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }

    moto.start_recording();
    let o = atrest_at(&moto.endpoint)
        .args([
            "snapshot",
            "s3://org-config/org/AWSLogs/",
            "--rule",
            "ebs-volume-encrypted",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let mut judged: Vec<(String, String, String)> = findings(&o)
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_owned();
            (text("accountId"), text("region"), text("resourceId"))
        })
        .collect();
    judged.sort();
    assert_eq!(
        judged,
        [
            (a.to_owned(), "eu-west-1".to_owned(), "vol-a-new".to_owned()),
            (a.to_owned(), "us-east-1".to_owned(), "vol-a-use1".to_owned()),
            (b.to_owned(), "eu-west-1".to_owned(), "vol-b-new".to_owned()),
        ]
    );
    // Only the three chosen objects were fetched.
    let calls = count_operations(&moto.recording());
    assert_eq!(calls.get("s3:GetObject"), Some(&3), "{calls:?}");

    // A prefix without a delivered snapshot is an error naming it.
    let o = atrest_at(&moto.endpoint)
        .args(["snapshot", "s3://org-config/elsewhere/", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("s3://org-config/elsewhere/") && err.contains("no snapshot"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    // A local copy of the bucket (`aws s3 sync`) is walked the same way.
    let dir = std::env::temp_dir().join(format!("atrest-delivery-{}", std::process::id()));
    let list = s3.list_objects_v2().bucket("org-config").send().await.unwrap();
    for object in list.contents() {
        let key = object.key().unwrap();
        let body = s3.get_object().bucket("org-config").key(key).send().await.unwrap();
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body.body.collect().await.unwrap().into_bytes()).unwrap();
    }
    let o = atrest_at(&moto.endpoint)
        .arg("snapshot")
        .arg(&dir)
        .args(["--rule", "ebs-volume-encrypted", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let mut local: Vec<String> = findings(&o)
        .iter()
        .map(|f| f["resourceId"].as_str().unwrap().to_owned())
        .collect();
    local.sort();
    assert_eq!(local, ["vol-a-new", "vol-a-use1", "vol-b-new"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The aggregator's answers are tested with aws-smithy-mocks in
/// `aggregator.rs` (moto does not implement the aggregate compliance calls);
/// here, on the wire: an aggregator the caller may not read is an error
/// naming the call and the reason, exit 2, and no report at all.
#[tokio::test]
async fn report_from_an_aggregator_it_may_not_read_is_an_error_not_a_report() {
    let Some(moto) = Moto::start() else { return };
    let proxy = FaultProxy::failing_when(
        &moto.endpoint,
        "config:DescribeAggregateComplianceByConfigRules",
        "org-aggregator",
        Fault::AccessDenied,
    );
    let o = atrest_at(&proxy.endpoint)
        .args(["report", "--aggregator", "org-aggregator", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("DescribeAggregateComplianceByConfigRules") && err.contains("AccessDenied"),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
}
