//! Seeding moto through the Rust SDK: the resources the end-to-end tests
//! judge, each made in one call here so that every test makes them alike.

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use crate::Moto;

/// The trust policy of a Lambda execution role.
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A customer-managed key with `tags` and moto's default key policy; its ARN.
pub async fn key(moto: &Moto, tags: &[(&str, &str)]) -> String {
    key_with_policy(moto, tags, None).await
}

/// A customer-managed key with `tags` and, when given, this key policy; its ARN.
pub async fn key_with_policy(moto: &Moto, tags: &[(&str, &str)], policy: Option<String>) -> String {
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let mut req = kms.create_key().description("atrest e2e").set_policy(policy);
    for (k, v) in tags {
        req = req.tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(*k)
                .tag_value(*v)
                .build()
                .expect("tag key and value are set"),
        );
    }
    let created = req.send().await.expect("CreateKey on moto");
    created
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("CreateKey returns the key's ARN")
        .to_owned()
}

/// An alias `name` (`alias/...`) of `key`.
pub async fn alias(moto: &Moto, name: &str, key: &str) {
    aws_sdk_kms::Client::new(&moto.sdk_config())
        .create_alias()
        .alias_name(name)
        .target_key_id(key)
        .send()
        .await
        .expect("CreateAlias on moto");
}

/// A volume of `size` GiB, encrypted with `key` when given, with `tags`; its id.
pub async fn volume(moto: &Moto, key: Option<&str>, size: i32, tags: &[(&str, &str)]) -> String {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let mut req = aws_sdk_ec2::Client::new(&moto.sdk_config())
        .create_volume()
        .availability_zone("eu-west-1a")
        .size(size)
        .encrypted(key.is_some())
        .set_kms_key_id(key.map(str::to_owned));
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Volume);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        req = req.tag_specifications(spec.build());
    }
    let created = req.send().await.expect("CreateVolume on moto");
    created.volume_id().expect("CreateVolume returns the id").to_owned()
}

/// An Aurora PostgreSQL cluster `id`, storage encrypted with `key`; its
/// resource id (what Config names it by).
pub async fn aurora_cluster(moto: &Moto, id: &str, key: &str) -> String {
    let created = aws_sdk_rds::Client::new(&moto.sdk_config())
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("correct-horse-battery")
        .storage_encrypted(true)
        .kms_key_id(key)
        .send()
        .await
        .expect("CreateDBCluster on moto");
    created
        .db_cluster()
        .and_then(|c| c.db_cluster_resource_id())
        .expect("CreateDBCluster returns the resource id")
        .to_owned()
}

/// Default bucket encryption with `algorithm`, under `key` when given.
pub fn bucket_encryption(algorithm: ServerSideEncryption, key: Option<&str>) -> ServerSideEncryptionConfiguration {
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(algorithm)
        .set_kms_master_key_id(key.map(str::to_owned))
        .build()
        .expect("the algorithm is set");
    ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build(),
        )
        .build()
        .expect("one rule is set")
}

/// A bucket `name` in the test region, with `encryption` as its default
/// encryption when given.
pub async fn bucket(moto: &Moto, name: &str, encryption: Option<ServerSideEncryptionConfiguration>) {
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config());
    s3.create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket on moto");
    if let Some(encryption) = encryption {
        s3.put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(encryption)
            .send()
            .await
            .expect("PutBucketEncryption on moto");
    }
}

/// A parameter `name` of `kind` holding `value`, under `key` when given.
pub async fn parameter(
    moto: &Moto,
    name: &str,
    kind: aws_sdk_ssm::types::ParameterType,
    value: &str,
    key: Option<&str>,
) {
    aws_sdk_ssm::Client::new(&moto.sdk_config())
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .set_key_id(key.map(str::to_owned))
        .send()
        .await
        .expect("PutParameter on moto");
}

/// An IAM role Lambda may assume; its ARN.
pub async fn lambda_role(moto: &Moto, name: &str) -> String {
    let created = aws_sdk_iam::Client::new(&moto.sdk_config())
        .create_role()
        .role_name(name)
        .assume_role_policy_document(LAMBDA_TRUST)
        .send()
        .await
        .expect("CreateRole on moto");
    created.role().expect("CreateRole returns the role").arn().to_owned()
}

/// A `provided.al2023` function `name` running as `role`, with these
/// environment variables (none: no environment at all), encrypted with `key`
/// when given.
pub async fn function(moto: &Moto, name: &str, role: &str, variables: &[(&str, &str)], key: Option<&str>) {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
    let mut req = aws_sdk_lambda::Client::new(&moto.sdk_config())
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(FunctionCode::builder().zip_file(Blob::new(bootstrap_zip())).build())
        .set_kms_key_arn(key.map(str::to_owned));
    if !variables.is_empty() {
        let mut env = Environment::builder();
        for (k, v) in variables {
            env = env.variables(*k, *v);
        }
        req = req.environment(env.build());
    }
    req.send().await.expect("CreateFunction on moto");
}

/// A zip holding a file `bootstrap`, stored (no compression), built by hand
/// so the tests need no zip library.
pub fn bootstrap_zip() -> Vec<u8> {
    let name = b"bootstrap";
    let data = b"#!/bin/sh\n";
    let crc = crc32(data);
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes();
    let mut z = Vec::new();
    z.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len(data.len()));
    z.extend_from_slice(&len(data.len()));
    z.extend_from_slice(&[name.len() as u8, 0, 0, 0]);
    z.extend_from_slice(name);
    z.extend_from_slice(data);
    let central = z.len();
    z.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&len(data.len()));
    z.extend_from_slice(&len(data.len()));
    z.extend_from_slice(&[name.len() as u8, 0]);
    z.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&(0o100755u32 << 16).to_le_bytes());
    z.extend_from_slice(&0u32.to_le_bytes());
    z.extend_from_slice(name);
    let size = z.len() - central;
    z.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&len(size));
    z.extend_from_slice(&len(central));
    z.extend_from_slice(&[0, 0]);
    z
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A multi-region CloudTrail trail `org-trail` into a new bucket, recording
/// management events (the selector AWS gives a new trail; moto gives none),
/// logging when `logging`; its name.
pub async fn trail(moto: &Moto, logging: bool) -> String {
    use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType};
    let sse = bucket_encryption(ServerSideEncryption::Aes256, None);
    bucket(moto, "atrest-trail", Some(sse)).await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&moto.sdk_config());
    cloudtrail
        .create_trail()
        .name("org-trail")
        .s3_bucket_name("atrest-trail")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("CreateTrail on moto");
    let all = EventSelector::builder()
        .read_write_type(ReadWriteType::All)
        .include_management_events(true)
        .build();
    cloudtrail
        .put_event_selectors()
        .trail_name("org-trail")
        .event_selectors(all)
        .send()
        .await
        .expect("PutEventSelectors on moto");
    if logging {
        cloudtrail
            .start_logging()
            .name("org-trail")
            .send()
            .await
            .expect("StartLogging on moto");
    }
    "org-trail".into()
}

/// An enabled EventBridge rule `name` of the default bus with `pattern`,
/// and a new SNS topic as its target when `target`.
pub async fn alert_rule(moto: &Moto, name: &str, pattern: &str, target: bool) {
    let events = aws_sdk_eventbridge::Client::new(&moto.sdk_config());
    events
        .put_rule()
        .name(name)
        .event_pattern(pattern)
        .send()
        .await
        .expect("PutRule on moto");
    if !target {
        return;
    }
    let topic = aws_sdk_sns::Client::new(&moto.sdk_config())
        .create_topic()
        .name(format!("{name}-topic"))
        .send()
        .await
        .expect("CreateTopic on moto");
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("topic")
        .set_arn(topic.topic_arn().map(str::to_owned))
        .build()
        .expect("a target with an id and an ARN");
    events
        .put_targets()
        .rule(name)
        .targets(target)
        .send()
        .await
        .expect("PutTargets on moto");
}
