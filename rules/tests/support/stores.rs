//! Mocked listings of the stores of the resource layer's ten single-type
//! rules (DynamoDB, EFS, Secrets Manager, SNS, SQS, CloudWatch Logs,
//! CloudTrail, Kinesis, ECR, Backup): each lists one resource under key
//! `k1` tagged `CostCenter=cc-1` (its id in [`IDS`]), or none.

use aws_smithy_mocks::{mock, Rule as MockRule};

use super::key_arn;

/// The resource each listing yields: (Config type, Config resource id).
pub const IDS: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "orders"),
    ("AWS::EFS::FileSystem", "fs-1"),
    (
        "AWS::SecretsManager::Secret",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    ),
    ("AWS::SNS::Topic", "arn:aws:sns:eu-west-1:123456789012:alerts"),
    (
        "AWS::SQS::Queue",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
    ),
    ("AWS::Logs::LogGroup", "/app/orders"),
    ("AWS::CloudTrail::Trail", "audit"),
    ("AWS::Kinesis::Stream", "clicks"),
    ("AWS::ECR::Repository", "api"),
    ("AWS::Backup::BackupVault", "vault"),
];

const CC: (&str, &str) = ("CostCenter", "cc-1");

/// The mocks: with one resource each (`populated`), or empty listings.
pub fn mocks(populated: bool) -> Vec<MockRule> {
    let k1 = key_arn("k1");
    let n = usize::from(populated);
    let mut rules = vec![
        {
            use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
            mock!(aws_sdk_dynamodb::Client::list_tables).then_output(move || {
                ListTablesOutput::builder()
                    .set_table_names(Some(vec!["orders".to_owned(); n]))
                    .build()
            })
        },
        {
            use aws_sdk_efs::operation::describe_file_systems::DescribeFileSystemsOutput;
            use aws_sdk_efs::types::{FileSystemDescription, FileSystemSize, LifeCycleState, PerformanceMode, Tag};
            let k1 = k1.clone();
            mock!(aws_sdk_efs::Client::describe_file_systems).then_output(move || {
                let fs = FileSystemDescription::builder()
                    .owner_id("123456789012")
                    .creation_token("t")
                    .file_system_id("fs-1")
                    .creation_time(aws_smithy_types::DateTime::from_secs(0))
                    .life_cycle_state(LifeCycleState::Available)
                    .number_of_mount_targets(0)
                    .size_in_bytes(FileSystemSize::builder().value(0).build())
                    .performance_mode(PerformanceMode::GeneralPurpose)
                    .encrypted(true)
                    .kms_key_id(k1.clone())
                    .tags(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                    .build()
                    .unwrap();
                DescribeFileSystemsOutput::builder()
                    .set_file_systems(Some(vec![fs; n]))
                    .build()
            })
        },
        {
            use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
            use aws_sdk_secretsmanager::types::{SecretListEntry, Tag};
            let k1 = k1.clone();
            mock!(aws_sdk_secretsmanager::Client::list_secrets).then_output(move || {
                let secret = SecretListEntry::builder()
                    .arn(IDS[2].1)
                    .name("db")
                    .kms_key_id(k1.clone())
                    .tags(Tag::builder().key(CC.0).value(CC.1).build())
                    .build();
                ListSecretsOutput::builder()
                    .set_secret_list(Some(vec![secret; n]))
                    .build()
            })
        },
        {
            use aws_sdk_sns::operation::list_topics::ListTopicsOutput;
            use aws_sdk_sns::types::Topic;
            mock!(aws_sdk_sns::Client::list_topics).then_output(move || {
                ListTopicsOutput::builder()
                    .set_topics(Some(vec![Topic::builder().topic_arn(IDS[3].1).build(); n]))
                    .build()
            })
        },
        {
            use aws_sdk_sqs::operation::list_queues::ListQueuesOutput;
            mock!(aws_sdk_sqs::Client::list_queues).then_output(move || {
                ListQueuesOutput::builder()
                    .set_queue_urls(Some(vec![IDS[4].1.to_owned(); n]))
                    .build()
            })
        },
        {
            use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
            use aws_sdk_cloudwatchlogs::types::LogGroup;
            let k1 = k1.clone();
            mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups).then_output(move || {
                let group = LogGroup::builder()
                    .log_group_name(IDS[5].1)
                    .log_group_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/app/orders")
                    .kms_key_id(k1.clone())
                    .build();
                DescribeLogGroupsOutput::builder()
                    .set_log_groups(Some(vec![group; n]))
                    .build()
            })
        },
        {
            use aws_sdk_cloudtrail::operation::describe_trails::DescribeTrailsOutput;
            use aws_sdk_cloudtrail::types::Trail;
            let k1 = k1.clone();
            mock!(aws_sdk_cloudtrail::Client::describe_trails).then_output(move || {
                let trail = Trail::builder()
                    .name(IDS[6].1)
                    .trail_arn("arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit")
                    .home_region("eu-west-1")
                    .kms_key_id(k1.clone())
                    .build();
                DescribeTrailsOutput::builder()
                    .set_trail_list(Some(vec![trail; n]))
                    .build()
            })
        },
        {
            use aws_sdk_kinesis::operation::list_streams::ListStreamsOutput;
            mock!(aws_sdk_kinesis::Client::list_streams).then_output(move || {
                ListStreamsOutput::builder()
                    .set_stream_names(Some(vec![IDS[7].1.to_owned(); n]))
                    .has_more_streams(false)
                    .build()
                    .unwrap()
            })
        },
        {
            use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
            use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, Repository};
            let k1 = k1.clone();
            mock!(aws_sdk_ecr::Client::describe_repositories).then_output(move || {
                let repository = Repository::builder()
                    .repository_name(IDS[8].1)
                    .repository_arn("arn:aws:ecr:eu-west-1:123456789012:repository/api")
                    .encryption_configuration(
                        EncryptionConfiguration::builder()
                            .encryption_type(EncryptionType::Kms)
                            .kms_key(k1.clone())
                            .build()
                            .unwrap(),
                    )
                    .build();
                DescribeRepositoriesOutput::builder()
                    .set_repositories(Some(vec![repository; n]))
                    .build()
            })
        },
        {
            use aws_sdk_backup::operation::list_backup_vaults::ListBackupVaultsOutput;
            use aws_sdk_backup::types::BackupVaultListMember;
            let k1 = k1.clone();
            mock!(aws_sdk_backup::Client::list_backup_vaults).then_output(move || {
                let vault = BackupVaultListMember::builder()
                    .backup_vault_name(IDS[9].1)
                    .backup_vault_arn("arn:aws:backup:eu-west-1:123456789012:backup-vault:vault")
                    .encryption_key_arn(k1.clone())
                    .build();
                ListBackupVaultsOutput::builder()
                    .set_backup_vault_list(Some(vec![vault; n]))
                    .build()
            })
        },
    ];
    if populated {
        rules.extend(reads(&k1));
    }
    rules
}

/// What the sweep asks of each listed resource: its encryption where the
/// listing does not say it, and its tags.
fn reads(k1: &str) -> Vec<MockRule> {
    let k1 = k1.to_owned();
    vec![
        {
            use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
            use aws_sdk_dynamodb::types::{SseDescription, SseStatus, SseType, TableDescription};
            let k1 = k1.clone();
            mock!(aws_sdk_dynamodb::Client::describe_table).then_output(move || {
                DescribeTableOutput::builder()
                    .table(
                        TableDescription::builder()
                            .table_name("orders")
                            .table_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/orders")
                            .sse_description(
                                SseDescription::builder()
                                    .status(SseStatus::Enabled)
                                    .sse_type(SseType::Kms)
                                    .kms_master_key_arn(k1.clone())
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            })
        },
        {
            use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
            use aws_sdk_dynamodb::types::Tag;
            mock!(aws_sdk_dynamodb::Client::list_tags_of_resource).then_output(|| {
                ListTagsOfResourceOutput::builder()
                    .tags(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                    .build()
            })
        },
        {
            use aws_sdk_sns::operation::get_topic_attributes::GetTopicAttributesOutput;
            let k1 = k1.clone();
            mock!(aws_sdk_sns::Client::get_topic_attributes).then_output(move || {
                GetTopicAttributesOutput::builder()
                    .attributes("KmsMasterKeyId", k1.clone())
                    .build()
            })
        },
        {
            use aws_sdk_sns::operation::list_tags_for_resource::ListTagsForResourceOutput;
            use aws_sdk_sns::types::Tag;
            mock!(aws_sdk_sns::Client::list_tags_for_resource).then_output(|| {
                ListTagsForResourceOutput::builder()
                    .tags(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                    .build()
            })
        },
        {
            use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesOutput;
            use aws_sdk_sqs::types::QueueAttributeName;
            let k1 = k1.clone();
            mock!(aws_sdk_sqs::Client::get_queue_attributes).then_output(move || {
                GetQueueAttributesOutput::builder()
                    .attributes(QueueAttributeName::KmsMasterKeyId, k1.clone())
                    .build()
            })
        },
        {
            use aws_sdk_sqs::operation::list_queue_tags::ListQueueTagsOutput;
            mock!(aws_sdk_sqs::Client::list_queue_tags)
                .then_output(|| ListQueueTagsOutput::builder().tags(CC.0, CC.1).build())
        },
        {
            use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::ListTagsForResourceOutput;
            mock!(aws_sdk_cloudwatchlogs::Client::list_tags_for_resource)
                .then_output(|| ListTagsForResourceOutput::builder().tags(CC.0, CC.1).build())
        },
        {
            use aws_sdk_cloudtrail::operation::list_tags::ListTagsOutput;
            use aws_sdk_cloudtrail::types::{ResourceTag, Tag};
            mock!(aws_sdk_cloudtrail::Client::list_tags).then_output(|| {
                ListTagsOutput::builder()
                    .resource_tag_list(
                        ResourceTag::builder()
                            .resource_id("arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit")
                            .tags_list(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                            .build(),
                    )
                    .build()
            })
        },
        {
            use aws_sdk_kinesis::operation::describe_stream_summary::DescribeStreamSummaryOutput;
            use aws_sdk_kinesis::types::{EncryptionType, StreamDescriptionSummary, StreamStatus};
            let k1 = k1.clone();
            mock!(aws_sdk_kinesis::Client::describe_stream_summary).then_output(move || {
                DescribeStreamSummaryOutput::builder()
                    .stream_description_summary(
                        StreamDescriptionSummary::builder()
                            .stream_name("clicks")
                            .stream_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/clicks")
                            .stream_status(StreamStatus::Active)
                            .retention_period_hours(24)
                            .stream_creation_timestamp(aws_smithy_types::DateTime::from_secs(0))
                            .set_enhanced_monitoring(Some(vec![]))
                            .open_shard_count(1)
                            .encryption_type(EncryptionType::Kms)
                            .key_id(k1.clone())
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
        },
        {
            use aws_sdk_kinesis::operation::list_tags_for_stream::ListTagsForStreamOutput;
            use aws_sdk_kinesis::types::Tag;
            mock!(aws_sdk_kinesis::Client::list_tags_for_stream).then_output(|| {
                ListTagsForStreamOutput::builder()
                    .tags(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                    .has_more_tags(false)
                    .build()
                    .unwrap()
            })
        },
        {
            use aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceOutput;
            use aws_sdk_ecr::types::Tag;
            mock!(aws_sdk_ecr::Client::list_tags_for_resource).then_output(|| {
                ListTagsForResourceOutput::builder()
                    .tags(Tag::builder().key(CC.0).value(CC.1).build().unwrap())
                    .build()
            })
        },
        {
            use aws_sdk_backup::operation::list_tags::ListTagsOutput;
            mock!(aws_sdk_backup::Client::list_tags).then_output(|| ListTagsOutput::builder().tags(CC.0, CC.1).build())
        },
    ]
}
