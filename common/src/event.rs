//! The AWS Config rule event, decoded once into a typed [`Invocation`].
//!
//! The outer event is parsed with `aws_lambda_events`' `ConfigEvent`; its
//! `invokingEvent` and `ruleParameters` are JSON documents inside strings and
//! are decoded here, and nowhere else.

use std::collections::BTreeMap;

use aws_lambda_events::event::config::ConfigEvent;
use aws_smithy_types::DateTime;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::item::{parse_timestamp, ConfigurationItem, ItemStatus};

/// The result token that asks for PutEvaluations with `TestMode`.
pub const TEST_MODE_TOKEN: &str = "TESTMODE";

/// One decoded Config rule invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub rule_name: Option<String>,
    pub account_id: Option<String>,
    pub result_token: Option<String>,
    pub execution_role_arn: Option<String>,
    pub event_left_scope: bool,
    /// Rule parameters as Config passes them: every value a string.
    pub parameters: BTreeMap<String, String>,
    pub trigger: Trigger,
}

/// What made Config invoke the rule.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// `ConfigurationItemChangeNotification`: the item is in the event.
    Change(Box<ConfigurationItem>),
    /// `OversizedConfigurationItemChangeNotification`: only a summary; the
    /// full item must be fetched.
    Oversized(ItemSummary),
    /// `ScheduledNotification`: the rule sweeps the account itself.
    Scheduled {
        account_id: Option<String>,
        notification_creation_time: DateTime,
    },
}

/// `configurationItemSummary` of an oversized notification.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemSummary {
    pub resource_type: String,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub status: ItemStatus,
    pub capture_time: Option<DateTime>,
    pub account_id: Option<String>,
    pub aws_region: Option<String>,
    pub arn: Option<String>,
}

impl Trigger {
    /// The `messageType` this trigger came from.
    pub fn message_type(&self) -> &'static str {
        match self {
            Trigger::Change(_) => "ConfigurationItemChangeNotification",
            Trigger::Oversized(_) => "OversizedConfigurationItemChangeNotification",
            Trigger::Scheduled { .. } => "ScheduledNotification",
        }
    }
}

impl Invocation {
    /// Decodes a Config rule event from raw bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| Error::Event(format!("the event is not JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Decodes a Config rule event.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        if !value.is_object() {
            return Err(Error::Event("the event is not a JSON object".into()));
        }
        let event: ConfigEvent =
            serde_json::from_value(value).map_err(|e| Error::Event(format!("not an AWS Config rule event: {e}")))?;
        let invoking = event
            .invoking_event
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::Event("invokingEvent is missing".into()))?;
        let invoking: InvokingEvent = serde_json::from_str(invoking)
            .map_err(|e| Error::Event(format!("invokingEvent is not valid JSON of a Config notification: {e}")))?;
        let trigger = invoking.into_trigger()?;
        let parameters = decode_parameters(event.rule_parameters.as_deref())?;
        Ok(Invocation {
            rule_name: non_empty(event.config_rule_name),
            account_id: non_empty(event.account_id),
            result_token: non_empty(event.result_token),
            execution_role_arn: non_empty(event.execution_role_arn),
            event_left_scope: event.event_left_scope,
            parameters,
            trigger,
        })
    }

    /// An invocation made by the CLI rather than Config: no rule name,
    /// token or role; `parameters` as the user gave them.
    pub fn local(trigger: Trigger, account_id: Option<String>, parameters: BTreeMap<String, String>) -> Self {
        Invocation {
            rule_name: None,
            account_id,
            result_token: None,
            execution_role_arn: None,
            event_left_scope: false,
            parameters,
            trigger,
        }
    }

    /// Whether PutEvaluations must be called with `TestMode`.
    pub fn test_mode(&self) -> bool {
        self.result_token.as_deref() == Some(TEST_MODE_TOKEN)
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// `ruleParameters`: a JSON object in a string. Config sends every value as
/// a string; numbers and booleans typed by hand are accepted as their text.
fn decode_parameters(raw: Option<&str>) -> Result<BTreeMap<String, String>, Error> {
    let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
        return Ok(BTreeMap::new());
    };
    let value: Value =
        serde_json::from_str(raw).map_err(|e| Error::Event(format!("ruleParameters is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(Error::Event("ruleParameters is not a JSON object".into()));
    };
    map.into_iter()
        .map(|(name, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(Error::parameter(
                        name,
                        format!("expected a string value, got {}", json_kind(&other)),
                    ))
                }
            };
            Ok((name, text))
        })
        .collect()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokingEvent {
    message_type: Option<String>,
    #[serde(default)]
    configuration_item: Option<Value>,
    #[serde(default)]
    configuration_item_summary: Option<Value>,
    #[serde(default)]
    notification_creation_time: Value,
    #[serde(default)]
    aws_account_id: Option<String>,
}

impl InvokingEvent {
    fn into_trigger(self) -> Result<Trigger, Error> {
        let message_type = self
            .message_type
            .ok_or_else(|| Error::Event("invokingEvent has no messageType".into()))?;
        match message_type.as_str() {
            "ConfigurationItemChangeNotification" => {
                let item = self.configuration_item.filter(|v| !v.is_null()).ok_or_else(|| {
                    Error::Event("ConfigurationItemChangeNotification without configurationItem".into())
                })?;
                let item: ConfigurationItem =
                    serde_json::from_value(item).map_err(|e| Error::Event(format!("configurationItem: {e}")))?;
                Ok(Trigger::Change(Box::new(item)))
            }
            "OversizedConfigurationItemChangeNotification" => {
                let summary = self
                    .configuration_item_summary
                    .filter(|v| !v.is_null())
                    .ok_or_else(|| {
                        Error::Event(
                            "OversizedConfigurationItemChangeNotification without configurationItemSummary".into(),
                        )
                    })?;
                Ok(Trigger::Oversized(parse_summary(&summary)?))
            }
            "ScheduledNotification" => {
                let time = parse_timestamp(&self.notification_creation_time).ok_or_else(|| {
                    Error::Event("ScheduledNotification without a valid notificationCreationTime".into())
                })?;
                Ok(Trigger::Scheduled {
                    account_id: non_empty(self.aws_account_id),
                    notification_creation_time: time,
                })
            }
            other => Err(Error::Event(format!(
                "unknown messageType `{other}` (expected ConfigurationItemChangeNotification, \
                 OversizedConfigurationItemChangeNotification or ScheduledNotification)"
            ))),
        }
    }
}

fn parse_summary(v: &Value) -> Result<ItemSummary, Error> {
    let text = |names: &[&str]| -> Option<String> {
        names
            .iter()
            .find_map(|n| v.get(*n).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let resource_type =
        text(&["resourceType"]).ok_or_else(|| Error::Event("configurationItemSummary has no resourceType".into()))?;
    let resource_id =
        text(&["resourceId"]).ok_or_else(|| Error::Event("configurationItemSummary has no resourceId".into()))?;
    Ok(ItemSummary {
        status: text(&["configurationItemStatus"])
            .map(|s| ItemStatus::parse(&s))
            .unwrap_or(ItemStatus::Other),
        capture_time: v.get("configurationItemCaptureTime").and_then(parse_timestamp),
        resource_name: text(&["resourceName"]),
        account_id: text(&["awsAccountId", "accountId"]),
        aws_region: text(&["awsRegion"]),
        arn: text(&["ARN", "arn"]),
        resource_type,
        resource_id,
    })
}
