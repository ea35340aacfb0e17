//! ebs-encryption-by-default with its calls mocked (moto cannot tell the
//! default key): the compliant sweep, and the fail-closed matrix — each of
//! its calls failing with AccessDenied, NotFound or throttling past the
//! retries never lets a COMPLIANT through.

mod support;

use atrest_common::lambda::Handler;
use atrest_common::testing::mock_aws;
use atrest_rules::ebs_encryption_by_default::RULE;
use aws_sdk_ec2::operation::get_ebs_default_kms_key_id::GetEbsDefaultKmsKeyIdOutput;
use aws_sdk_ec2::operation::get_ebs_encryption_by_default::GetEbsEncryptionByDefaultOutput;
use aws_smithy_mocks::{mock, Rule as MockRule, RuleMode};
use serde_json::json;
use support::{describe_any, key_arn, put_recorder, scheduled_event, Sent};

fn ok_enabled() -> MockRule {
    mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default).then_output(|| {
        GetEbsEncryptionByDefaultOutput::builder()
            .ebs_encryption_by_default(true)
            .build()
    })
}

fn ok_default_key() -> MockRule {
    mock!(aws_sdk_ec2::Client::get_ebs_default_kms_key_id)
        .then_output(|| GetEbsDefaultKmsKeyIdOutput::builder().kms_key_id(key_arn("k1")).build())
}

fn ec2_error(code: &str) -> String {
    format!("<Response><Errors><Error><Code>{code}</Code><Message>injected</Message></Error></Errors><RequestID>x</RequestID></Response>")
}

fn json_error(code: &str) -> String {
    format!(r#"{{"__type":"{code}","message":"injected"}}"#)
}

/// Runs the sweep with the given mocks; the compliance that reached Config.
async fn run(mocks: &[&MockRule]) -> (Result<(), String>, Vec<String>) {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let mut all: Vec<&MockRule> = mocks.to_vec();
    all.push(&put);
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &all));
    let result = handler
        .handle(&RULE, scheduled_event("atrest-ebs-encryption-by-default", json!({})))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let delivered = sent
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .map(|e| e.compliance_type().as_str().to_owned())
        .collect();
    (result, delivered)
}

#[tokio::test]
async fn on_with_a_customer_default_key_is_compliant_for_the_account() {
    let (enabled, key, describe) = (ok_enabled(), ok_default_key(), describe_any());
    let (result, delivered) = run(&[&enabled, &key, &describe]).await;
    assert_eq!(result, Ok(()));
    assert_eq!(delivered, ["COMPLIANT"]);
}

#[tokio::test]
async fn no_failing_call_lets_a_compliant_through() {
    // (operation, failure name, a rule answering that failure)
    let failing = |op: &str, fault: &str| -> MockRule {
        let (ec2_code, ec2_status, json_code) = match fault {
            "AccessDenied" => ("UnauthorizedOperation", 403, "AccessDeniedException"),
            "NotFound" => ("InvalidKmsKeyId.NotFound", 400, "NotFoundException"),
            _ => ("RequestLimitExceeded", 503, "ThrottlingException"),
        };
        match op {
            "GetEbsEncryptionByDefault" => mock!(aws_sdk_ec2::Client::get_ebs_encryption_by_default)
                .sequence()
                .http_status(ec2_status, Some(ec2_error(ec2_code)))
                .repeatedly()
                .build(),
            "GetEbsDefaultKmsKeyId" => mock!(aws_sdk_ec2::Client::get_ebs_default_kms_key_id)
                .sequence()
                .http_status(ec2_status, Some(ec2_error(ec2_code)))
                .repeatedly()
                .build(),
            "DescribeKey" => mock!(aws_sdk_kms::Client::describe_key)
                .sequence()
                .http_status(400, Some(json_error(json_code)))
                .repeatedly()
                .build(),
            _ => mock!(aws_sdk_config::Client::put_evaluations)
                .sequence()
                .http_status(400, Some(json_error(json_code)))
                .repeatedly()
                .build(),
        }
    };
    let mut cells = 0;
    for op in [
        "GetEbsEncryptionByDefault",
        "GetEbsDefaultKmsKeyId",
        "DescribeKey",
        "PutEvaluations",
    ] {
        for fault in ["AccessDenied", "NotFound", "Throttling"] {
            let bad = failing(op, fault);
            let (enabled, key, describe) = (ok_enabled(), ok_default_key(), describe_any());
            // The failing rule comes first: MatchAny takes the first that matches.
            let (result, delivered) = run(&[&bad, &enabled, &key, &describe]).await;
            assert!(
                !delivered.iter().any(|c| c == "COMPLIANT"),
                "{op} failing with {fault}: {delivered:?} ({result:?})"
            );
            assert!(bad.num_calls() > 0, "{op} was called");
            cells += 1;
        }
    }
    assert_eq!(cells, 12);
}
