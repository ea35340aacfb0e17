//! Shared by the rules' mocked tests: a handler on a mocked AWS context that
//! records what reached PutEvaluations.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use atrest_common::lambda::{Handler, Summary};
use atrest_common::testing::mock_aws;
use atrest_common::{Error, Rule};
use aws_sdk_config::operation::get_compliance_details_by_config_rule::GetComplianceDetailsByConfigRuleOutput;
use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, OriginType};
use aws_smithy_mocks::{mock, Rule as MockRule, RuleMode};
use serde_json::{json, Value};

pub mod stores;

pub const ACCOUNT: &str = "123456789012";

pub fn key_arn(id: &str) -> String {
    format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}")
}

/// DescribeKey for any key: customer-managed, except ids starting `aws-`;
/// aliases resolve to `aliased-key`.
pub fn describe_any() -> MockRule {
    mock!(aws_sdk_kms::Client::describe_key).then_compute_output(|req| {
        let reference = req.key_id().unwrap_or_default();
        let id = if reference.contains("alias/") {
            "aliased-key".to_owned()
        } else {
            reference.rsplit('/').next().unwrap_or_default().to_owned()
        };
        let manager = if id.starts_with("aws-") {
            KeyManagerType::Aws
        } else {
            KeyManagerType::Customer
        };
        DescribeKeyOutput::builder()
            .key_metadata(
                KeyMetadata::builder()
                    .key_id(&id)
                    .arn(key_arn(&id))
                    .key_manager(manager)
                    .key_state(KeyState::Enabled)
                    .key_spec(KeySpec::SymmetricDefault)
                    .origin(OriginType::AwsKms)
                    .build()
                    .unwrap(),
            )
            .build()
    })
}

/// What reached PutEvaluations, call by call.
pub type Sent = Arc<Mutex<Vec<Vec<aws_sdk_config::types::Evaluation>>>>;

pub fn put_recorder(sent: &Sent) -> MockRule {
    let sent = sent.clone();
    mock!(aws_sdk_config::Client::put_evaluations).then_compute_output(move |req| {
        sent.lock().unwrap().push(req.evaluations().to_vec());
        PutEvaluationsOutput::builder().build()
    })
}

pub fn no_earlier_results() -> MockRule {
    mock!(aws_sdk_config::Client::get_compliance_details_by_config_rule)
        .then_output(|| GetComplianceDetailsByConfigRuleOutput::builder().build())
}

pub fn scheduled_event(rule_name: &str, params: Value) -> Value {
    json!({
        "version": "1.0",
        "invokingEvent": json!({
            "awsAccountId": ACCOUNT,
            "notificationCreationTime": "2026-11-29T12:00:00.000Z",
            "messageType": "ScheduledNotification",
            "recordVersion": "1.0"
        }).to_string(),
        "ruleParameters": params.to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "configRuleName": rule_name,
        "accountId": ACCOUNT,
    })
}

/// One evaluation as delivered: (type, id, compliance, annotation).
pub type Delivered = (String, String, String, String);

/// Runs a scheduled invocation of `rule` against `mocks` (plus DescribeKey,
/// PutEvaluations and an empty earlier-results page).
pub async fn sweep(
    rule: &dyn Rule,
    params: Value,
    mocks: &[&MockRule],
) -> Result<(Summary, Vec<usize>, Vec<Delivered>), Error> {
    let describe = describe_any();
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let earlier = no_earlier_results();
    let mut all: Vec<&MockRule> = mocks.to_vec();
    all.extend([&describe, &put, &earlier]);
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &all));
    let summary = handler
        .handle(rule, scheduled_event(&format!("atrest-{}", rule.spec().id), params))
        .await?;
    let sent = sent.lock().unwrap();
    let batches = sent.iter().map(Vec::len).collect();
    let delivered = sent
        .iter()
        .flatten()
        .map(|e| {
            (
                e.compliance_resource_type().to_owned(),
                e.compliance_resource_id().to_owned(),
                e.compliance_type().as_str().to_owned(),
                e.annotation().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok((summary, batches, delivered))
}

/// How many delivered evaluations have this compliance.
pub fn count(delivered: &[Delivered], compliance: &str) -> usize {
    delivered.iter().filter(|d| d.2 == compliance).count()
}
