//! The key directory: look-ups cached per key, shared by concurrent asks,
//! and the distinct outcomes of keys that are missing or unreadable.

use std::sync::Arc;

use atrest_common::testing::mock_aws;
use atrest_common::{Error, KeyDirectory, KeyManager, Lookup};
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::operation::list_resource_tags::ListResourceTagsOutput;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, OriginType, Tag};
use aws_sdk_kms::Client;
use aws_smithy_mocks::{mock, RuleMode};

const ACCOUNT: &str = "123456789012";

fn arn(id: &str) -> String {
    format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}")
}

fn describe_any() -> aws_smithy_mocks::Rule {
    mock!(Client::describe_key).then_compute_output(|req| {
        let reference = req.key_id().unwrap_or_default();
        // Aliases resolve to key "k-alias"; ARNs and ids to themselves.
        let id = if reference.contains("alias/") {
            "k-alias".to_owned()
        } else {
            reference.rsplit('/').next().unwrap_or_default().to_owned()
        };
        DescribeKeyOutput::builder()
            .key_metadata(
                KeyMetadata::builder()
                    .key_id(&id)
                    .arn(arn(&id))
                    .aws_account_id(ACCOUNT)
                    .key_manager(KeyManagerType::Customer)
                    .key_state(KeyState::Enabled)
                    .key_spec(KeySpec::SymmetricDefault)
                    .origin(OriginType::AwsKms)
                    .build()
                    .unwrap(),
            )
            .build()
    })
}

fn directory(rules: &[&aws_smithy_mocks::Rule]) -> KeyDirectory {
    KeyDirectory::kms(mock_aws(RuleMode::MatchAny, rules).kms())
}

#[tokio::test]
async fn many_resources_over_few_keys_cost_one_call_per_key() {
    let describe = describe_any();
    let keys = directory(&[&describe]);
    // 200 volumes spread over 5 keys.
    for i in 0..200 {
        let found = keys.key(&arn(&format!("k{}", i % 5))).await.unwrap();
        let facts = found.found().unwrap();
        assert_eq!(facts.arn, arn(&format!("k{}", i % 5)));
        assert_eq!(facts.manager, KeyManager::Customer);
        assert_eq!(facts.state, "Enabled");
        assert_eq!(facts.spec, "SYMMETRIC_DEFAULT");
    }
    assert_eq!(describe.num_calls(), 5);
}

#[tokio::test]
async fn concurrent_asks_for_one_key_share_one_call() {
    let describe = describe_any();
    let keys = Arc::new(directory(&[&describe]));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let keys = keys.clone();
        tasks.spawn(async move { keys.key(&arn("shared")).await.map(|l| l.found().is_some()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.unwrap().unwrap());
    }
    assert_eq!(describe.num_calls(), 1);
}

#[tokio::test]
async fn an_alias_and_its_key_arn_share_the_facts() {
    let describe = describe_any();
    let keys = directory(&[&describe]);
    let by_alias = keys.key("alias/payments-prod").await.unwrap();
    assert_eq!(by_alias.found().unwrap().arn, arn("k-alias"));
    let by_arn = keys.key(&arn("k-alias")).await.unwrap();
    let by_id = keys.key("k-alias").await.unwrap();
    assert_eq!(by_arn, by_alias);
    assert_eq!(by_id, by_alias);
    assert_eq!(describe.num_calls(), 1);
}

#[tokio::test]
async fn aws_managed_aliases_need_no_call() {
    let describe = describe_any();
    let keys = directory(&[&describe]);
    for reference in ["alias/aws/ebs", "arn:aws:kms:eu-west-1:123456789012:alias/aws/s3"] {
        let facts = keys.key(reference).await.unwrap();
        assert_eq!(facts.found().unwrap().manager, KeyManager::Aws, "{reference}");
    }
    assert_eq!(describe.num_calls(), 0);
}

fn kms_error(code: &str) -> String {
    format!(r#"{{"__type":"{code}","message":"{code} for the test"}}"#)
}

#[tokio::test]
async fn a_missing_key_and_an_unreadable_key_are_distinct_outcomes() {
    let missing = mock!(Client::describe_key)
        .match_requests(|r| r.key_id() == Some("missing"))
        .sequence()
        .http_status(400, Some(kms_error("NotFoundException")))
        .build();
    let denied = mock!(Client::describe_key)
        .match_requests(|r| r.key_id() == Some("denied"))
        .sequence()
        .http_status(400, Some(kms_error("AccessDeniedException")))
        .build();
    let keys = directory(&[&missing, &denied]);
    match keys.key("missing").await.unwrap() {
        Lookup::NotFound(reason) => assert!(reason.contains("does not exist"), "{reason}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    match keys.key("denied").await.unwrap() {
        Lookup::Unreadable(reason) => assert!(reason.contains("access denied to kms:DescribeKey"), "{reason}"),
        other => panic!("expected Unreadable, got {other:?}"),
    }
    // Outcomes are cached like facts.
    keys.key("missing").await.unwrap();
    assert_eq!(missing.num_calls(), 1);
}

#[tokio::test]
async fn throttling_past_the_retries_is_an_error_and_not_cached() {
    let throttled = mock!(Client::describe_key)
        .sequence()
        .http_status(400, Some(kms_error("ThrottlingException")))
        .times(10)
        .output(|| {
            DescribeKeyOutput::builder()
                .key_metadata(
                    KeyMetadata::builder()
                        .key_id("k1")
                        .arn(arn("k1"))
                        .key_manager(KeyManagerType::Customer)
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .build();
    let keys = directory(&[&throttled]);
    let err = keys.key("k1").await.unwrap_err();
    assert!(matches!(&err, Error::Aws(e) if e.kind.is_retryable()), "{err:?}");
    // The next ask tries again and gets the answer.
    assert!(keys.key("k1").await.unwrap().found().is_some());
}

#[tokio::test]
async fn rotation_and_tags_are_fetched_once_per_key() {
    let describe = describe_any();
    let rotation = mock!(Client::get_key_rotation_status).then_output(|| {
        GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(true)
            .rotation_period_in_days(180)
            .build()
    });
    let tags_page1 = mock!(Client::list_resource_tags)
        .match_requests(|r| r.marker().is_none())
        .then_output(|| {
            ListResourceTagsOutput::builder()
                .tags(
                    Tag::builder()
                        .tag_key("CostCenter")
                        .tag_value("Finance")
                        .build()
                        .unwrap(),
                )
                .truncated(true)
                .next_marker("m2")
                .build()
        });
    let tags_page2 = mock!(Client::list_resource_tags)
        .match_requests(|r| r.marker() == Some("m2"))
        .then_output(|| {
            ListResourceTagsOutput::builder()
                .tags(
                    Tag::builder()
                        .tag_key("Application")
                        .tag_value("Ledger")
                        .build()
                        .unwrap(),
                )
                .truncated(false)
                .build()
        });
    let keys = directory(&[&describe, &rotation, &tags_page1, &tags_page2]);
    let facts = keys.key(&arn("k1")).await.unwrap();
    let facts = facts.found().unwrap();
    for _ in 0..3 {
        let r = keys.rotation(facts).await.unwrap();
        let r = r.found().unwrap();
        assert!(r.enabled && r.supported);
        assert_eq!(r.period_days, Some(180));
        let tags = keys.tags(facts).await.unwrap();
        let tags = tags.found().unwrap();
        assert_eq!(tags.get("CostCenter").map(String::as_str), Some("Finance"));
        assert_eq!(tags.get("Application").map(String::as_str), Some("Ledger"));
    }
    assert_eq!(rotation.num_calls(), 1);
    assert_eq!(tags_page1.num_calls() + tags_page2.num_calls(), 2);
}

#[tokio::test]
async fn rotation_of_a_key_type_without_rotation_is_unsupported() {
    let describe = describe_any();
    let unsupported = mock!(Client::get_key_rotation_status)
        .sequence()
        .http_status(400, Some(kms_error("UnsupportedOperationException")))
        .build();
    let keys = directory(&[&describe, &unsupported]);
    let facts = keys.key(&arn("asym")).await.unwrap();
    let rotation = keys.rotation(facts.found().unwrap()).await.unwrap();
    let rotation = rotation.found().unwrap();
    assert!(!rotation.supported && !rotation.enabled);
}
