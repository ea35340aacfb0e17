//! The fail-closed matrix: for every rule, and every AWS call it makes on a
//! sweep that would otherwise find a COMPLIANT resource, that call failing
//! with AccessDenied, NotFound or throttling past the retries never lets a
//! COMPLIANT reach Config. Faults come from a proxy in each protocol's words.

use atrest_common::aws::AwsContext;
use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::fault_proxy::{Fault, FaultProxy};
use atrest_e2e::{count_operations, evaluations, events, Moto, ACCOUNT};
use serde_json::{json, Value};

async fn key(moto: &Moto, tags: &[(&str, &str)]) -> String {
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let mut req = kms.create_key().policy(policy.to_string());
    for (k, v) in tags {
        req = req.tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(*k)
                .tag_value(*v)
                .build()
                .unwrap(),
        );
    }
    let arn = req
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    kms.enable_key_rotation().key_id(&arn).send().await.unwrap();
    kms.create_alias()
        .alias_name("alias/prod-payments-platform")
        .target_key_id(&arn)
        .send()
        .await
        .unwrap();
    arn
}

/// Seeds moto so that `rule` finds at least one COMPLIANT resource.
async fn seed(moto: &Moto, rule: &str) -> Value {
    let cfg = moto.sdk_config();
    let k = key(moto, &[("CostCenter", "Payments")]).await;
    match rule {
        "ebs-volume-encrypted" | "kms-key-tags-aligned" => {
            use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
            aws_sdk_ec2::Client::new(&cfg)
                .create_volume()
                .availability_zone("eu-west-1a")
                .size(1)
                .encrypted(true)
                .kms_key_id(&k)
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Volume)
                        .tags(Tag::builder().key("CostCenter").value("Payments").build())
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        "rds-storage-encrypted" => {
            aws_sdk_rds::Client::new(&cfg)
                .create_db_cluster()
                .db_cluster_identifier("ledger")
                .engine("aurora-postgresql")
                .master_username("admin")
                .master_user_password("correct-horse-battery")
                .storage_encrypted(true)
                .kms_key_id(&k)
                .send()
                .await
                .unwrap();
        }
        "s3-bucket-encrypted" => {
            use aws_sdk_s3::types::*;
            let s3 = aws_sdk_s3::Client::new(&cfg);
            s3.create_bucket()
                .bucket("fail-closed-bucket")
                .create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::EuWest1)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let by_default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(&k)
                .build()
                .unwrap();
            s3.put_bucket_encryption()
                .bucket("fail-closed-bucket")
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(by_default)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
        "ssm-parameter-encrypted" => {
            aws_sdk_ssm::Client::new(&cfg)
                .put_parameter()
                .name("/db/password")
                .value("x")
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .key_id(&k)
                .send()
                .await
                .unwrap();
        }
        "lambda-env-encrypted" => {
            use aws_sdk_lambda::primitives::Blob;
            use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
            let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
            let role = aws_sdk_iam::Client::new(&cfg)
                .create_role()
                .role_name("fn")
                .assume_role_policy_document(trust)
                .send()
                .await
                .unwrap();
            aws_sdk_lambda::Client::new(&cfg)
                .create_function()
                .function_name("settle")
                .runtime(Runtime::Providedal2023)
                .role(role.role().unwrap().arn())
                .handler("bootstrap")
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec()))
                        .build(),
                )
                .environment(Environment::builder().variables("A", "b").build())
                .kms_key_arn(&k)
                .send()
                .await
                .unwrap();
        }
        _ => {}
    }
    if rule == "kms-key-tags-aligned" {
        json!({"tagKeys": "CostCenter"})
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
