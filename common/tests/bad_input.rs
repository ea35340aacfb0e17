//! A corpus of malformed events and parameters: each is refused with an
//! error that names what was wrong — never a panic — and the handler reports
//! nothing for it. Plus property tests: no JSON whatsoever makes the event
//! decoder panic.

use atrest_common::lambda::Handler;
use atrest_common::testing::mock_aws;
use atrest_common::{Error, Invocation, Rule, RuleSpec};
use aws_smithy_mocks::{mock, RuleMode};
use proptest::prelude::*;
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "version": "1.0",
        "invokingEvent": json!({
            "configurationItem": {
                "configurationItemVersion": "1.3",
                "configurationItemCaptureTime": "2026-11-29T08:15:42.123Z",
                "configurationItemStatus": "OK",
                "resourceType": "AWS::EC2::Volume",
                "resourceId": "vol-1",
                "awsAccountId": "123456789012",
                "configuration": {"encrypted": false},
                "tags": {}
            },
            "messageType": "ConfigurationItemChangeNotification",
            "notificationCreationTime": "2026-11-29T08:16:00.000Z"
        }).to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": false,
        "configRuleName": "r",
        "accountId": "123456789012"
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut e = base();
    e[field] = value;
    e
}

fn invoking(v: Value) -> Value {
    with("invokingEvent", Value::String(v.to_string()))
}

fn item(edit: impl FnOnce(&mut Value)) -> Value {
    let mut inv: Value = serde_json::from_str(base()["invokingEvent"].as_str().unwrap()).unwrap();
    edit(&mut inv["configurationItem"]);
    invoking(inv)
}

fn params(p: &str) -> Value {
    with("ruleParameters", Value::String(p.to_owned()))
}

/// (case, event, what the error must mention)
fn corpus() -> Vec<(&'static str, Value, &'static str)> {
    let truncated = base()["invokingEvent"].as_str().unwrap()[..40].to_owned();
    vec![
        ("array event", json!([]), "not a JSON object"),
        ("string event", json!("event"), "not a JSON object"),
        ("null event", Value::Null, "not a JSON object"),
        ("number event", json!(42), "not a JSON object"),
        ("empty object", json!({}), "eventLeftScope"),
        (
            "eventLeftScope a string",
            with("eventLeftScope", json!("no")),
            "not an AWS Config rule event",
        ),
        (
            "invokingEvent a number",
            with("invokingEvent", json!(1)),
            "not an AWS Config rule event",
        ),
        (
            "invokingEvent an object",
            with("invokingEvent", json!({"a": 1})),
            "not an AWS Config rule event",
        ),
        (
            "invokingEvent missing",
            {
                let mut e = base();
                e.as_object_mut().unwrap().remove("invokingEvent");
                e
            },
            "invokingEvent is missing",
        ),
        (
            "invokingEvent empty",
            with("invokingEvent", json!("")),
            "invokingEvent is missing",
        ),
        (
            "invokingEvent blank",
            with("invokingEvent", json!("   ")),
            "invokingEvent is missing",
        ),
        (
            "invokingEvent truncated",
            with("invokingEvent", Value::String(truncated)),
            "invokingEvent is not valid JSON",
        ),
        (
            "invokingEvent not JSON",
            with("invokingEvent", json!("<xml/>")),
            "invokingEvent is not valid JSON",
        ),
        (
            "invokingEvent a list",
            invoking(json!([1, 2])),
            "invokingEvent is not valid JSON",
        ),
        (
            "no messageType",
            invoking(json!({"configurationItem": {}})),
            "no messageType",
        ),
        (
            "messageType a number",
            invoking(json!({"messageType": 5})),
            "invokingEvent is not valid JSON",
        ),
        (
            "unknown messageType",
            invoking(json!({"messageType": "Nope"})),
            "unknown messageType `Nope`",
        ),
        (
            "messageType in lower case",
            invoking(json!({"messageType": "schedulednotification"})),
            "unknown messageType",
        ),
        (
            "change without item",
            invoking(json!({"messageType": "ConfigurationItemChangeNotification"})),
            "without configurationItem",
        ),
        (
            "change with null item",
            invoking(json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": null})),
            "without configurationItem",
        ),
        (
            "item a string",
            invoking(json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": "x"})),
            "configurationItem",
        ),
        (
            "item a list",
            invoking(json!({"messageType": "ConfigurationItemChangeNotification", "configurationItem": []})),
            "configurationItem",
        ),
        (
            "item without resourceType",
            item(|i| {
                i.as_object_mut().unwrap().remove("resourceType");
            }),
            "no resourceType",
        ),
        (
            "item with empty resourceType",
            item(|i| i["resourceType"] = json!("")),
            "no resourceType",
        ),
        (
            "item without resourceId",
            item(|i| {
                i.as_object_mut().unwrap().remove("resourceId");
            }),
            "no resourceId",
        ),
        (
            "item with empty resourceId",
            item(|i| i["resourceId"] = json!("")),
            "no resourceId",
        ),
        (
            "resourceId a number",
            item(|i| i["resourceId"] = json!(7)),
            "configurationItem",
        ),
        (
            "status a number",
            item(|i| i["configurationItemStatus"] = json!(1)),
            "configurationItem",
        ),
        (
            "configuration a bare string",
            item(|i| i["configuration"] = json!("encrypted")),
            "not a JSON object",
        ),
        (
            "supplementary a list",
            item(|i| i["supplementaryConfiguration"] = json!([1])),
            "supplementaryConfiguration is not an object",
        ),
        (
            "tags a number",
            item(|i| i["tags"] = json!(3)),
            "tags are neither a map nor a list",
        ),
        (
            "tag without key",
            item(|i| i["tags"] = json!([{"value": "x"}])),
            "tag without a key",
        ),
        (
            "relationships an object",
            item(|i| i["relationships"] = json!({})),
            "configurationItem",
        ),
        (
            "oversized without summary",
            invoking(json!({"messageType": "OversizedConfigurationItemChangeNotification"})),
            "without configurationItemSummary",
        ),
        (
            "summary without resourceType",
            invoking(
                json!({"messageType": "OversizedConfigurationItemChangeNotification", "configurationItemSummary": {"resourceId": "x"}}),
            ),
            "no resourceType",
        ),
        (
            "summary without resourceId",
            invoking(
                json!({"messageType": "OversizedConfigurationItemChangeNotification", "configurationItemSummary": {"resourceType": "AWS::EC2::Volume"}}),
            ),
            "no resourceId",
        ),
        (
            "scheduled without time",
            invoking(json!({"messageType": "ScheduledNotification"})),
            "notificationCreationTime",
        ),
        (
            "scheduled with a bad time",
            invoking(json!({"messageType": "ScheduledNotification", "notificationCreationTime": "yesterday"})),
            "notificationCreationTime",
        ),
        (
            "scheduled with a list time",
            invoking(json!({"messageType": "ScheduledNotification", "notificationCreationTime": []})),
            "notificationCreationTime",
        ),
        (
            "ruleParameters not JSON",
            params("{oops"),
            "ruleParameters is not valid JSON",
        ),
        (
            "ruleParameters truncated",
            params("{\"kmsKeyArns\": \"ar"),
            "ruleParameters is not valid JSON",
        ),
        (
            "ruleParameters a list",
            params("[1]"),
            "ruleParameters is not a JSON object",
        ),
        (
            "ruleParameters a string",
            params("\"x\""),
            "ruleParameters is not a JSON object",
        ),
        (
            "ruleParameters a number",
            with("ruleParameters", json!(5)),
            "not an AWS Config rule event",
        ),
        (
            "parameter a list",
            params(r#"{"kmsKeyArns": ["a"]}"#),
            "expected a string value, got a list",
        ),
        (
            "parameter an object",
            params(r#"{"kmsKeyArns": {"a": 1}}"#),
            "expected a string value, got an object",
        ),
        (
            "parameter null",
            params(r#"{"kmsKeyArns": null}"#),
            "expected a string value, got null",
        ),
        (
            "unknown parameter",
            params(r#"{"kmsKeyArn": "x"}"#),
            "unknown parameter",
        ),
        (
            "parameter name in odd case",
            params(r#"{"KMSKEYARNS": "x"}"#),
            "unknown parameter",
        ),
        (
            "invalid key ARN",
            params(r#"{"kmsKeyArns": "arn:aws:kms:eu-west-1:12:key/x"}"#),
            "kmsKeyArns",
        ),
        (
            "S3 ARN as a key",
            params(r#"{"kmsKeyArns": "arn:aws:s3:::bucket"}"#),
            "kmsKeyArns",
        ),
        (
            "odd Unicode key",
            params(r#"{"kmsKeyArns": "alias/ключ-🔑"}"#),
            "kmsKeyArns",
        ),
        (
            "boolean in words",
            params(r#"{"allowAwsManagedKeys": "yes"}"#),
            "`true` or `false`",
        ),
        (
            "assume role without ARN",
            {
                let mut e = params(r#"{"assumeExecutionRole": "true"}"#);
                e.as_object_mut().unwrap().remove("executionRoleArn");
                e
            },
            "no executionRoleArn",
        ),
        (
            "role name without assuming",
            params(r#"{"executionRoleName": "atrest-execution"}"#),
            "assumeExecutionRole is not true",
        ),
        (
            "role name beside a non-role ARN",
            {
                let mut e = params(r#"{"assumeExecutionRole": "true", "executionRoleName": "atrest-execution"}"#);
                e["executionRoleArn"] = json!("arn:aws:iam::123456789012:user/someone");
                e
            },
            "not an IAM role ARN",
        ),
        (
            "resultToken missing",
            {
                let mut e = base();
                e.as_object_mut().unwrap().remove("resultToken");
                e
            },
            "resultToken is missing",
        ),
        (
            "resultToken empty",
            with("resultToken", json!("")),
            "resultToken is missing",
        ),
        (
            "resource id too long",
            item(|i| i["resourceId"] = json!("v".repeat(800))),
            "1 to 768",
        ),
        (
            "capture time missing",
            item(|i| {
                i.as_object_mut().unwrap().remove("configurationItemCaptureTime");
            }),
            "configurationItemCaptureTime",
        ),
        (
            "capture time garbage",
            item(|i| i["configurationItemCaptureTime"] = json!("🕐")),
            "configurationItemCaptureTime",
        ),
    ]
}

static SPEC: RuleSpec = RuleSpec {
    id: "bad-input-probe",
    description: "",
    evidence: "COMPLIANT proves: nothing (a test rule).",
    resource_types: &["AWS::EC2::Volume"],
    triggers: atrest_common::Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[
        atrest_common::ParamSpec {
            name: "kmsKeyArns",
            kind: atrest_common::ParamKind::KeyList,
            default: None,
            required: false,
            description: "",
        },
        atrest_common::ParamSpec {
            name: "allowAwsManagedKeys",
            kind: atrest_common::ParamKind::Bool,
            default: Some("false"),
            required: false,
            description: "",
        },
    ],
    own_iam_actions: &[],
    pci_dss: atrest_common::PciDss { v3_2_1: &[], v4_0: &[] },
    timeout_seconds: 60,
    memory_mb: 128,
    remediation: None,
};

struct Probe;

#[async_trait::async_trait]
impl Rule for Probe {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }
    async fn evaluate_item(
        &self,
        _item: &atrest_common::ConfigurationItem,
        _ctx: &atrest_common::RuleContext<'_>,
    ) -> Result<atrest_common::Verdict, Error> {
        Ok(atrest_common::Verdict::non_compliant("judged"))
    }
}

#[tokio::test]
async fn every_malformed_event_is_refused_clearly_and_reports_nothing() {
    let cases = corpus();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let put = mock!(aws_sdk_config::Client::put_evaluations)
        .then_output(|| aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput::builder().build());
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &[&put]));
    let mut failures = Vec::new();
    for (name, event, expected) in cases {
        match handler.handle(&Probe, event).await {
            Ok(s) => failures.push(format!("{name}: accepted ({} evaluated)", s.evaluated)),
            Err(e) if !e.to_string().contains(expected) => {
                failures.push(format!("{name}: error does not mention `{expected}`: {e}"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(put.num_calls(), 0, "nothing may be reported for bad input");
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".*".prop_map(Value::String),
        prop_oneof![
            Just("ConfigurationItemChangeNotification"),
            Just("ScheduledNotification"),
            Just("OversizedConfigurationItemChangeNotification"),
            Just("2026-11-29T08:15:42.123Z"),
            Just("AWS::EC2::Volume"),
            Just("ResourceDeleted"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("messageType".to_owned()),
                    Just("configurationItem".to_owned()),
                    Just("resourceType".to_owned()),
                    Just("resourceId".to_owned()),
                    Just("configuration".to_owned()),
                    Just("tags".to_owned()),
                    Just("configurationItemCaptureTime".to_owned()),
                    Just("configurationItemStatus".to_owned()),
                    Just("notificationCreationTime".to_owned()),
                    Just("configurationItemSummary".to_owned()),
                    ".{0,12}".prop_map(|s| s),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_outer_event_makes_the_decoder_panic(event in arbitrary_json()) {
        let _ = Invocation::from_value(event);
    }

    #[test]
    fn no_invoking_event_makes_the_decoder_panic(invoking_event in arbitrary_json(), params in arbitrary_json()) {
        let mut e = base();
        e["invokingEvent"] = Value::String(invoking_event.to_string());
        e["ruleParameters"] = Value::String(params.to_string());
        let _ = Invocation::from_value(e);
    }

    #[test]
    fn no_bytes_make_the_decoder_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = Invocation::from_slice(&bytes);
    }
}
