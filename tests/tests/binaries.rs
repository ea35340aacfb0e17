//! Each rule's real binary, started as Lambda starts it: with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a Runtime API served here on
//! loopback, handed one event, answering it, its evaluations reaching moto.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use atrest_e2e::events;
use atrest_e2e::runtime_api::{Answer, RuntimeApi};
use atrest_e2e::{evaluations, Moto};
use serde_json::{json, Value};

/// `target/<profile>/`, where cargo put the rule binaries next to this test.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf()
}

struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(id: &str, api: &RuntimeApi, moto: &Moto) -> Function {
    let path = bin_dir().join(id);
    assert!(
        path.exists(),
        "{} is missing: build the rule binaries first (`cargo test --workspace` does)",
        path.display()
    );
    let child = Command::new(path)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("atrest-{id}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/atrest-{id}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/29/[$LATEST]e2e")
        .env("AWS_REGION", atrest_e2e::REGION)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Function(child)
}

/// An event each rule turns into at least one evaluation with no other AWS
/// call: a deleted resource of its scope, or for the periodic-only rules a
/// sweep of one plaintext secret (SSM) or one log group without a key of
/// its own (CloudWatch Logs).
fn event_for(rule: &dyn atrest_common::Rule) -> Value {
    let spec = rule.spec();
    if spec.triggers.change {
        let item = events::deleted(events::item(spec.resource_types[0], "gone-1", json!({}), json!({})));
        let params = if spec.parameters.iter().any(|p| p.required) {
            json!({"tagKeys": "CostCenter"})
        } else {
            json!({})
        };
        events::change(spec.id, item, params)
    } else {
        events::scheduled(spec.id, json!({}))
    }
}

#[tokio::test]
async fn every_rule_binary_answers_through_the_runtime_api() {
    let Some(moto) = Moto::start() else { return };
    let ssm = aws_sdk_ssm::Client::new(&moto.sdk_config());
    ssm.put_parameter()
        .name("/legacy/db/password")
        .value("planted")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .unwrap();

    // The other periodic-only rule's: a log group under keys the service owns.
    atrest_e2e::stores::store(&moto, "logs-log-group-encrypted", "/legacy/app", None).await;

    for rule in atrest_rules::ALL {
        let id = rule.spec().id;
        let api = RuntimeApi::start(vec![event_for(*rule)]);
        moto.start_recording();
        let _function = start(id, &api, &moto);
        let answer = api
            .wait_answer(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{id}: no answer"));
        let Answer::Response(summary) = answer else {
            panic!("{id}: {answer:?}")
        };
        assert_eq!(summary["rule"], id);
        assert!(summary["evaluated"].as_u64().unwrap() >= 1, "{id}: {summary}");
        let sent = evaluations(&moto.recording());
        assert!(!sent.is_empty(), "{id}: nothing reached moto");
        let expected = if rule.spec().triggers.change {
            "NOT_APPLICABLE"
        } else {
            "NON_COMPLIANT"
        };
        assert_eq!(sent[0].2, expected, "{id}: {sent:?}");
        assert!(api.first_next().is_some());
    }
}

#[tokio::test]
async fn a_malformed_event_is_reported_as_a_typed_error() {
    let Some(moto) = Moto::start() else { return };
    let api = RuntimeApi::start(vec![json!({"invokingEvent": "{not json", "eventLeftScope": false})]);
    let _function = start("ebs-volume-encrypted", &api, &moto);
    match api.wait_answer(Duration::from_secs(60)) {
        Some(Answer::Error { error_type, body }) => {
            assert_eq!(body["errorType"], "atrest.BadEvent", "{body}");
            assert!(body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("invokingEvent is not valid JSON"));
            assert!(!error_type.is_empty(), "the Runtime API gets an error type header");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}
