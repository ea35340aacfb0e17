//! A warm container caches key facts; the key item under evaluation must
//! not be judged on facts cached before it was recorded. A sweep reads the
//! key's policy (and rotation), the key is changed, and Config sends the
//! change: the new policy (rotation) is read again, not taken from the cache.

mod support;

use std::time::SystemTime;

use atrest_common::lambda::Handler;
use atrest_common::testing::mock_aws;
use atrest_common::Rule;
use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::operation::list_keys::ListKeysOutput;
use aws_sdk_kms::types::KeyListEntry;
use aws_smithy_mocks::{mock, Rule as MockRule, RuleMode};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde_json::{json, Value};
use support::{describe_any, key_arn, no_earlier_results, put_recorder, scheduled_event, Sent, ACCOUNT};

const KEY: &str = "k-changed";

fn list_one_key() -> MockRule {
    mock!(aws_sdk_kms::Client::list_keys).then_output(|| {
        ListKeysOutput::builder()
            .keys(KeyListEntry::builder().key_id(KEY).key_arn(key_arn(KEY)).build())
            .build()
    })
}

/// A change of the key, recorded now, whose item carries neither policy nor
/// rotation status (Config leaves supplementary fields out at times).
fn change_now(rule: &dyn Rule) -> Value {
    let now = DateTime::from(SystemTime::now()).fmt(Format::DateTime).unwrap();
    let item = json!({
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": now,
        "configurationItemStatus": "OK",
        "resourceType": "AWS::KMS::Key",
        "resourceId": KEY,
        "ARN": key_arn(KEY),
        "awsRegion": "eu-west-1",
        "awsAccountId": ACCOUNT,
        "configuration": {"keyId": KEY, "arn": key_arn(KEY), "keyManager": "CUSTOMER", "keyState": "Enabled",
                          "keySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS"},
        "supplementaryConfiguration": {},
    });
    json!({
        "version": "1.0",
        "invokingEvent": json!({"configurationItem": item, "notificationCreationTime": now,
                                "messageType": "ConfigurationItemChangeNotification", "recordVersion": "1.3"}).to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "configRuleName": format!("atrest-{}", rule.spec().id),
        "accountId": ACCOUNT,
    })
}

/// Sweeps, then handles the change in the same (warm) handler; returns the
/// compliance delivered for the key each time.
async fn sweep_then_change(rule: &dyn Rule, changing: &MockRule) -> Vec<String> {
    let (list, describe, earlier) = (list_one_key(), describe_any(), no_earlier_results());
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let handler = Handler::new(mock_aws(
        RuleMode::MatchAny,
        &[&list, &describe, &earlier, &put, changing],
    ));
    handler
        .handle(rule, scheduled_event(&format!("atrest-{}", rule.spec().id), json!({})))
        .await
        .unwrap();
    handler.handle(rule, change_now(rule)).await.unwrap();
    let sent = sent.lock().unwrap();
    sent.iter()
        .flatten()
        .map(|e| e.compliance_type().as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn a_policy_changed_after_the_sweep_is_read_again() {
    let root = json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                      "Action": "kms:*", "Resource": "*"});
    let before = json!({"Statement": [root]}).to_string();
    let after = json!({"Statement": [root, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                                            "Action": "kms:Decrypt", "Resource": "*"}]})
    .to_string();
    let policy = mock!(aws_sdk_kms::Client::get_key_policy)
        .sequence()
        .output(move || GetKeyPolicyOutput::builder().policy(before.clone()).build())
        .output(move || GetKeyPolicyOutput::builder().policy(after.clone()).build())
        .repeatedly()
        .build();
    let rule = &atrest_rules::kms_key_policy_no_untrusted_access::RULE;
    assert_eq!(sweep_then_change(rule, &policy).await, ["COMPLIANT", "NON_COMPLIANT"]);
    assert_eq!(policy.num_calls(), 2, "the change read the policy again");
}

#[tokio::test]
async fn rotation_disabled_after_the_sweep_is_read_again() {
    let rotation = mock!(aws_sdk_kms::Client::get_key_rotation_status)
        .sequence()
        .output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build())
        .output(|| {
            GetKeyRotationStatusOutput::builder()
                .key_rotation_enabled(false)
                .build()
        })
        .repeatedly()
        .build();
    let rule = &atrest_rules::kms_key_rotation_enabled::RULE;
    assert_eq!(sweep_then_change(rule, &rotation).await, ["COMPLIANT", "NON_COMPLIANT"]);
    assert_eq!(rotation.num_calls(), 2, "the change read the rotation status again");
}
