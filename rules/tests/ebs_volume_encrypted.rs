//! ebs-volume-encrypted with its AWS calls mocked: the periodic sweep over
//! several pages, key look-ups once per key, and keys that are missing,
//! unreadable or throttled.

mod support;

use atrest_common::lambda::Handler;
use atrest_common::testing::mock_aws;
use atrest_common::{Error, Rule};
use atrest_rules::ebs_volume_encrypted::RULE;
use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput;
use aws_sdk_ec2::types::Volume;
use aws_smithy_mocks::{mock, Rule as MockRule, RuleMode};
use serde_json::{json, Value};
use support::{describe_any, key_arn, no_earlier_results, put_recorder, scheduled_event, Sent, ACCOUNT};

fn change_event(key: &str) -> Value {
    let item = json!({
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-29T08:15:42.123Z",
        "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::Volume",
        "resourceId": "vol-1",
        "awsAccountId": ACCOUNT,
        "awsRegion": "eu-west-1",
        "configuration": {"volumeId": "vol-1", "encrypted": true, "kmsKeyId": key},
        "tags": {}
    });
    json!({
        "version": "1.0",
        "invokingEvent": json!({"configurationItem": item, "messageType": "ConfigurationItemChangeNotification",
                                "notificationCreationTime": "2026-11-29T08:16:00.000Z"}).to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "configRuleName": "atrest-ebs-volume-encrypted",
        "accountId": ACCOUNT,
    })
}

/// Volume i: unencrypted when i % 10 == 9, else encrypted with key k(i % 5).
fn volume(i: usize) -> Volume {
    let b = Volume::builder().volume_id(format!("vol-{i:04}"));
    if i % 10 == 9 {
        b.encrypted(false).build()
    } else {
        b.encrypted(true).kms_key_id(key_arn(&format!("k{}", i % 5))).build()
    }
}

fn volume_page(token: Option<&'static str>, range: std::ops::Range<usize>, next: Option<&'static str>) -> MockRule {
    mock!(aws_sdk_ec2::Client::describe_volumes)
        .match_requests(move |r| r.next_token() == token)
        .then_output(move || {
            DescribeVolumesOutput::builder()
                .set_volumes(Some(range.clone().map(volume).collect()))
                .set_next_token(next.map(str::to_owned))
                .build()
        })
}

#[tokio::test]
async fn a_sweep_over_three_pages_looks_up_each_key_once_and_batches_by_one_hundred() {
    let pages = [
        volume_page(None, 0..120, Some("p2")),
        volume_page(Some("p2"), 120..200, Some("p3")),
        volume_page(Some("p3"), 200..250, None),
    ];
    let describe = describe_any();
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let earlier = no_earlier_results();
    let aws = mock_aws(
        RuleMode::MatchAny,
        &[&pages[0], &pages[1], &pages[2], &describe, &put, &earlier],
    );
    let handler = Handler::new(aws);
    let summary = handler
        .handle(&RULE, scheduled_event("atrest-ebs-volume-encrypted", json!({})))
        .await
        .unwrap();

    assert_eq!(pages.iter().map(MockRule::num_calls).sum::<usize>(), 3);
    assert_eq!(describe.num_calls(), 5, "one DescribeKey per key");
    let sent = sent.lock().unwrap();
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    let all: Vec<_> = sent.iter().flatten().collect();
    assert_eq!(all.len(), 250);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.compliance_resource_id(), format!("vol-{i:04}"));
        assert_eq!(e.compliance_resource_type(), "AWS::EC2::Volume");
        let expected = if i % 10 == 9 { "NON_COMPLIANT" } else { "COMPLIANT" };
        assert_eq!(e.compliance_type().as_str(), expected, "vol-{i:04}");
        assert_eq!(e.ordering_timestamp().secs(), 1_795_953_600);
    }
    assert_eq!(summary.counts.non_compliant, 25);
    assert_eq!(summary.counts.compliant, 225);
    assert_eq!(summary.aws_calls.get("kms:DescribeKey"), Some(&5));
    assert_eq!(summary.aws_calls.get("ec2:DescribeVolumes"), Some(&3));
    assert_eq!(summary.aws_calls.get("config:PutEvaluations"), Some(&3));
}

async fn judge_change(rules: &[&MockRule], key: &str, params: Option<Value>) -> Result<(String, String), Error> {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let mut all: Vec<&MockRule> = rules.to_vec();
    all.push(&put);
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &all));
    let mut event = change_event(key);
    if let Some(p) = params {
        event["ruleParameters"] = Value::String(p.to_string());
    }
    handler.handle(&RULE, event).await?;
    let sent = sent.lock().unwrap();
    let e = &sent[0][0];
    Ok((
        e.compliance_type().as_str().to_owned(),
        e.annotation().unwrap_or_default().to_owned(),
    ))
}

fn kms_error(key: &'static str, code: &str) -> MockRule {
    mock!(aws_sdk_kms::Client::describe_key)
        .match_requests(move |r| r.key_id() == Some(key))
        .sequence()
        .http_status(400, Some(format!(r#"{{"__type":"{code}","message":"for the test"}}"#)))
        .repeatedly()
        .build()
}

#[tokio::test]
async fn a_key_that_does_not_exist_is_non_compliant() {
    let missing = kms_error("arn:aws:kms:eu-west-1:123456789012:key/gone", "NotFoundException");
    let (compliance, annotation) = judge_change(&[&missing], &key_arn("gone"), None).await.unwrap();
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(annotation.contains("does not exist"), "{annotation}");
}

#[tokio::test]
async fn a_key_that_cannot_be_read_is_non_compliant() {
    let denied = kms_error("arn:aws:kms:eu-west-1:123456789012:key/secret", "AccessDeniedException");
    let (compliance, annotation) = judge_change(&[&denied], &key_arn("secret"), None).await.unwrap();
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(annotation.contains("could not be verified"), "{annotation}");
    assert!(annotation.contains("access denied"), "{annotation}");
}

#[tokio::test]
async fn throttling_past_the_retries_fails_the_invocation_and_reports_nothing() {
    let throttled = kms_error("arn:aws:kms:eu-west-1:123456789012:key/busy", "ThrottlingException");
    let err = judge_change(&[&throttled], &key_arn("busy"), None).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("kms:DescribeKey"), "{err}");
}

#[tokio::test]
async fn an_aws_managed_key_is_non_compliant_unless_allowed() {
    let describe = describe_any();
    let (compliance, annotation) = judge_change(&[&describe], &key_arn("aws-ebs"), None).await.unwrap();
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(annotation.contains("AWS-managed"), "{annotation}");
    let allowed = json!({"allowAwsManagedKeys": "true"});
    let (compliance, _) = judge_change(&[&describe], &key_arn("aws-ebs"), Some(allowed))
        .await
        .unwrap();
    assert_eq!(compliance, "COMPLIANT");
}

#[tokio::test]
async fn allow_list_aliases_are_resolved_to_key_arns() {
    let describe = describe_any();
    let params = json!({"kmsKeyArns": "alias/payments-ebs"});
    let (compliance, annotation) = judge_change(&[&describe], &key_arn("aliased-key"), Some(params.clone()))
        .await
        .unwrap();
    assert_eq!(compliance, "COMPLIANT", "{annotation}");
    let (compliance, annotation) = judge_change(&[&describe], &key_arn("other"), Some(params))
        .await
        .unwrap();
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(annotation.contains("not in kmsKeyArns"), "{annotation}");
}

#[test]
fn the_spec_names_its_calls() {
    let actions = RULE.spec().iam_actions();
    for a in ["ec2:DescribeVolumes", "kms:DescribeKey", "config:PutEvaluations"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(!actions.iter().any(|a| a.contains('*') || *a == "kms:Decrypt"));
}
