//! The encryption rules of the stores added on the resource layer (DynamoDB,
//! EFS, Secrets Manager, SNS, SQS, CloudWatch Logs, CloudTrail, Kinesis, ECR,
//! Backup), end to end on moto: for each, a resource under a customer key
//! (COMPLIANT), one without a customer key (NON_COMPLIANT), the same
//! customer key outside `kmsKeyArns`, owned by an account that is neither
//! the evaluated one nor trusted, and unreadable (DescribeKey denied), and a
//! deleted resource (NOT_APPLICABLE). AWS-managed keys are the fixtures'
//! (moto makes every key customer-managed; see tests/README.md).

use atrest_common::aws::AwsContext;
use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::events;
use atrest_e2e::fault_proxy::{Fault, FaultProxy};
use atrest_e2e::stores::{store, RULES};
use atrest_e2e::{put_evaluations, seed, Moto, Recorded};
use serde_json::{json, Value};

/// An account that is neither moto's nor trusted.
const OTHER_ACCOUNT: &str = "111122223333";

/// (compliance, annotation) of `id` among the evaluations recorded.
fn verdict(recorded: &[Recorded], id: &str) -> Option<(String, String)> {
    put_evaluations(recorded)
        .iter()
        .flat_map(|b| b["Evaluations"].as_array().cloned().unwrap_or_default())
        .find(|e| e["ComplianceResourceId"] == id)
        .map(|e| {
            (
                e["ComplianceType"].as_str().unwrap_or_default().to_owned(),
                e["Annotation"].as_str().unwrap_or_default().to_owned(),
            )
        })
}

async fn invoke(aws: AwsContext, moto: &Moto, rule: &dyn Rule, event: Value) -> Vec<Recorded> {
    moto.start_recording();
    Handler::new(aws).handle(rule, event).await.unwrap();
    let recorded = moto.recording();
    atrest_e2e::assert_within_spec(&recorded, rule);
    recorded
}

fn expect(recorded: &[Recorded], rule: &str, id: &str, compliance: &str, says: &str) {
    let got = verdict(recorded, id);
    let ok = got.as_ref().is_some_and(|(c, a)| c == compliance && a.contains(says));
    assert!(ok, "{rule}: {id} expected {compliance} \"…{says}…\", got {got:?}");
}

#[tokio::test]
async fn every_store_rule_judges_each_case_on_moto() {
    for id in RULES {
        let rule = atrest_rules::find(id).unwrap_or_else(|| panic!("{id} is not in the registry"));
        let Some(moto) = Moto::start() else { return };
        let key = seed::key(&moto, &[]).await;
        let other = seed::key(&moto, &[]).await;
        let compliant = store(&moto, id, "ledger-cmk", Some(&key)).await;
        let plain = store(&moto, id, "ledger-plain", None).await;

        // Customer key: COMPLIANT; none: NON_COMPLIANT.
        let scheduled = events::scheduled(id, json!({}));
        let recorded = invoke(moto.aws(), &moto, rule, scheduled.clone()).await;
        expect(&recorded, id, &compliant, "COMPLIANT", "customer-managed KMS key");
        expect(&recorded, id, &plain, "NON_COMPLIANT", "");

        // The key is not the one kmsKeyArns allows.
        let allow_other = events::scheduled(id, json!({ "kmsKeyArns": other }));
        let recorded = invoke(moto.aws(), &moto, rule, allow_other).await;
        expect(&recorded, id, &compliant, "NON_COMPLIANT", "not in kmsKeyArns");

        // Evaluated for another account: the key's owner is neither that
        // account nor trusted (moto keeps every account's resources apart,
        // but resolves any key ARN in the caller's account).
        let mut foreign = scheduled.clone();
        foreign["accountId"] = json!(OTHER_ACCOUNT);
        let mut invoking: Value = serde_json::from_str(foreign["invokingEvent"].as_str().unwrap()).unwrap();
        invoking["awsAccountId"] = json!(OTHER_ACCOUNT);
        foreign["invokingEvent"] = json!(invoking.to_string());
        let recorded = invoke(moto.aws(), &moto, rule, foreign).await;
        expect(
            &recorded,
            id,
            &compliant,
            "NON_COMPLIANT",
            "neither the evaluated account",
        );

        // The key cannot be read.
        let proxy = FaultProxy::failing(&moto.endpoint, "kms:DescribeKey", Fault::AccessDenied);
        let denied = AwsContext::new(moto.sdk_config().to_builder().endpoint_url(&proxy.endpoint).build());
        let recorded = invoke(denied, &moto, rule, scheduled).await;
        // moto names a queue by the endpoint it was asked through.
        let through_proxy = compliant.replace(&moto.endpoint, &proxy.endpoint);
        expect(&recorded, id, &through_proxy, "NON_COMPLIANT", "could not be verified");

        // A deleted resource (change-triggered rules).
        if rule.spec().triggers.change {
            let resource_type = rule.spec().resource_types[0];
            let gone = events::deleted(events::item(resource_type, "gone-1", json!({}), json!({})));
            let recorded = invoke(moto.aws(), &moto, rule, events::change(id, gone, json!({}))).await;
            expect(&recorded, id, "gone-1", "NOT_APPLICABLE", "");
        }
    }
}

/// The change path reads the item, not the live resource: a configuration
/// item under the seeded customer key is judged through DescribeKey on moto.
#[tokio::test]
async fn a_change_item_of_every_store_type_is_judged_by_its_key() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    for id in RULES {
        let rule = atrest_rules::find(id).unwrap();
        if !rule.spec().triggers.change {
            continue;
        }
        let resource_type = rule.spec().resource_types[0];
        let configuration = match *id {
            "dynamodb-table-encrypted" => {
                json!({"ssedescription": {"status": "ENABLED", "ssetype": "KMS", "kmsmasterKeyArn": key}})
            }
            "efs-file-system-encrypted" => json!({"Encrypted": true, "KmsKeyId": key}),
            "secretsmanager-secret-encrypted" => json!({"KMSKeyId": key}),
            "sns-topic-encrypted" | "sqs-queue-encrypted" => json!({"KmsMasterKeyId": key}),
            "cloudtrail-trail-encrypted" => json!({"kmsKeyId": key}),
            "kinesis-stream-encrypted" => json!({"StreamEncryption": {"EncryptionType": "KMS", "KeyId": key}}),
            "ecr-repository-encrypted" => json!({"EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": key}}),
            "backup-vault-encrypted" => json!({"EncryptionKeyArn": key}),
            other => panic!("no change item for {other}"),
        };
        let item = events::item(resource_type, "changed-1", configuration, json!({}));
        let recorded = invoke(moto.aws(), &moto, rule, events::change(id, item, json!({}))).await;
        expect(&recorded, id, "changed-1", "COMPLIANT", "customer-managed KMS key");
    }
}

/// ECR: Config's schema has no encryption for a repository, so an item
/// without it is completed from DescribeRepositories.
#[tokio::test]
async fn an_ecr_item_without_its_encryption_is_completed_live() {
    let Some(moto) = Moto::start() else { return };
    let key = seed::key(&moto, &[]).await;
    let id = "ecr-repository-encrypted";
    let rule = atrest_rules::find(id).unwrap();
    for (name, key, compliance) in [
        ("images-cmk", Some(key.as_str()), "COMPLIANT"),
        ("images-aes", None, "NON_COMPLIANT"),
    ] {
        let repository = store(&moto, id, name, key).await;
        let item = events::item(
            "AWS::ECR::Repository",
            &repository,
            json!({"RepositoryName": repository}),
            json!({}),
        );
        let recorded = invoke(moto.aws(), &moto, rule, events::change(id, item, json!({}))).await;
        expect(&recorded, id, &repository, compliance, "");
        let ops = atrest_e2e::count_operations(&recorded);
        assert_eq!(ops.get("ecr:DescribeRepositories"), Some(&1), "{ops:?}");
    }
}
