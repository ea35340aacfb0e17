//! The mission rules end to end on moto, seeded with the Rust SDK: for each,
//! a compliant, a non-compliant and a not-applicable resource, read back
//! from the PutEvaluations requests moto recorded.

use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::events::{self, NOTIFICATION_SECS};
use atrest_e2e::{compliance_by_id, count_operations, evaluations, put_evaluations, seed, Moto, Recorded};
use serde_json::{json, Value};

/// Runs `rule` on `event` with the handler, recording what reached moto.
async fn invoke(moto: &Moto, rule: &dyn Rule, event: Value) -> Vec<Recorded> {
    let handler = Handler::new(moto.aws());
    moto.start_recording();
    handler.handle(rule, event).await.unwrap();
    let recorded = moto.recording();
    atrest_e2e::assert_within_spec(&recorded, rule);
    recorded
}

fn assert_test_mode_and_scheduled_time(recorded: &[Recorded]) {
    let bodies = put_evaluations(recorded);
    assert!(!bodies.is_empty());
    for body in bodies {
        assert_eq!(body["TestMode"], true);
        let evaluations = body["Evaluations"].as_array().unwrap();
        assert!(evaluations.len() <= 100);
        for e in evaluations {
            assert_eq!(e["OrderingTimestamp"].as_f64().unwrap() as i64, NOTIFICATION_SECS);
        }
    }
}

#[tokio::test]
async fn rds_storage_encrypted_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let rds = aws_sdk_rds::Client::new(&moto.sdk_config());
    let instance = rds
        .create_db_instance()
        .db_instance_identifier("payments")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("admin")
        .master_user_password("correct-horse-battery")
        .allocated_storage(20)
        .storage_encrypted(false)
        .send()
        .await
        .unwrap();
    let instance_id = instance.db_instance().unwrap().dbi_resource_id().unwrap().to_owned();
    let cluster_id = seed::aurora_cluster(&moto, "ledger", &key).await;

    let rule = &atrest_rules::rds_storage_encrypted::RULE;
    let recorded = invoke(&moto, rule, events::scheduled("rds-storage-encrypted", json!({}))).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got.get(&cluster_id).map(String::as_str), Some("COMPLIANT"), "{got:?}");
    assert_eq!(
        got.get(&instance_id).map(String::as_str),
        Some("NON_COMPLIANT"),
        "{got:?}"
    );
    let types: Vec<String> = evaluations(&recorded).into_iter().map(|e| e.0).collect();
    assert!(types.contains(&"AWS::RDS::DBCluster".to_owned()) && types.contains(&"AWS::RDS::DBInstance".to_owned()));

    let deleted = events::deleted(events::item("AWS::RDS::DBInstance", "db-GONE", json!({}), json!({})));
    let recorded = invoke(&moto, rule, events::change("rds-storage-encrypted", deleted, json!({}))).await;
    assert_eq!(
        compliance_by_id(&recorded).get("db-GONE").map(String::as_str),
        Some("NOT_APPLICABLE")
    );
}

#[tokio::test]
async fn s3_bucket_encrypted_on_moto() {
    use aws_sdk_s3::types::ServerSideEncryption;
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    for (bucket, config) in [
        (
            "statements-kms",
            Some(seed::bucket_encryption(ServerSideEncryption::AwsKms, Some(&key))),
        ),
        (
            "statements-sse-s3",
            Some(seed::bucket_encryption(ServerSideEncryption::Aes256, None)),
        ),
        ("statements-none", None),
    ] {
        seed::bucket(&moto, bucket, config).await;
    }
    let rule = &atrest_rules::s3_bucket_encrypted::RULE;
    let recorded = invoke(&moto, rule, events::scheduled("s3-bucket-encrypted", json!({}))).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got["statements-kms"], "COMPLIANT");
    assert_eq!(got["statements-sse-s3"], "NON_COMPLIANT");
    assert_eq!(got["statements-none"], "NON_COMPLIANT");
    let ops = count_operations(&recorded);
    assert_eq!(ops.get("s3:GetBucketEncryption"), Some(&3), "{ops:?}");

    let deleted = events::deleted(events::item("AWS::S3::Bucket", "statements-old", json!({}), json!({})));
    let recorded = invoke(&moto, rule, events::change("s3-bucket-encrypted", deleted, json!({}))).await;
    assert_eq!(compliance_by_id(&recorded)["statements-old"], "NOT_APPLICABLE");
}

#[tokio::test]
async fn ssm_parameter_encrypted_on_moto() {
    use aws_sdk_ssm::types::ParameterType;
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    for (name, kind, key) in [
        ("/payments/db/password", ParameterType::SecureString, Some(key.as_str())),
        ("/payments/api/token", ParameterType::SecureString, None),
        ("/payments/smtp/password", ParameterType::String, None),
        ("/payments/ui/theme", ParameterType::String, None),
    ] {
        seed::parameter(&moto, name, kind, "planted-value-4b1d", key).await;
    }
    let rule = &atrest_rules::ssm_parameter_encrypted::RULE;
    let recorded = invoke(&moto, rule, events::scheduled("ssm-parameter-encrypted", json!({}))).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got["/payments/db/password"], "COMPLIANT");
    assert_eq!(got["/payments/api/token"], "NON_COMPLIANT", "alias/aws/ssm");
    assert_eq!(got["/payments/smtp/password"], "NON_COMPLIANT", "plaintext secret");
    assert_eq!(got["/payments/ui/theme"], "NOT_APPLICABLE");
    let ops = count_operations(&recorded);
    assert!(ops.keys().all(|o| !o.starts_with("ssm:GetParameter")), "{ops:?}");
    assert!(recorded
        .iter()
        .all(|r| !String::from_utf8_lossy(&r.body).contains("planted-value-4b1d")));
}

#[tokio::test]
async fn lambda_env_encrypted_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let role = seed::lambda_role(&moto, "atrest-e2e-function").await;
    for (name, variables, key) in [
        (
            "settle-with-key",
            &[("DB_PASSWORD", "planted-value-4b1d")][..],
            Some(key.as_str()),
        ),
        ("settle-without-key", &[("DB_PASSWORD", "planted-value-4b1d")][..], None),
        ("settle-no-environment", &[][..], None),
    ] {
        seed::function(&moto, name, &role, variables, key).await;
    }
    let rule = &atrest_rules::lambda_env_encrypted::RULE;
    let recorded = invoke(&moto, rule, events::scheduled("lambda-env-encrypted", json!({}))).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got["settle-with-key"], "COMPLIANT");
    assert_eq!(got["settle-without-key"], "NON_COMPLIANT");
    assert_eq!(got["settle-no-environment"], "NOT_APPLICABLE");
    let sent: String = put_evaluations(&recorded).iter().map(Value::to_string).collect();
    assert!(!sent.contains("planted-value-4b1d") && !sent.contains("DB_PASSWORD"));

    // The change path asks Lambda for the variables (the item lacks them).
    let item = events::item(
        "AWS::Lambda::Function",
        "settle-without-key",
        json!({"functionName": "settle-without-key"}),
        json!({}),
    );
    let recorded = invoke(&moto, rule, events::change("lambda-env-encrypted", item, json!({}))).await;
    assert_eq!(compliance_by_id(&recorded)["settle-without-key"], "NON_COMPLIANT");
    assert_eq!(
        count_operations(&recorded).get("lambda:GetFunctionConfiguration"),
        Some(&1)
    );
}

#[tokio::test]
async fn kms_key_rotation_enabled_on_moto() {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let Some(moto) = Moto::start() else { return };
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let rotating = seed::key(&moto, &[]).await;
    kms.enable_key_rotation().key_id(&rotating).send().await.unwrap();
    let still = seed::key(&moto, &[]).await;
    let signing = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let signing = signing.key_metadata().unwrap().key_id().to_owned();
    let id = |arn: &str| arn.rsplit('/').next().unwrap().to_owned();

    let rule = &atrest_rules::kms_key_rotation_enabled::RULE;
    let recorded = invoke(&moto, rule, events::scheduled("kms-key-rotation-enabled", json!({}))).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&id(&rotating)], "COMPLIANT");
    assert_eq!(got[&id(&still)], "NON_COMPLIANT");
    assert_eq!(got[&signing], "NOT_APPLICABLE");
    let ops = count_operations(&recorded);
    assert_eq!(
        ops.get("kms:GetKeyRotationStatus"),
        Some(&2),
        "not for the RSA key: {ops:?}"
    );
}

#[tokio::test]
async fn kms_key_tags_aligned_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[("CostCenter", "Payments")]).await;
    let mut ids = Vec::new();
    for (cost_center, encrypted) in [("Payments", true), ("Marketing", true), ("Payments", false)] {
        let key = encrypted.then_some(key.as_str());
        ids.push(seed::volume(&moto, key, 8, &[("CostCenter", cost_center)]).await);
    }
    let rule = &atrest_rules::kms_key_tags_aligned::RULE;
    let params = json!({"tagKeys": "CostCenter"});
    let recorded = invoke(&moto, rule, events::scheduled("kms-key-tags-aligned", params)).await;
    assert_test_mode_and_scheduled_time(&recorded);
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&ids[0]], "COMPLIANT");
    assert_eq!(got[&ids[1]], "NON_COMPLIANT");
    assert_eq!(got[&ids[2]], "NOT_APPLICABLE");
    let annotation = put_evaluations(&recorded)
        .iter()
        .flat_map(|b| b["Evaluations"].as_array().cloned().unwrap_or_default())
        .find(|e| e["ComplianceResourceId"] == ids[1].as_str())
        .and_then(|e| e["Annotation"].as_str().map(str::to_owned))
        .unwrap();
    assert_eq!(annotation, "CostCenter: resource=Marketing, key=Payments");
    assert_eq!(count_operations(&recorded).get("kms:ListResourceTags"), Some(&1));
}
