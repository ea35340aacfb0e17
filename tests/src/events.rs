//! Config rule events as Config sends them, for the resources a test made.

use serde_json::{json, Value};

use crate::{ACCOUNT, REGION};

/// The capture time of every item the tests build.
pub const CAPTURE_TIME: &str = "2026-11-29T08:15:42.123Z";
/// Its epoch seconds.
pub const CAPTURE_SECS: i64 = 1_795_940_142;
/// The notification time of every scheduled event.
pub const NOTIFICATION_TIME: &str = "2026-11-29T12:00:00.000Z";
/// Its epoch seconds.
pub const NOTIFICATION_SECS: i64 = 1_795_953_600;

fn envelope(rule: &str, invoking: Value, params: Value) -> Value {
    json!({
        "version": "1.0",
        "invokingEvent": invoking.to_string(),
        "ruleParameters": params.to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "executionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/config-role"),
        "configRuleArn": format!("arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-e2e"),
        "configRuleName": format!("atrest-{rule}"),
        "configRuleId": "config-rule-e2e",
        "accountId": ACCOUNT,
    })
}

/// A ScheduledNotification for `rule`.
pub fn scheduled(rule: &str, params: Value) -> Value {
    let invoking = json!({
        "awsAccountId": ACCOUNT,
        "notificationCreationTime": NOTIFICATION_TIME,
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    });
    envelope(rule, invoking, params)
}

/// A ConfigurationItemChangeNotification carrying `item`.
pub fn change(rule: &str, item: Value, params: Value) -> Value {
    let invoking = json!({
        "configurationItemDiff": null,
        "configurationItem": item,
        "notificationCreationTime": "2026-11-29T08:16:00.000Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    });
    envelope(rule, invoking, params)
}

/// A configuration item (version 1.3) of a resource that exists.
pub fn item(resource_type: &str, resource_id: &str, configuration: Value, tags: Value) -> Value {
    json!({
        "relatedEvents": [],
        "relationships": [],
        "configuration": configuration,
        "supplementaryConfiguration": {},
        "tags": tags,
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": CAPTURE_TIME,
        "configurationStateId": 1_795_940_142_123_u64,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": "OK",
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": resource_id,
        "awsRegion": REGION,
    })
}

/// The same item, deleted.
pub fn deleted(mut item: Value) -> Value {
    item["configurationItemStatus"] = json!("ResourceDeleted");
    item["configuration"] = Value::Null;
    item
}
