//! Periodic sweeps of the mission rules with their AWS calls mocked: every
//! listing over three pages, evaluations batched by 100, each key looked up
//! once, and every resource reported under the id Config uses for it.

mod support;

use aws_smithy_mocks::{mock, Rule as MockRule};
use serde_json::json;
use support::{count, key_arn, sweep};

/// The key of resource `i`: unencrypted when i % 10 == 9, AWS-managed when
/// i % 10 == 8, else one of five customer-managed keys.
fn key_for(i: usize) -> Option<String> {
    match i % 10 {
        9 => None,
        8 => Some(key_arn("aws-managed")),
        _ => Some(key_arn(&format!("k{}", i % 5))),
    }
}

fn token(page: usize) -> Option<String> {
    (page > 0).then(|| format!("page-{page}"))
}

#[tokio::test]
async fn rds_sweeps_four_listings_and_reports_configs_ids() {
    use aws_sdk_rds::operation::{
        describe_db_cluster_snapshots::DescribeDbClusterSnapshotsOutput,
        describe_db_clusters::DescribeDbClustersOutput, describe_db_instances::DescribeDbInstancesOutput,
        describe_db_snapshots::DescribeDbSnapshotsOutput,
    };
    use aws_sdk_rds::types::{DbCluster, DbClusterSnapshot, DbInstance, DbSnapshot};
    use aws_sdk_rds::Client;

    let instance_pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(Client::describe_db_instances)
                .match_requests(move |r| r.marker().map(str::to_owned) == token(page))
                .then_output(move || {
                    let dbs = (page * 40..page * 40 + 40).map(|i| {
                        let key = key_for(i);
                        DbInstance::builder()
                            .dbi_resource_id(format!("db-{i:04}"))
                            .db_instance_identifier(format!("instance-{i}"))
                            .engine(if i == 7 { "neptune" } else { "postgres" })
                            .storage_encrypted(key.is_some())
                            .set_kms_key_id(key)
                            .build()
                    });
                    DescribeDbInstancesOutput::builder()
                        .set_db_instances(Some(dbs.collect()))
                        .set_marker(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let clusters = mock!(Client::describe_db_clusters).then_output(|| {
        DescribeDbClustersOutput::builder()
            .db_clusters(
                DbCluster::builder()
                    .db_cluster_resource_id("cluster-ABC")
                    .engine("aurora-postgresql")
                    .storage_encrypted(true)
                    .kms_key_id(key_arn("k1"))
                    .build(),
            )
            .build()
    });
    let snapshots = mock!(Client::describe_db_snapshots).then_output(|| {
        DescribeDbSnapshotsOutput::builder()
            .db_snapshots(
                DbSnapshot::builder()
                    .db_snapshot_identifier("rds:instance-1-2026-11-28")
                    .engine("postgres")
                    .encrypted(false)
                    .build(),
            )
            .build()
    });
    let cluster_snapshots = mock!(Client::describe_db_cluster_snapshots).then_output(|| {
        DescribeDbClusterSnapshotsOutput::builder()
            .db_cluster_snapshots(
                DbClusterSnapshot::builder()
                    .db_cluster_snapshot_identifier("ledger-final")
                    .engine("aurora-postgresql")
                    .storage_encrypted(true)
                    .kms_key_id(key_arn("aws-managed"))
                    .build(),
            )
            .build()
    });
    let rule = &atrest_rules::rds_storage_encrypted::RULE;
    let mut mocks: Vec<&MockRule> = instance_pages.iter().collect();
    mocks.extend([&clusters, &snapshots, &cluster_snapshots]);
    let (summary, batches, delivered) = sweep(rule, json!({}), &mocks).await.unwrap();

    assert_eq!(instance_pages.iter().map(MockRule::num_calls).sum::<usize>(), 3);
    // 119 instances (the Neptune one is another Config type) + 3.
    assert_eq!(delivered.len(), 122);
    assert_eq!(batches, [100, 22]);
    assert!(!delivered.iter().any(|d| d.1 == "db-0007"), "Neptune instance reported");
    let find = |id: &str| delivered.iter().find(|d| d.1 == id).unwrap();
    assert_eq!(find("db-0000").0, "AWS::RDS::DBInstance");
    assert_eq!(find("db-0000").2, "COMPLIANT");
    assert_eq!(find("db-0009").2, "NON_COMPLIANT");
    assert_eq!(find("db-0008").2, "NON_COMPLIANT");
    assert!(find("db-0008").3.contains("AWS-managed"));
    assert_eq!(find("cluster-ABC").0, "AWS::RDS::DBCluster");
    assert_eq!(find("rds:instance-1-2026-11-28").0, "AWS::RDS::DBSnapshot");
    assert_eq!(find("rds:instance-1-2026-11-28").2, "NON_COMPLIANT");
    assert_eq!(find("ledger-final").0, "AWS::RDS::DBClusterSnapshot");
    assert_eq!(find("ledger-final").2, "NON_COMPLIANT");
    // Five customer keys and the AWS-managed one, each described once.
    assert_eq!(summary.aws_calls.get("kms:DescribeKey"), Some(&6));
}

#[tokio::test]
async fn s3_sweeps_the_regions_buckets_and_reads_each_encryption() {
    use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
    use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    use aws_sdk_s3::types::{
        Bucket, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    use aws_sdk_s3::Client;

    let pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(Client::list_buckets)
                .match_requests(move |r| r.continuation_token().map(str::to_owned) == token(page))
                .then_output(move || {
                    let buckets = (page * 40..page * 40 + 40).map(|i| {
                        // Every 20th bucket lives in another region.
                        let region = if i % 20 == 19 { "us-east-1" } else { "eu-west-1" };
                        Bucket::builder()
                            .name(format!("bucket-{i:03}"))
                            .bucket_region(region)
                            .build()
                    });
                    ListBucketsOutput::builder()
                        .set_buckets(Some(buckets.collect()))
                        .set_continuation_token(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let rule_for = |sse: ServerSideEncryption, key: Option<String>| {
        ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(sse)
                            .set_kms_master_key_id(key)
                            .build()
                            .unwrap(),
                    )
                    .bucket_key_enabled(true)
                    .build(),
            )
            .build()
            .unwrap()
    };
    let not_found = mock!(Client::get_bucket_encryption)
        .match_requests(|r| r.bucket().is_some_and(|b| b.ends_with('3')))
        .sequence()
        .http_status(
            404,
            Some(
                "<Error><Code>ServerSideEncryptionConfigurationNotFoundError</Code><Message>none</Message></Error>"
                    .into(),
            ),
        )
        .repeatedly()
        .build();
    let denied = mock!(Client::get_bucket_encryption)
        .match_requests(|r| r.bucket().is_some_and(|b| b.ends_with('5')))
        .sequence()
        .http_status(
            403,
            Some("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".into()),
        )
        .repeatedly()
        .build();
    let encryption = mock!(Client::get_bucket_encryption).then_compute_output(move |r| {
        let i: usize = r.bucket().unwrap_or_default()[7..].parse().unwrap();
        let config = match key_for(i) {
            None => rule_for(ServerSideEncryption::Aes256, None),
            Some(k) => rule_for(ServerSideEncryption::AwsKms, Some(k)),
        };
        GetBucketEncryptionOutput::builder()
            .server_side_encryption_configuration(config)
            .build()
    });
    let rule = &atrest_rules::s3_bucket_encrypted::RULE;
    let mut mocks: Vec<&MockRule> = pages.iter().collect();
    mocks.extend([&not_found, &denied, &encryption]);
    let (_, batches, delivered) = sweep(rule, json!({}), &mocks).await.unwrap();

    assert_eq!(pages.iter().map(MockRule::num_calls).sum::<usize>(), 3);
    assert_eq!(
        delivered.len(),
        114,
        "the 6 buckets of another region are not this rule's"
    );
    assert_eq!(batches, [100, 14]);
    assert!(!delivered.iter().any(|d| d.1 == "bucket-019"));
    let find = |id: &str| delivered.iter().find(|d| d.1 == id).unwrap();
    assert_eq!(find("bucket-000").2, "COMPLIANT");
    assert!(find("bucket-009").3.contains("SSE-S3"));
    assert!(find("bucket-008").3.contains("AWS-managed"));
    assert!(find("bucket-013").3.contains("No default encryption"));
    assert_eq!(find("bucket-015").2, "NON_COMPLIANT");
    assert!(
        find("bucket-015").3.contains("access denied"),
        "{}",
        find("bucket-015").3
    );
    assert!(delivered.iter().all(|d| d.0 == "AWS::S3::Bucket"));
}

#[tokio::test]
async fn ssm_sweeps_parameters_without_reading_a_value() {
    use aws_sdk_ssm::operation::describe_parameters::DescribeParametersOutput;
    use aws_sdk_ssm::types::{ParameterMetadata, ParameterType};
    use aws_sdk_ssm::Client;

    let pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(Client::describe_parameters)
                .match_requests(move |r| {
                    r.next_token().map(str::to_owned) == token(page) && r.max_results() == Some(50)
                })
                .then_output(move || {
                    let params = (page * 50..page * 50 + 50).map(|i| {
                        let b = ParameterMetadata::builder();
                        match i % 4 {
                            0 => b
                                .name(format!("/app/{i}/password"))
                                .r#type(ParameterType::SecureString)
                                .key_id(key_arn("k1")),
                            1 => b
                                .name(format!("/app/{i}/token"))
                                .r#type(ParameterType::SecureString)
                                .key_id("alias/aws/ssm"),
                            2 => b.name(format!("/app/{i}/api_key")).r#type(ParameterType::String),
                            _ => b.name(format!("/app/{i}/log-level")).r#type(ParameterType::String),
                        }
                        .build()
                    });
                    DescribeParametersOutput::builder()
                        .set_parameters(Some(params.collect()))
                        .set_next_token(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let rule = &atrest_rules::ssm_parameter_encrypted::RULE;
    let mocks: Vec<&MockRule> = pages.iter().collect();
    let (summary, batches, delivered) = sweep(rule, json!({}), &mocks).await.unwrap();
    assert_eq!(batches, [100, 50]);
    assert_eq!(count(&delivered, "COMPLIANT"), 38);
    assert_eq!(count(&delivered, "NON_COMPLIANT"), 75);
    assert_eq!(count(&delivered, "NOT_APPLICABLE"), 37);
    assert!(delivered.iter().all(|d| d.0 == "AWS::SSM::Parameter"));
    assert_eq!(delivered[0].1, "/app/0/password");
    // Only DescribeParameters and KMS: no GetParameter of any kind.
    let ops: Vec<&String> = summary.aws_calls.keys().collect();
    assert!(ops.iter().all(|o| !o.starts_with("ssm:GetParameter")), "{ops:?}");
    assert_eq!(summary.aws_calls.get("ssm:DescribeParameters"), Some(&3));
}

#[tokio::test]
async fn lambda_sweeps_functions_and_never_reports_a_value() {
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::types::{EnvironmentResponse, FunctionConfiguration};
    use aws_sdk_lambda::Client;

    const SECRET: &str = "s3cr3t-value-that-must-never-leak";
    let pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(Client::list_functions)
                .match_requests(move |r| r.marker().map(str::to_owned) == token(page))
                .then_output(move || {
                    let functions = (page * 40..page * 40 + 40).map(|i| {
                        let mut b = FunctionConfiguration::builder()
                            .function_name(format!("fn-{i:03}"))
                            .function_arn(format!("arn:aws:lambda:eu-west-1:123456789012:function:fn-{i:03}"))
                            .set_kms_key_arn(key_for(i));
                        if i % 3 != 0 {
                            b = b.environment(
                                EnvironmentResponse::builder()
                                    .variables("DB_PASSWORD", SECRET)
                                    .variables("MODE", "x")
                                    .build(),
                            );
                        }
                        b.build()
                    });
                    ListFunctionsOutput::builder()
                        .set_functions(Some(functions.collect()))
                        .set_next_marker(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let rule = &atrest_rules::lambda_env_encrypted::RULE;
    let mocks: Vec<&MockRule> = pages.iter().collect();
    let (_, batches, delivered) = sweep(rule, json!({}), &mocks).await.unwrap();
    assert_eq!(batches, [100, 20]);
    let find = |id: &str| delivered.iter().find(|d| d.1 == id).unwrap();
    assert_eq!(find("fn-000").2, "NOT_APPLICABLE", "no environment");
    assert_eq!(find("fn-001").2, "COMPLIANT");
    assert!(find("fn-001").3.contains("2 environment variable(s)"));
    assert_eq!(find("fn-019").2, "NON_COMPLIANT", "environment without a key");
    assert!(find("fn-019").3.contains("no KMSKeyArn"));
    assert_eq!(find("fn-028").2, "NON_COMPLIANT", "AWS-managed key");
    assert!(delivered
        .iter()
        .all(|d| !d.3.contains(SECRET) && !d.3.contains("DB_PASSWORD")));
}

#[tokio::test]
async fn key_rotation_sweeps_every_listed_key() {
    use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
    use aws_sdk_kms::operation::list_keys::ListKeysOutput;
    use aws_sdk_kms::types::KeyListEntry;
    use aws_sdk_kms::Client;

    let pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(Client::list_keys)
                .match_requests(move |r| r.marker().map(str::to_owned) == token(page))
                .then_output(move || {
                    let keys = (page * 45..page * 45 + 45).map(|i| {
                        let id = if i % 10 == 8 {
                            format!("aws-{i}")
                        } else {
                            format!("k{i:03}")
                        };
                        KeyListEntry::builder().key_id(&id).key_arn(key_arn(&id)).build()
                    });
                    ListKeysOutput::builder()
                        .set_keys(Some(keys.collect()))
                        .truncated(page < 2)
                        .set_next_marker(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let rotation = mock!(Client::get_key_rotation_status).then_compute_output(|r| {
        let id = r.key_id().unwrap_or_default();
        let n: usize = id.rsplit('/').next().unwrap()[1..].parse().unwrap();
        GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(n % 2 == 0)
            .rotation_period_in_days(if n % 4 == 0 { 365 } else { 730 })
            .build()
    });
    let rule = &atrest_rules::kms_key_rotation_enabled::RULE;
    let mut mocks: Vec<&MockRule> = pages.iter().collect();
    mocks.push(&rotation);
    let (summary, batches, delivered) = sweep(rule, json!({"maxRotationPeriodInDays": "400"}), &mocks)
        .await
        .unwrap();
    assert_eq!(batches, [100, 35]);
    assert!(delivered.iter().all(|d| d.0 == "AWS::KMS::Key"));
    let find = |id: &str| delivered.iter().find(|d| d.1 == id).unwrap();
    assert_eq!(find("k000").2, "COMPLIANT");
    assert_eq!(find("k001").2, "NON_COMPLIANT");
    assert!(find("k002").3.contains("exceeds maxRotationPeriodInDays"));
    assert_eq!(find("aws-8").2, "NOT_APPLICABLE");
    // AWS-managed keys need no rotation call.
    assert_eq!(summary.aws_calls.get("kms:GetKeyRotationStatus"), Some(&122));
    assert_eq!(summary.aws_calls.get("kms:ListKeys"), Some(&3));
}

#[test]
fn every_rule_binary_name_is_its_id() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    for rule in atrest_rules::ALL {
        let id = rule.spec().id;
        assert!(
            manifest.contains(&format!("name = \"{id}\"\npath = \"src/bin/{id}.rs\"")),
            "{id} has no binary of its name"
        );
        let bin = std::fs::read_to_string(format!("{}/src/bin/{id}.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(
            bin.contains(&format!("atrest_rules::{}::RULE", id.replace('-', "_"))),
            "{id}"
        );
    }
}

#[tokio::test]
async fn tag_alignment_sweeps_every_covered_service() {
    use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput;
    use aws_sdk_ec2::types::{Tag as Ec2Tag, Volume};
    use aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput;
    use aws_sdk_kms::types::Tag as KmsTag;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::operation::list_tags::ListTagsOutput;
    use aws_sdk_lambda::types::FunctionConfiguration;
    use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::{DbInstance, Tag as RdsTag};
    use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
    use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
    use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    use aws_sdk_s3::types::{
        Bucket, ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, Tag as S3Tag,
    };
    use aws_sdk_ssm::operation::describe_parameters::DescribeParametersOutput;
    use aws_sdk_ssm::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_ssm::types::{ParameterMetadata, ParameterType, Tag as SsmTag};

    // Key kN carries CostCenter=cc-N.
    let key_tags = mock!(aws_sdk_kms::Client::list_resource_tags).then_compute_output(|r| {
        let id = r
            .key_id()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        ListResourceTagsOutput::builder()
            .tags(
                KmsTag::builder()
                    .tag_key("CostCenter")
                    .tag_value(format!("cc-{}", &id[1..]))
                    .build()
                    .unwrap(),
            )
            .build()
    });
    // Volume i: key k(i % 5); its CostCenter matches unless i % 7 == 0.
    let volume_pages: Vec<MockRule> = (0..3)
        .map(|page| {
            mock!(aws_sdk_ec2::Client::describe_volumes)
                .match_requests(move |r| r.next_token().map(str::to_owned) == token(page))
                .then_output(move || {
                    let volumes = (page * 40..page * 40 + 40).map(|i| {
                        let cc = if i % 7 == 0 {
                            "elsewhere".to_owned()
                        } else {
                            format!("cc-{}", i % 5)
                        };
                        Volume::builder()
                            .volume_id(format!("vol-{i:03}"))
                            .encrypted(true)
                            .kms_key_id(key_arn(&format!("k{}", i % 5)))
                            .tags(Ec2Tag::builder().key("CostCenter").value(cc).build())
                            .build()
                    });
                    DescribeVolumesOutput::builder()
                        .set_volumes(Some(volumes.collect()))
                        .set_next_token(if page < 2 { token(page + 1) } else { None })
                        .build()
                })
        })
        .collect();
    let instances = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                DbInstance::builder()
                    .dbi_resource_id("db-1")
                    .storage_encrypted(true)
                    .kms_key_id(key_arn("k1"))
                    .tag_list(RdsTag::builder().key("CostCenter").value("cc-1").build())
                    .build(),
            )
            .build()
    });
    let clusters =
        mock!(aws_sdk_rds::Client::describe_db_clusters).then_output(|| DescribeDbClustersOutput::builder().build());
    let buckets = mock!(aws_sdk_s3::Client::list_buckets).then_output(|| {
        ListBucketsOutput::builder()
            .buckets(Bucket::builder().name("statements").bucket_region("eu-west-1").build())
            .build()
    });
    let bucket_encryption = mock!(aws_sdk_s3::Client::get_bucket_encryption).then_output(|| {
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key_arn("k2"))
            .build()
            .unwrap();
        GetBucketEncryptionOutput::builder()
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
            .build()
    });
    let bucket_tags = mock!(aws_sdk_s3::Client::get_bucket_tagging).then_output(|| {
        GetBucketTaggingOutput::builder()
            .tag_set(S3Tag::builder().key("CostCenter").value("cc-9").build().unwrap())
            .build()
            .unwrap()
    });
    let functions = mock!(aws_sdk_lambda::Client::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                FunctionConfiguration::builder()
                    .function_name("settle")
                    .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:settle")
                    .kms_key_arn(key_arn("k3"))
                    .build(),
            )
            .build()
    });
    let function_tags = mock!(aws_sdk_lambda::Client::list_tags)
        .then_output(|| ListTagsOutput::builder().tags("CostCenter", "cc-3").build());
    let parameters = mock!(aws_sdk_ssm::Client::describe_parameters).then_output(|| {
        DescribeParametersOutput::builder()
            .parameters(
                ParameterMetadata::builder()
                    .name("/db/password")
                    .r#type(ParameterType::SecureString)
                    .key_id(key_arn("k4"))
                    .build(),
            )
            .parameters(
                ParameterMetadata::builder()
                    .name("/ui/theme")
                    .r#type(ParameterType::String)
                    .build(),
            )
            .build()
    });
    let parameter_tags = mock!(aws_sdk_ssm::Client::list_tags_for_resource).then_output(|| {
        ListTagsForResourceOutput::builder()
            .tag_list(SsmTag::builder().key("CostCenter").value("cc-4").build().unwrap())
            .build()
    });
    let rule = &atrest_rules::kms_key_tags_aligned::RULE;
    let mut mocks: Vec<&MockRule> = volume_pages.iter().collect();
    mocks.extend([
        &key_tags,
        &instances,
        &clusters,
        &buckets,
        &bucket_encryption,
        &bucket_tags,
        &functions,
        &function_tags,
        &parameters,
        &parameter_tags,
    ]);
    let stores = support::stores::mocks(true);
    mocks.extend(stores.iter());
    let (summary, batches, delivered) = sweep(rule, json!({"tagKeys": "CostCenter"}), &mocks).await.unwrap();
    assert_eq!(batches, [100, 34]);
    // Each store of the layer, read and judged on its own key and tags.
    for (resource_type, id) in support::stores::IDS {
        let d = delivered
            .iter()
            .find(|d| d.1 == *id)
            .unwrap_or_else(|| panic!("{id} not swept"));
        assert_eq!((d.0.as_str(), d.2.as_str()), (*resource_type, "COMPLIANT"), "{d:?}");
    }
    let find = |id: &str| delivered.iter().find(|d| d.1 == id).unwrap();
    assert_eq!(find("vol-001").2, "COMPLIANT");
    assert_eq!(find("vol-007").2, "NON_COMPLIANT");
    assert_eq!(find("vol-007").3, "CostCenter: resource=elsewhere, key=cc-2");
    assert_eq!(find("db-1").2, "COMPLIANT");
    assert_eq!(find("statements").2, "NON_COMPLIANT");
    assert_eq!(find("statements").3, "CostCenter: resource=cc-9, key=cc-2");
    assert_eq!(find("settle").2, "COMPLIANT");
    assert_eq!(find("/db/password").0, "AWS::SSM::Parameter");
    assert_eq!(find("/db/password").2, "COMPLIANT");
    assert!(!delivered.iter().any(|d| d.1 == "/ui/theme"));
    // Each key's tags are read once, however many resources it encrypts.
    assert_eq!(summary.aws_calls.get("kms:ListResourceTags"), Some(&5));
}

/// The tag rule lists RDS through the resource layer, as the encryption
/// rule does: Neptune and DocumentDB instances and clusters share the RDS
/// API but are other Config types, and are not reported as RDS resources.
#[tokio::test]
async fn tag_alignment_does_not_report_neptune_or_documentdb_as_rds() {
    use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput;
    use aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput;
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::{DbCluster, DbInstance};
    use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;
    use aws_sdk_ssm::operation::describe_parameters::DescribeParametersOutput;

    let volumes = mock!(aws_sdk_ec2::Client::describe_volumes).then_output(|| DescribeVolumesOutput::builder().build());
    let key_tags =
        mock!(aws_sdk_kms::Client::list_resource_tags).then_output(|| ListResourceTagsOutput::builder().build());
    let instances = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        let db = |id: &str, engine: &str| {
            DbInstance::builder()
                .dbi_resource_id(id)
                .engine(engine)
                .storage_encrypted(true)
                .kms_key_id(key_arn("k1"))
                .build()
        };
        DescribeDbInstancesOutput::builder()
            .db_instances(db("db-postgres", "postgres"))
            .db_instances(db("db-neptune", "neptune"))
            .db_instances(db("db-docdb", "docdb"))
            .build()
    });
    let clusters = mock!(aws_sdk_rds::Client::describe_db_clusters).then_output(|| {
        let cluster = |id: &str, engine: &str| {
            DbCluster::builder()
                .db_cluster_resource_id(id)
                .engine(engine)
                .storage_encrypted(true)
                .kms_key_id(key_arn("k1"))
                .build()
        };
        DescribeDbClustersOutput::builder()
            .db_clusters(cluster("cluster-aurora", "aurora-mysql"))
            .db_clusters(cluster("cluster-neptune", "neptune"))
            .db_clusters(cluster("cluster-docdb", "docdb"))
            .build()
    });
    let buckets = mock!(aws_sdk_s3::Client::list_buckets).then_output(|| ListBucketsOutput::builder().build());
    let functions =
        mock!(aws_sdk_lambda::Client::list_functions).then_output(|| ListFunctionsOutput::builder().build());
    let parameters =
        mock!(aws_sdk_ssm::Client::describe_parameters).then_output(|| DescribeParametersOutput::builder().build());
    let rule = &atrest_rules::kms_key_tags_aligned::RULE;
    let stores = support::stores::mocks(false);
    let mut mocks = vec![
        &volumes,
        &key_tags,
        &instances,
        &clusters,
        &buckets,
        &functions,
        &parameters,
    ];
    mocks.extend(stores.iter());
    let (_, _, delivered) = sweep(rule, json!({"tagKeys": "CostCenter"}), &mocks).await.unwrap();
    let ids: Vec<(&str, &str)> = delivered.iter().map(|d| (d.0.as_str(), d.1.as_str())).collect();
    assert_eq!(
        ids,
        [
            ("AWS::RDS::DBInstance", "db-postgres"),
            ("AWS::RDS::DBCluster", "cluster-aurora")
        ]
    );
}

/// GetAccountAuthorizationDetails over two pages: every role, user, group
/// and customer-managed policy judged under its IAM id, documents
/// URL-encoded as IAM sends them; a group listed without its id fails the
/// sweep instead of going unreported.
#[tokio::test]
async fn iam_sweeps_account_authorization_details() {
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::types::{GroupDetail, ManagedPolicyDetail, PolicyDetail, PolicyVersion, RoleDetail, UserDetail};
    use aws_sdk_iam::Client;

    let encoded = |statement: serde_json::Value| {
        let text = json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let full = encoded(json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}));
    let fine = encoded(json!({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}));
    let inline = |name: &str, doc: &str| PolicyDetail::builder().policy_name(name).policy_document(doc).build();
    let page = |with_id: bool| {
        let (full, fine) = (full.clone(), fine.clone());
        move || {
            let group = GroupDetail::builder()
                .arn("arn:aws:iam::123456789012:group/Ops")
                .group_policy_list(inline("all", &full));
            let group = if with_id { group.group_id("AGPAOPS") } else { group };
            GetAccountAuthorizationDetailsOutput::builder()
                .role_detail_list(
                    RoleDetail::builder()
                        .role_id("AROAAPP")
                        .arn("arn:aws:iam::123456789012:role/App")
                        .role_policy_list(inline("encrypt", &fine))
                        .build(),
                )
                .user_detail_list(
                    UserDetail::builder()
                        .user_id("AIDAOPS")
                        .arn("arn:aws:iam::123456789012:user/ops")
                        .build(),
                )
                .group_detail_list(group.build())
                .policies(
                    ManagedPolicyDetail::builder()
                        .policy_id("ANPAADMIN")
                        .arn("arn:aws:iam::123456789012:policy/Admins")
                        .default_version_id("v2")
                        .policy_version_list(PolicyVersion::builder().version_id("v1").document(&fine).build())
                        .policy_version_list(
                            PolicyVersion::builder()
                                .version_id("v2")
                                .is_default_version(true)
                                .document(&full)
                                .build(),
                        )
                        .build(),
                )
                .is_truncated(false)
                .build()
        }
    };
    let details = mock!(Client::get_account_authorization_details).then_output(page(true));
    let (_, _, delivered) = sweep(
        &atrest_rules::iam_policy_no_kms_full_access::RULE,
        json!({"iamRegion": "eu-west-1"}),
        &[&details],
    )
    .await
    .unwrap();
    let got: Vec<(&str, &str, &str)> = delivered
        .iter()
        .map(|(t, id, c, _)| (t.as_str(), id.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("AWS::IAM::Role", "AROAAPP", "COMPLIANT"),
            ("AWS::IAM::User", "AIDAOPS", "COMPLIANT"),
            ("AWS::IAM::Group", "AGPAOPS", "NON_COMPLIANT"),
            ("AWS::IAM::Policy", "ANPAADMIN", "NON_COMPLIANT"),
        ]
    );
    assert!(delivered[3]
        .3
        .contains("default version v2, statement #1 allows every KMS action"));

    let without_id = mock!(Client::get_account_authorization_details).then_output(page(false));
    let err = sweep(
        &atrest_rules::iam_policy_no_kms_full_access::RULE,
        json!({"iamRegion": "eu-west-1"}),
        &[&without_id],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("AWS::IAM::Group without its id"), "{err}");
}
