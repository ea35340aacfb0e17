//! The fail-closed matrix: for every rule, and every AWS call it makes on a
//! sweep that would otherwise find a COMPLIANT resource, that call failing
//! with AccessDenied, NotFound or throttling past the retries never lets a
//! COMPLIANT reach Config. Faults come from a proxy in each protocol's words.

use atrest_common::aws::AwsContext;
use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::fault_proxy::{Fault, FaultProxy};
use atrest_e2e::{count_operations, evaluations, events, seed, Moto, ACCOUNT};
use serde_json::{json, Value};

async fn key(moto: &Moto, tags: &[(&str, &str)]) -> String {
    // The default policy, and MFA enforced on the critical actions.
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Resource": "*",
         "Action": atrest_rules::kms_key_policy_mfa_critical_actions::CRITICAL_ACTIONS,
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]});
    let arn = seed::key_with_policy(moto, tags, Some(policy.to_string())).await;
    aws_sdk_kms::Client::new(&moto.sdk_config())
        .enable_key_rotation()
        .key_id(&arn)
        .send()
        .await
        .unwrap();
    seed::alias(moto, "alias/prod-payments-platform", &arn).await;
    arn
}

/// Seeds moto so that `rule` finds at least one COMPLIANT resource.
async fn seed(moto: &Moto, rule: &str) -> Value {
    let k = key(moto, &[("CostCenter", "Payments")]).await;
    match rule {
        "ebs-volume-encrypted" | "kms-key-tags-aligned" => {
            seed::volume(moto, Some(&k), 1, &[("CostCenter", "Payments")]).await;
        }
        "rds-storage-encrypted" => {
            seed::aurora_cluster(moto, "ledger", &k).await;
        }
        "s3-bucket-encrypted" => {
            let sse = seed::bucket_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms, Some(&k));
            seed::bucket(moto, "fail-closed-bucket", Some(sse)).await;
        }
        "ssm-parameter-encrypted" => {
            let secure = aws_sdk_ssm::types::ParameterType::SecureString;
            seed::parameter(moto, "/db/password", secure, "x", Some(&k)).await;
        }
        "lambda-env-encrypted" => {
            let role = seed::lambda_role(moto, "fn").await;
            seed::function(moto, "settle", &role, &[("A", "b")], Some(&k)).await;
        }
        "iam-policy-no-kms-full-access" => {
            let iam = aws_sdk_iam::Client::new(&moto.sdk_config());
            let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
            iam.create_role()
                .role_name("Encrypting")
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .unwrap();
            let encrypt = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Action": "kms:Encrypt", "Resource": "*"}]});
            iam.put_role_policy()
                .role_name("Encrypting")
                .policy_name("encrypt")
                .policy_document(encrypt.to_string())
                .send()
                .await
                .unwrap();
        }
        "kms-critical-calls-monitored" => {
            seed::trail(moto, true).await;
            let pattern = include_str!("../../cdk/test/data/critical-calls-pattern.json");
            seed::alert_rule(moto, "kms-alerts", pattern, true).await;
        }
        id if atrest_e2e::stores::RULES.contains(&id) => {
            atrest_e2e::stores::store(moto, id, "fail-closed", Some(&k)).await;
        }
        _ => {}
    }
    if rule == "kms-key-tags-aligned" {
        json!({"tagKeys": "CostCenter"})
    } else if rule == "iam-policy-no-kms-full-access" {
        json!({"iamRegion": atrest_e2e::REGION})
    } else {
        json!({})
    }
}

fn compliant(recorded: &[atrest_e2e::Recorded]) -> Vec<String> {
    evaluations(recorded)
        .into_iter()
        .filter(|e| e.2 == "COMPLIANT")
        .map(|e| e.1)
        .collect()
}

#[tokio::test]
async fn no_failing_call_lets_a_compliant_through() {
    let mut cells = 0;
    for rule in atrest_rules::ALL {
        let id = rule.spec().id;
        if id == "ebs-encryption-by-default" {
            continue; // moto cannot answer GetEbsDefaultKmsKeyId: never COMPLIANT there anyway
        }
        let Some(moto) = Moto::start() else { return };
        let params = seed(&moto, id).await;
        let event = events::scheduled(id, params);

        // Without faults, the sweep finds something COMPLIANT.
        moto.start_recording();
        Handler::new(moto.aws()).handle(*rule, event.clone()).await.unwrap();
        let baseline = moto.recording();
        assert!(
            !compliant(&baseline).is_empty(),
            "{id}: the seed gives no COMPLIANT resource"
        );

        for operation in count_operations(&baseline).keys() {
            for fault in [Fault::AccessDenied, Fault::NotFound, Fault::Throttling] {
                let proxy = FaultProxy::failing(&moto.endpoint, operation, fault);
                let sdk = moto.sdk_config().to_builder().endpoint_url(&proxy.endpoint).build();
                let handler = Handler::new(AwsContext::new(sdk));
                moto.start_recording();
                let result = handler.handle(*rule as &dyn Rule, event.clone()).await;
                let passed = compliant(&moto.recording());
                assert!(
                    passed.is_empty(),
                    "{id}: with {operation} failing ({fault:?}) COMPLIANT still reached Config for {passed:?} ({result:?})"
                );
                assert!(
                    proxy.throttled.load(std::sync::atomic::Ordering::SeqCst) > 0,
                    "{id}: {operation} was not failed"
                );
                cells += 1;
            }
        }
    }
    assert!(cells >= 60, "{cells} rule × call × failure cells");
}
