//! Least privilege, proved: for every rule, the AWS operations it calls on
//! moto — over a TESTMODE sweep, a sweep that reads its earlier results, an
//! oversized change and (for change rules) a change — are exactly the IAM
//! actions its spec declares, so the CDK roles built from the specs are
//! neither short nor generous. Calls moto answers with 500 are still
//! recorded, so the contract's GetResourceConfigHistory and
//! GetComplianceDetailsByConfigRule count too.

use std::collections::BTreeSet;

use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::{count_operations, events, iam_action, seed, Moto, ACCOUNT};
use serde_json::{json, Value};

async fn key(moto: &Moto) -> String {
    let arn = seed::key(moto, &[("CostCenter", "Payments")]).await;
    seed::alias(moto, "alias/prod-payments-platform", &arn).await;
    arn
}

/// Every kind of resource, each encrypted with `k`.
async fn seed_everything(moto: &Moto, k: &str) -> (String, String) {
    let volume = seed::volume(moto, Some(k), 1, &[]).await;
    seed::aurora_cluster(moto, "ledger", k).await;
    let sse = seed::bucket_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms, Some(k));
    seed::bucket(moto, "least-privilege", Some(sse)).await;
    let secure = aws_sdk_ssm::types::ParameterType::SecureString;
    seed::parameter(moto, "/db/password", secure, "x", Some(k)).await;
    let role = seed::lambda_role(moto, "fn").await;
    seed::function(moto, "settle", &role, &[("A", "b")], Some(k)).await;
    for id in atrest_e2e::stores::RULES {
        atrest_e2e::stores::store(moto, id, "least-privilege", Some(k)).await;
    }
    aws_sdk_ec2::Client::new(&moto.sdk_config())
        .enable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    (volume, "settle".to_owned())
}

/// A change event for a resource of the rule's first type that makes the
/// change path call what it can.
fn change_item(rule: &dyn Rule, key: &str, volume: &str, function: &str) -> Value {
    let t = rule.spec().resource_types[0];
    match t {
        "AWS::Lambda::Function" => events::item(
            t,
            function,
            json!({"functionName": function, "kmsKeyArn": key}),
            json!({}),
        ),
        "AWS::KMS::Key" => {
            let id = key.rsplit('/').next().unwrap();
            events::item(t, id, json!({"keyId": id, "arn": key}), json!({}))
        }
        _ => events::item(
            t,
            volume,
            json!({"volumeId": volume, "encrypted": true, "kmsKeyId": key}),
            json!({"CostCenter": "Payments"}),
        ),
    }
}

fn oversized(rule: &dyn Rule, params: &Value) -> Value {
    let mut e = events::scheduled(rule.spec().id, params.clone());
    e["invokingEvent"] = Value::String(
        json!({
            "messageType": "OversizedConfigurationItemChangeNotification",
            "configurationItemSummary": {
                "resourceType": rule.spec().resource_types[0], "resourceId": "oversized-1",
                "configurationItemStatus": "OK", "configurationItemCaptureTime": events::CAPTURE_TIME,
                "awsAccountId": ACCOUNT
            },
            "notificationCreationTime": events::NOTIFICATION_TIME
        })
        .to_string(),
    );
    e
}

#[tokio::test]
async fn every_rule_calls_exactly_what_its_spec_declares() {
    for rule in atrest_rules::ALL {
        let spec = rule.spec();
        let Some(moto) = Moto::start() else { return };
        let k = key(&moto).await;
        let (volume, function) = seed_everything(&moto, &k).await;
        let params = if spec.parameters.iter().any(|p| p.required) {
            json!({"tagKeys": "CostCenter"})
        } else if spec.id == "iam-policy-no-kms-full-access" {
            // IAM is swept from iamRegion only.
            json!({"iamRegion": atrest_e2e::REGION})
        } else {
            json!({})
        };

        if spec.id == "kms-critical-calls-monitored" {
            // A rule that hears one call (its targets are read), a trail
            // into a log group (its metric filters are read for the rest).
            seed::trail(&moto, true).await;
            let one = r#"{"source":["aws.kms"],"detail":{"eventName":["DisableKey"]}}"#;
            seed::alert_rule(&moto, "kms-disable", one, true).await;
            aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config())
                .create_log_group()
                .log_group_name("cloudtrail")
                .send()
                .await
                .unwrap();
            aws_sdk_cloudtrail::Client::new(&moto.sdk_config())
                .update_trail()
                .name("org-trail")
                .cloud_watch_logs_log_group_arn(format!(
                    "arn:aws:logs:{}:{}:log-group:cloudtrail:*",
                    atrest_e2e::REGION,
                    atrest_e2e::ACCOUNT
                ))
                .cloud_watch_logs_role_arn(format!("arn:aws:iam::{}:role/trail-to-logs", atrest_e2e::ACCOUNT))
                .send()
                .await
                .unwrap();
        }
        let mut invocations = vec![events::scheduled(spec.id, params.clone())];
        let mut real_token = events::scheduled(spec.id, params.clone());
        real_token["resultToken"] = json!("a-real-result-token");
        invocations.push(real_token);
        if spec.triggers.change {
            invocations.push(events::change(
                spec.id,
                change_item(*rule, &k, &volume, &function),
                params.clone(),
            ));
            invocations.push(oversized(*rule, &params));
        }
        moto.start_recording();
        for event in invocations {
            // Some end in moto's 500s (its gaps); the calls are recorded all the same.
            let _ = Handler::new(moto.aws()).handle(*rule, event).await;
        }
        let used: BTreeSet<String> = count_operations(&moto.recording())
            .keys()
            .map(|o| iam_action(o))
            .collect();
        let mut declared: BTreeSet<String> = spec.iam_actions().into_iter().map(str::to_owned).collect();
        if spec.id == "ebs-encryption-by-default" {
            // moto cannot tell the default key (500), so the sweep stops
            // there: it never describes the key, reads earlier results or
            // reports. Those calls are the shared ones of every rule.
            declared.remove("kms:DescribeKey");
            declared.remove("config:GetComplianceDetailsByConfigRule");
            declared.remove("config:PutEvaluations");
        }
        if spec.id == "kms-critical-calls-monitored" {
            // moto does not answer CloudWatch's CBOR protocol, so no alarm
            // is seeded and none is asked for here; tests/monitoring.rs
            // asserts DescribeAlarmsForMetric against a mock.
            declared.remove("cloudwatch:DescribeAlarmsForMetric");
        }
        assert_eq!(used, declared, "{}: calls made vs IAM actions declared", spec.id);
    }
}
