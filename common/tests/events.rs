//! Decoding Config rule events: every message type, both item versions,
//! and the malformed events that must be refused with a clear error.

use atrest_common::item::ItemStatus;
use atrest_common::{Error, Invocation, Trigger};
use serde_json::{json, Value};

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn with_invoking(mut event: Value, invoking: Value) -> Value {
    event["invokingEvent"] = Value::String(invoking.to_string());
    event
}

fn event_error(event: Value) -> String {
    match Invocation::from_value(event) {
        Err(e) => e.to_string(),
        Ok(i) => panic!("expected an error, got {i:?}"),
    }
}

#[test]
fn change_notification_of_item_version_1_3() {
    let inv = Invocation::from_value(load("change-v1.3.json")).unwrap();
    assert_eq!(inv.rule_name.as_deref(), Some("atrest-ebs-volume-encrypted"));
    assert!(inv.test_mode());
    assert_eq!(
        inv.parameters.get("kmsKeyArns").map(String::as_str),
        Some("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    );
    let Trigger::Change(item) = &inv.trigger else {
        panic!("not a change: {:?}", inv.trigger)
    };
    assert_eq!(item.resource_type, "AWS::EC2::Volume");
    assert_eq!(item.resource_id, "vol-0123456789abcdef0");
    assert_eq!(item.version.as_deref(), Some("1.3"));
    assert_eq!(item.status, ItemStatus::Ok);
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws:ec2:eu-west-1:123456789012:volume/vol-0123456789abcdef0")
    );
    assert_eq!(item.account_id.as_deref(), Some("123456789012"));
    assert_eq!(item.tags.get("CostCenter").map(String::as_str), Some("Finance"));
    assert_eq!(item.bool_field(&["encrypted"]), Some(true));
    assert_eq!(item.capture_time.unwrap().secs(), 1_795_940_142);
    assert_eq!(inv.trigger.message_type(), "ConfigurationItemChangeNotification");
}

#[test]
fn change_notification_of_item_version_1_2_with_other_spellings() {
    let inv = Invocation::from_value(load("change-v1.2.json")).unwrap();
    let Trigger::Change(item) = &inv.trigger else {
        panic!("not a change")
    };
    assert_eq!(item.version.as_deref(), Some("1.2"));
    // `arn` and `accountId` instead of `ARN` and `awsAccountId`.
    assert_eq!(
        item.arn.as_deref(),
        Some("arn:aws:ec2:eu-west-1:123456789012:volume/vol-0fedcba9876543210")
    );
    assert_eq!(item.account_id.as_deref(), Some("123456789012"));
    // The configuration came as a JSON string; tags as a list of pairs.
    assert_eq!(item.bool_field(&["encrypted"]), Some(false));
    assert_eq!(item.tags.get("Name").map(String::as_str), Some("scratch"));
    assert!(inv.parameters.is_empty());
}

#[test]
fn oversized_notification_carries_the_summary() {
    let inv = Invocation::from_value(load("oversized.json")).unwrap();
    let Trigger::Oversized(summary) = &inv.trigger else {
        panic!("not oversized")
    };
    assert_eq!(summary.resource_type, "AWS::EC2::Volume");
    assert_eq!(summary.resource_id, "vol-0123456789abcdef0");
    assert_eq!(summary.status, ItemStatus::Ok);
    assert_eq!(summary.account_id.as_deref(), Some("123456789012"));
    assert!(summary.capture_time.is_some());
}

#[test]
fn scheduled_notification_carries_its_time() {
    let inv = Invocation::from_value(load("scheduled.json")).unwrap();
    let Trigger::Scheduled {
        account_id,
        notification_creation_time,
    } = &inv.trigger
    else {
        panic!("not scheduled")
    };
    assert_eq!(account_id.as_deref(), Some("123456789012"));
    assert_eq!(notification_creation_time.secs(), 1_795_953_600);
}

#[test]
fn deleted_item_status_is_recognised() {
    let inv = Invocation::from_value(load("deleted.json")).unwrap();
    let Trigger::Change(item) = &inv.trigger else {
        panic!("not a change")
    };
    assert_eq!(item.status, ItemStatus::ResourceDeleted);
    assert!(item.status.is_gone());
    for s in ["ResourceDeletedNotRecorded", "ResourceNotRecorded"] {
        assert!(ItemStatus::parse(s).is_gone(), "{s}");
    }
    for s in ["OK", "ResourceDiscovered", "SomethingNew"] {
        assert!(!ItemStatus::parse(s).is_gone(), "{s}");
    }
}

#[test]
fn unknown_message_type_is_named() {
    let event = with_invoking(
        load("scheduled.json"),
        json!({"messageType": "ComplianceChangeNotification"}),
    );
    let msg = event_error(event);
    assert!(
        msg.contains("unknown messageType `ComplianceChangeNotification`"),
        "{msg}"
    );
}

#[test]
fn invoking_event_that_is_not_json_is_refused() {
    let mut event = load("scheduled.json");
    event["invokingEvent"] = json!("{\"messageType\": \"Sched");
    let msg = event_error(event);
    assert!(msg.contains("invokingEvent is not valid JSON"), "{msg}");
}

#[test]
fn missing_pieces_are_named() {
    let mut no_invoking = load("scheduled.json");
    no_invoking.as_object_mut().unwrap().remove("invokingEvent");
    assert!(event_error(no_invoking).contains("invokingEvent is missing"));

    let no_item = with_invoking(
        load("change-v1.3.json"),
        json!({"messageType": "ConfigurationItemChangeNotification"}),
    );
    assert!(event_error(no_item).contains("without configurationItem"));

    let no_time = with_invoking(load("scheduled.json"), json!({"messageType": "ScheduledNotification"}));
    assert!(event_error(no_time).contains("notificationCreationTime"));

    let no_id = with_invoking(
        load("change-v1.3.json"),
        json!({"messageType": "ConfigurationItemChangeNotification",
               "configurationItem": {"resourceType": "AWS::EC2::Volume", "configurationItemStatus": "OK"}}),
    );
    assert!(event_error(no_id).contains("has no resourceId"));
}

#[test]
fn events_of_the_wrong_shape_are_refused() {
    assert!(event_error(json!([1, 2])).contains("not a JSON object"));
    let msg = event_error(json!({"invokingEvent": 42, "eventLeftScope": false}));
    assert!(msg.contains("not an AWS Config rule event"), "{msg}");
    let msg = Invocation::from_slice(b"{not json").unwrap_err().to_string();
    assert!(msg.contains("the event is not JSON"), "{msg}");
}

#[test]
fn rule_parameters_are_decoded_as_strings() {
    let mut event = load("scheduled.json");
    event["ruleParameters"] = json!(r#"{"allowAwsManagedKeys": true, "maxDays": 90, "kmsKeyArns": " a , b "}"#);
    let inv = Invocation::from_value(event).unwrap();
    assert_eq!(inv.parameters["allowAwsManagedKeys"], "true");
    assert_eq!(inv.parameters["maxDays"], "90");
    assert_eq!(inv.parameters["kmsKeyArns"], " a , b ");
}

#[test]
fn rule_parameters_of_the_wrong_shape_are_refused() {
    let mut event = load("scheduled.json");
    event["ruleParameters"] = json!(r#"{"kmsKeyArns": ["a", "b"]}"#);
    match Invocation::from_value(event.clone()) {
        Err(Error::Parameter { name, problem }) => {
            assert_eq!(name, "kmsKeyArns");
            assert!(problem.contains("expected a string value, got a list"), "{problem}");
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }
    event["ruleParameters"] = json!("{oops");
    assert!(event_error(event.clone()).contains("ruleParameters is not valid JSON"));
    event["ruleParameters"] = json!("[1]");
    assert!(event_error(event).contains("ruleParameters is not a JSON object"));
}

#[test]
fn history_items_convert_from_the_sdk_shape() {
    use aws_sdk_config::types::{ConfigurationItem as SdkItem, ConfigurationItemStatus, ResourceType};
    let sdk = SdkItem::builder()
        .version("1.3")
        .account_id("123456789012")
        .configuration_item_capture_time(aws_smithy_types::DateTime::from_secs(1_795_940_142))
        .configuration_item_status(ConfigurationItemStatus::Ok)
        .resource_type(ResourceType::Volume)
        .resource_id("vol-1")
        .configuration(r#"{"encrypted": true, "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/k"}"#)
        .supplementary_configuration("Policy", r#"{"Version": "2012-10-17"}"#)
        .tags("Team", "Payments")
        .build();
    let item = atrest_common::ConfigurationItem::from_sdk(&sdk).unwrap();
    assert_eq!(item.resource_type, "AWS::EC2::Volume");
    assert_eq!(
        item.str_field(&["kmsKeyId"]),
        Some("arn:aws:kms:eu-west-1:123456789012:key/k")
    );
    assert_eq!(item.supplementary("Policy").unwrap()["Version"], "2012-10-17");
    assert_eq!(item.tags["Team"], "Payments");
    assert_eq!(item.status, ItemStatus::Ok);

    let broken = SdkItem::builder()
        .resource_type(ResourceType::Volume)
        .resource_id("vol-2")
        .configuration("{truncated")
        .build();
    let msg = atrest_common::ConfigurationItem::from_sdk(&broken)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("vol-2") && msg.contains("configuration is not JSON"),
        "{msg}"
    );
}
