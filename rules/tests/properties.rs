//! Property tests: no configuration JSON whatsoever makes any rule's
//! judgement panic, offline, on items of the types it covers.

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::{ConfigurationItem, KeyDirectory, Parameters, RuleContext};
use aws_smithy_types::DateTime;
use proptest::prelude::*;
use serde_json::{json, Value};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("aws:kms"),
            Just("AES256"),
            Just("SecureString"),
            Just("alias/aws/ebs"),
            Just("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            Just("CUSTOMER"),
            Just("PendingDeletion"),
            Just("KEY_MATERIAL_EXPIRES"),
            Just("{\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kms:*\"}]}"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("encrypted".to_owned()),
                    Just("kmsKeyId".to_owned()),
                    Just("storageEncrypted".to_owned()),
                    Just("keyManager".to_owned()),
                    Just("keyState".to_owned()),
                    Just("keySpec".to_owned()),
                    Just("origin".to_owned()),
                    Just("validTo".to_owned()),
                    Just("expirationModel".to_owned()),
                    Just("kmsKeyArn".to_owned()),
                    Just("Type".to_owned()),
                    Just("KeyId".to_owned()),
                    Just("ebsEncryptionByDefault".to_owned()),
                    Just("rules".to_owned()),
                    Just("applyServerSideEncryptionByDefault".to_owned()),
                    Just("sseAlgorithm".to_owned()),
                    Just("ServerSideEncryptionConfiguration".to_owned()),
                    Just("Policy".to_owned()),
                    Just("KeyRotationStatus".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_configuration_makes_a_rule_panic(configuration in arbitrary_json(), supplementary in arbitrary_json(), tags in arbitrary_json()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        for rule in atrest_rules::ALL {
            let spec = rule.spec();
            let raw = if spec.parameters.iter().any(|p| p.required) {
                [("tagKeys".to_owned(), "CostCenter".to_owned())].into_iter().collect()
            } else {
                Default::default()
            };
            let params = Parameters::parse(spec.parameters, &raw).unwrap();
            for resource_type in spec.resource_types {
                let item = json!({
                    "configurationItemCaptureTime": "2026-11-29T08:15:42.123Z",
                    "configurationItemStatus": "OK",
                    "resourceType": resource_type,
                    "resourceId": "r-1",
                    "awsAccountId": "123456789012",
                    "configuration": configuration.clone(),
                    "supplementaryConfiguration": supplementary.clone(),
                    "tags": tags.clone(),
                });
                // Items that do not even parse are refused before any rule runs.
                let Ok(item) = serde_json::from_value::<ConfigurationItem>(item) else { continue };
                let keys = KeyDirectory::new(ItemKeySource::from_items([&item]), DEFAULT_TTL);
                let ctx = RuleContext::new(&params, &keys, None, DateTime::from_secs(1_795_940_142), Some("123456789012"));
                let _ = runtime.block_on(rule.evaluate_item(&item, &ctx));
            }
        }
    }
}
