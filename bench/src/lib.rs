//! Benchmark support: a rule [`Handler`] whose AWS calls are answered in
//! process by canned responses, so a benchmark measures atrest's own work per
//! invocation (event decoding, SDK serialisation and signing, judging,
//! reporting) and not a network or a peer.

use atrest_common::aws::AwsContext;
use atrest_common::lambda::Handler;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_config::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::http::{http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use serde_json::{json, Value};

pub const ACCOUNT: &str = "111122223333";
pub const KEY_ARN: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Answers the JSON-protocol calls of a change evaluation: KMS DescribeKey
/// (a customer-managed key) and Config PutEvaluations (nothing failed).
#[derive(Debug)]
struct Canned;

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        let (status, body) = match target.rsplit('.').next() {
            Some("DescribeKey") => (
                200,
                json!({"KeyMetadata": {
                    "AWSAccountId": ACCOUNT, "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": KEY_ARN,
                    "Enabled": true, "KeyState": "Enabled", "KeyManager": "CUSTOMER", "Origin": "AWS_KMS",
                    "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "CreationDate": 1.7e9
                }}),
            ),
            Some("PutEvaluations") => (200, json!({"FailedEvaluations": []})),
            _ => (400, json!({"__type": "UnknownOperationException", "message": target})),
        };
        let mut response = Response::new(
            StatusCode::try_from(status).expect("a constant, valid HTTP status"),
            SdkBody::from(body.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.1");
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// A handler whose every client is answered by [`Canned`].
pub fn canned_handler() -> Handler {
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDBENCH",
            "secret",
            None,
            None,
            "atrest-bench",
        )))
        .http_client(http_client_fn(|_, _| SharedHttpConnector::new(Canned)))
        .build();
    Handler::new(AwsContext::new(sdk))
}

/// A ConfigurationItemChangeNotification for one encrypted volume (TestMode).
pub fn change_event() -> Value {
    let item = json!({
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": "2026-11-29T08:15:42.123Z",
        "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::Volume",
        "resourceId": "vol-0a11b22c33d44e553",
        "awsAccountId": ACCOUNT,
        "awsRegion": "eu-west-1",
        "configuration": {"volumeId": "vol-0a11b22c33d44e553", "encrypted": true, "kmsKeyId": KEY_ARN, "size": 100},
        "tags": {"CostCenter": "Payments"}
    });
    json!({
        "version": "1.0",
        "invokingEvent": json!({"configurationItem": item, "messageType": "ConfigurationItemChangeNotification",
                                "notificationCreationTime": "2026-11-29T08:16:00.000Z"}).to_string(),
        "ruleParameters": "{}",
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "configRuleName": "atrest-ebs-volume-encrypted",
        "configRuleArn": format!("arn:aws:config:eu-west-1:{ACCOUNT}:config-rule/config-rule-abc123"),
        "accountId": ACCOUNT,
    })
}
