//! ebs-volume-encrypted end to end on moto: change and scheduled events,
//! the exact PutEvaluations bodies, and the API economy of a sweep.

use atrest_common::lambda::Handler;
use atrest_e2e::events::{self, CAPTURE_SECS, NOTIFICATION_SECS};
use atrest_e2e::{count_operations, evaluations, put_evaluations, seed, Moto};
use atrest_rules::ebs_volume_encrypted::RULE;
use serde_json::json;

async fn volume(moto: &Moto, key: Option<&str>) -> String {
    seed::volume(moto, key, 8, &[]).await
}

fn volume_item(id: &str, key: Option<&str>) -> serde_json::Value {
    let mut configuration = json!({"volumeId": id, "encrypted": key.is_some(), "size": 8, "volumeType": "gp2"});
    if let Some(k) = key {
        configuration["kmsKeyId"] = json!(k);
    }
    events::item("AWS::EC2::Volume", id, configuration, json!({}))
}

#[tokio::test]
async fn change_events_reach_config_as_test_mode_evaluations() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let encrypted = volume(&moto, Some(&key)).await;
    let plain = volume(&moto, None).await;
    let handler = Handler::new(moto.aws());

    moto.start_recording();
    let items = [
        volume_item(&encrypted, Some(&key)),
        volume_item(&plain, None),
        events::deleted(volume_item("vol-0123456789abcdef0", None)),
    ];
    for item in items {
        handler
            .handle(&RULE, events::change("ebs-volume-encrypted", item, json!({})))
            .await
            .unwrap();
    }
    let recorded = moto.recording();

    let bodies = put_evaluations(&recorded);
    assert_eq!(bodies.len(), 3);
    for body in &bodies {
        assert_eq!(body["TestMode"], true);
        assert_eq!(body["ResultToken"], "TESTMODE");
        let e = &body["Evaluations"][0];
        assert_eq!(e["OrderingTimestamp"].as_f64().unwrap() as i64, CAPTURE_SECS);
    }
    assert_eq!(
        evaluations(&recorded),
        [
            ("AWS::EC2::Volume".into(), encrypted.clone(), "COMPLIANT".into()),
            ("AWS::EC2::Volume".into(), plain.clone(), "NON_COMPLIANT".into()),
            (
                "AWS::EC2::Volume".into(),
                "vol-0123456789abcdef0".into(),
                "NOT_APPLICABLE".into()
            ),
        ]
    );
    let annotation = bodies[0]["Evaluations"][0]["Annotation"].as_str().unwrap();
    assert!(annotation.contains(&key), "{annotation}");
    assert_eq!(bodies[1]["Evaluations"][0]["Annotation"], "Volume is not encrypted.");
    // The item is the truth about the volume: only its key was looked up.
    let ops = count_operations(&recorded);
    assert_eq!(ops.get("kms:DescribeKey"), Some(&1));
    assert_eq!(ops.get("ec2:DescribeVolumes"), None);
}

#[tokio::test]
async fn a_sweep_of_250_volumes_over_5_keys_costs_the_minimum_of_calls() {
    let Some(moto) = Moto::start() else { return };
    let mut keys = Vec::new();
    for _ in 0..5 {
        keys.push(seed::key(&moto, &[]).await);
    }
    let mut expected = Vec::new();
    for i in 0..250 {
        let key = (i % 25 != 24).then(|| keys[i % 5].as_str());
        let id = volume(&moto, key).await;
        expected.push((id, if key.is_some() { "COMPLIANT" } else { "NON_COMPLIANT" }));
    }
    let handler = Handler::new(moto.aws());

    moto.start_recording();
    let summary = handler
        .handle(&RULE, events::scheduled("ebs-volume-encrypted", json!({})))
        .await
        .unwrap();
    let recorded = moto.recording();

    atrest_e2e::assert_within_spec(&recorded, &RULE);
    let ops = count_operations(&recorded);
    assert_eq!(ops.get("kms:DescribeKey"), Some(&5), "{ops:?}");
    assert_eq!(ops.get("config:PutEvaluations"), Some(&3), "{ops:?}");
    assert_eq!(
        ops.get("ec2:DescribeVolumes"),
        Some(&1),
        "moto answers in one page: {ops:?}"
    );
    assert_eq!(ops.len(), 3, "no other call: {ops:?}");
    let bodies = put_evaluations(&recorded);
    let sizes: Vec<usize> = bodies
        .iter()
        .map(|b| b["Evaluations"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    for body in &bodies {
        assert_eq!(body["TestMode"], true);
        for e in body["Evaluations"].as_array().unwrap() {
            assert_eq!(e["OrderingTimestamp"].as_f64().unwrap() as i64, NOTIFICATION_SECS);
        }
    }
    let mut got: Vec<(String, String)> = evaluations(&recorded).into_iter().map(|(_, id, c)| (id, c)).collect();
    let mut want: Vec<(String, String)> = expected.into_iter().map(|(id, c)| (id, c.to_owned())).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(summary.counts.non_compliant, 10);
}

#[tokio::test]
async fn with_assume_execution_role_every_call_uses_the_roles_credentials() {
    let Some(moto) = Moto::start() else { return };
    let plain = volume(&moto, None).await;
    let handler = Handler::new(moto.aws());
    let mut event = events::change("ebs-volume-encrypted", volume_item(&plain, None), json!({}));
    event["ruleParameters"] = json!(json!({"assumeExecutionRole": "true"}).to_string());
    event["executionRoleArn"] = json!("arn:aws:iam::123456789012:role/atrest-central-audit");

    moto.start_recording();
    handler.handle(&RULE, event.clone()).await.unwrap();
    handler.handle(&RULE, event).await.unwrap();
    let recorded = moto.recording();

    let ops = count_operations(&recorded);
    assert_eq!(
        ops.get("sts:AssumeRole"),
        Some(&1),
        "credentials are reused while valid: {ops:?}"
    );
    let assume = recorded.iter().find(|r| r.operation() == "sts:AssumeRole").unwrap();
    let form = String::from_utf8_lossy(&assume.body).into_owned();
    assert!(
        form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fatrest-central-audit"),
        "{form}"
    );
    assert!(form.contains("RoleSessionName=atrest-ebs-volume-encrypted"), "{form}");
    // PutEvaluations went out under the assumed role's keys, not the function's.
    for put in recorded.iter().filter(|r| r.operation() == "config:PutEvaluations") {
        let auth = put.headers["Authorization"].as_str().unwrap();
        assert!(!auth.contains("Credential=testing/"), "{auth}");
    }
    assert_eq!(evaluations(&recorded).len(), 2);
}

/// A recorder on the service-linked role (which a function cannot assume):
/// `executionRoleName` names the role to assume in the event's account.
#[tokio::test]
async fn execution_role_name_replaces_the_recorder_role_in_the_same_account() {
    let Some(moto) = Moto::start() else { return };
    let plain = volume(&moto, None).await;
    let handler = Handler::new(moto.aws());
    let mut event = events::change("ebs-volume-encrypted", volume_item(&plain, None), json!({}));
    event["ruleParameters"] =
        json!(json!({"assumeExecutionRole": "true", "executionRoleName": "atrest/atrest-execution"}).to_string());
    event["executionRoleArn"] =
        json!("arn:aws:iam::123456789012:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig");

    moto.start_recording();
    handler.handle(&RULE, event).await.unwrap();
    let recorded = moto.recording();
    let assume = recorded.iter().find(|r| r.operation() == "sts:AssumeRole").unwrap();
    let form = String::from_utf8_lossy(&assume.body).into_owned();
    assert!(
        form.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fatrest%2Fatrest-execution"),
        "{form}"
    );
    assert!(!form.contains("AWSServiceRoleForConfig"), "{form}");
    assert_eq!(evaluations(&recorded).len(), 1);
}
