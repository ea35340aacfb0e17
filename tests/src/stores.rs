//! Seeding moto with the stores of the encryption rules that each judge one
//! resource type: one resource per call, encrypted with a customer key or,
//! without one, protected the way the type is by default (unencrypted, or
//! under keys the service owns). Each call returns the resource's Config
//! resource id, the id its rule reports.

use crate::{seed, Moto};

/// The rules [`store`] seeds for: the encryption rules of one resource type
/// each that the resource layer added.
pub const RULES: &[&str] = &[
    "dynamodb-table-encrypted",
    "efs-file-system-encrypted",
    "secretsmanager-secret-encrypted",
    "sns-topic-encrypted",
    "sqs-queue-encrypted",
    "logs-log-group-encrypted",
    "cloudtrail-trail-encrypted",
    "kinesis-stream-encrypted",
    "ecr-repository-encrypted",
    "backup-vault-encrypted",
];

/// A resource `name` of the type `rule` judges, under `key` when given;
/// its Config resource id.
pub async fn store(moto: &Moto, rule: &str, name: &str, key: Option<&str>) -> String {
    let config = moto.sdk_config();
    match rule {
        "dynamodb-table-encrypted" => {
            use aws_sdk_dynamodb::types::{
                AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, SseSpecification,
                SseType,
            };
            let mut req = aws_sdk_dynamodb::Client::new(&config)
                .create_table()
                .table_name(name)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("attribute"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("id")
                        .key_type(KeyType::Hash)
                        .build()
                        .expect("key schema"),
                );
            if let Some(key) = key {
                req = req.sse_specification(
                    SseSpecification::builder()
                        .enabled(true)
                        .sse_type(SseType::Kms)
                        .kms_master_key_id(key)
                        .build(),
                );
            }
            req.send().await.expect("CreateTable on moto");
            name.to_owned()
        }
        "efs-file-system-encrypted" => {
            let created = aws_sdk_efs::Client::new(&config)
                .create_file_system()
                .creation_token(name)
                .encrypted(key.is_some())
                .set_kms_key_id(key.map(str::to_owned))
                .send()
                .await
                .expect("CreateFileSystem on moto");
            created.file_system_id().to_owned()
        }
        "secretsmanager-secret-encrypted" => {
            // Without a key: a key of the caller's that is not customer-
            // managed cannot be made on moto, so the plain case is a secret
            // under the AWS-managed default (moto names no key for it).
            let created = aws_sdk_secretsmanager::Client::new(&config)
                .create_secret()
                .name(name)
                .secret_string(SEEDED_SECRET_VALUE)
                .set_kms_key_id(key.map(str::to_owned))
                .send()
                .await
                .expect("CreateSecret on moto");
            created.arn().expect("CreateSecret returns the ARN").to_owned()
        }
        "sns-topic-encrypted" => {
            let mut req = aws_sdk_sns::Client::new(&config).create_topic().name(name);
            if let Some(key) = key {
                req = req.attributes("KmsMasterKeyId", key);
            }
            let created = req.send().await.expect("CreateTopic on moto");
            created.topic_arn().expect("CreateTopic returns the ARN").to_owned()
        }
        "sqs-queue-encrypted" => {
            use aws_sdk_sqs::types::QueueAttributeName;
            let mut req = aws_sdk_sqs::Client::new(&config).create_queue().queue_name(name);
            req = match key {
                Some(key) => req.attributes(QueueAttributeName::KmsMasterKeyId, key),
                None => req.attributes(QueueAttributeName::SqsManagedSseEnabled, "true"),
            };
            let created = req.send().await.expect("CreateQueue on moto");
            created.queue_url().expect("CreateQueue returns the URL").to_owned()
        }
        "logs-log-group-encrypted" => {
            aws_sdk_cloudwatchlogs::Client::new(&config)
                .create_log_group()
                .log_group_name(name)
                .set_kms_key_id(key.map(str::to_owned))
                .send()
                .await
                .expect("CreateLogGroup on moto");
            name.to_owned()
        }
        "cloudtrail-trail-encrypted" => {
            let bucket = format!("{name}-trail-logs");
            seed::bucket(moto, &bucket, None).await;
            aws_sdk_cloudtrail::Client::new(&config)
                .create_trail()
                .name(name)
                .s3_bucket_name(bucket)
                .set_kms_key_id(key.map(str::to_owned))
                .send()
                .await
                .expect("CreateTrail on moto");
            name.to_owned()
        }
        "kinesis-stream-encrypted" => {
            use aws_sdk_kinesis::types::EncryptionType;
            let kinesis = aws_sdk_kinesis::Client::new(&config);
            kinesis
                .create_stream()
                .stream_name(name)
                .shard_count(1)
                .send()
                .await
                .expect("CreateStream on moto");
            if let Some(key) = key {
                kinesis
                    .start_stream_encryption()
                    .stream_name(name)
                    .encryption_type(EncryptionType::Kms)
                    .key_id(key)
                    .send()
                    .await
                    .expect("StartStreamEncryption on moto");
            }
            name.to_owned()
        }
        "ecr-repository-encrypted" => {
            use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType};
            let encryption = match key {
                Some(key) => EncryptionConfiguration::builder()
                    .encryption_type(EncryptionType::Kms)
                    .kms_key(key),
                None => EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256),
            };
            aws_sdk_ecr::Client::new(&config)
                .create_repository()
                .repository_name(name)
                .encryption_configuration(encryption.build().expect("encryption type is set"))
                .send()
                .await
                .expect("CreateRepository on moto");
            name.to_owned()
        }
        "backup-vault-encrypted" => {
            aws_sdk_backup::Client::new(&config)
                .create_backup_vault()
                .backup_vault_name(name)
                .set_encryption_key_arn(key.map(str::to_owned))
                .send()
                .await
                .expect("CreateBackupVault on moto");
            name.to_owned()
        }
        other => panic!("no store seeding for {other}"),
    }
}

/// The value of every secret [`store`] makes (`tests/secrets.rs` plants its own).
pub const SEEDED_SECRET_VALUE: &str = "seeded-s3cr3t-value-4b3a";
