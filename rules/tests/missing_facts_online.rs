//! Missing facts are never good news, online too: each fact a rule reads
//! from DescribeKey (and the key policy from GetKeyPolicy), left out of the
//! answer one at a time, turns what is COMPLIANT with every fact present
//! into something that is not COMPLIANT.

mod support;

use atrest_common::Rule;
use aws_sdk_ec2::operation::describe_volumes::DescribeVolumesOutput;
use aws_sdk_ec2::types::Volume;
use aws_sdk_kms::operation::describe_key::DescribeKeyOutput;
use aws_sdk_kms::operation::get_key_policy::GetKeyPolicyOutput;
use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::operation::list_keys::ListKeysOutput;
use aws_sdk_kms::types::{KeyListEntry, KeyManagerType, KeyMetadata, KeySpec, KeyState, OriginType};
use aws_smithy_mocks::{mock, Rule as MockRule};
use serde_json::json;
use support::{key_arn, sweep, ACCOUNT};

const KEY: &str = "k-online";

/// The DescribeKey fields a test leaves out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    KeyManager,
    KeyState,
    KeySpec,
    Origin,
}

fn describe_without(missing: Option<Field>) -> MockRule {
    mock!(aws_sdk_kms::Client::describe_key).then_output(move || {
        let mut meta = KeyMetadata::builder()
            .key_id(KEY)
            .arn(key_arn(KEY))
            .aws_account_id(ACCOUNT);
        if missing != Some(Field::KeyManager) {
            meta = meta.key_manager(KeyManagerType::Customer);
        }
        if missing != Some(Field::KeyState) {
            meta = meta.key_state(KeyState::Enabled);
        }
        if missing != Some(Field::KeySpec) {
            meta = meta.key_spec(KeySpec::SymmetricDefault);
        }
        if missing != Some(Field::Origin) {
            meta = meta.origin(OriginType::AwsKms);
        }
        DescribeKeyOutput::builder().key_metadata(meta.build().unwrap()).build()
    })
}

fn kms_answers(policy: Option<String>) -> Vec<MockRule> {
    vec![
        mock!(aws_sdk_kms::Client::list_keys).then_output(|| {
            ListKeysOutput::builder()
                .keys(KeyListEntry::builder().key_id(KEY).key_arn(key_arn(KEY)).build())
                .build()
        }),
        mock!(aws_sdk_kms::Client::get_key_rotation_status)
            .then_output(|| GetKeyRotationStatusOutput::builder().key_rotation_enabled(true).build()),
        mock!(aws_sdk_kms::Client::get_key_policy)
            .then_output(move || GetKeyPolicyOutput::builder().set_policy(policy.clone()).build()),
        mock!(aws_sdk_ec2::Client::describe_volumes).then_output(|| {
            DescribeVolumesOutput::builder()
                .volumes(
                    Volume::builder()
                        .volume_id("vol-online")
                        .encrypted(true)
                        .kms_key_id(key_arn(KEY))
                        .build(),
                )
                .build()
        }),
    ]
}

/// A policy every policy rule finds COMPLIANT: the root, and MFA enforced.
fn good_policy() -> String {
    json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Resource": "*",
         "Action": atrest_rules::kms_key_policy_mfa_critical_actions::CRITICAL_ACTIONS,
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]})
    .to_string()
}

async fn compliance(rule: &dyn Rule, missing: Option<Field>, policy: Option<String>) -> String {
    let describe = describe_without(missing);
    let answers = kms_answers(policy);
    let mut mocks: Vec<&MockRule> = vec![&describe];
    mocks.extend(answers.iter());
    let (_, _, delivered) = sweep(rule, json!({}), &mocks).await.unwrap();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    delivered[0].2.clone()
}

#[tokio::test]
async fn each_fact_left_out_of_describe_key_is_never_compliant() {
    use Field::*;
    let rules: [(&dyn Rule, &[Field]); 7] = [
        (&atrest_rules::ebs_volume_encrypted::RULE, &[KeyManager]),
        (
            &atrest_rules::kms_key_rotation_enabled::RULE,
            &[KeyManager, KeyState, KeySpec, Origin],
        ),
        (&atrest_rules::kms_key_usable::RULE, &[KeyManager, KeyState]),
        (&atrest_rules::kms_key_policy_separation_of_duties::RULE, &[KeyManager]),
        (&atrest_rules::kms_key_policy_no_untrusted_access::RULE, &[KeyManager]),
        (&atrest_rules::kms_key_policy_mfa_critical_actions::RULE, &[KeyManager]),
        (
            &atrest_rules::kms_key_policy_delegation_constrained::RULE,
            &[KeyManager],
        ),
    ];
    let mut failures = Vec::new();
    for (rule, facts) in rules {
        let id = rule.spec().id;
        // With every fact, the sweep finds the key (or volume) COMPLIANT.
        assert_eq!(compliance(rule, None, Some(good_policy())).await, "COMPLIANT", "{id}");
        for field in facts {
            let got = compliance(rule, Some(*field), Some(good_policy())).await;
            if got != "NON_COMPLIANT" {
                failures.push(format!("{id} without {field:?}: {got}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_key_policy_left_out_of_get_key_policy_is_never_compliant() {
    for rule in [
        &atrest_rules::kms_key_policy_separation_of_duties::RULE as &dyn Rule,
        &atrest_rules::kms_key_policy_no_untrusted_access::RULE,
        &atrest_rules::kms_key_policy_mfa_critical_actions::RULE,
        &atrest_rules::kms_key_policy_delegation_constrained::RULE,
    ] {
        for policy in [None, Some(String::new()), Some("{}".to_owned()), Some("7".to_owned())] {
            assert_eq!(
                compliance(rule, None, policy.clone()).await,
                "NON_COMPLIANT",
                "{} with policy {policy:?}",
                rule.spec().id
            );
        }
    }
}
