//! The Config contract around a rule: what is reported without running the
//! rule (left scope, deleted, out of scope), oversized items, sweeps and
//! stale results, and the Lambda handler's refusals.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use atrest_common::lambda::Handler;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::sweep::one_page;
use atrest_common::testing::mock_aws;
use atrest_common::{
    run, Compliance, ConfigurationItem, DryRun, Environment, Error, Found, Invocation, Parameters, PciDss, Rule,
    RuleContext, RuleSpec, Sweep, Triggers, Verdict,
};
use aws_sdk_config::operation::get_compliance_details_by_config_rule::GetComplianceDetailsByConfigRuleOutput;
use aws_sdk_config::operation::get_resource_config_history::GetResourceConfigHistoryOutput;
use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_config::types::{
    ComplianceType, ConfigurationItem as SdkItem, EvaluationResult, EvaluationResultIdentifier,
    EvaluationResultQualifier, ResourceType,
};
use aws_sdk_config::Client;
use aws_smithy_mocks::{mock, RuleMode};
use serde_json::{json, Value};

static SPEC: RuleSpec = RuleSpec {
    id: "probe-rule",
    description: "Reports what it was shown.",
    evidence: "COMPLIANT proves: nothing (a test rule).",
    resource_types: &["AWS::EC2::Volume"],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[ParamSpec {
        name: "kmsKeyArns",
        kind: ParamKind::KeyList,
        default: None,
        required: false,
        description: "",
    }],
    own_iam_actions: &["ec2:DescribeVolumes"],
    pci_dss: PciDss {
        v3_2_1: &["3.4"],
        v4_0: &["3.5.1"],
    },
    timeout_seconds: 60,
    memory_mb: 128,
    remediation: None,
};

static CHANGE_ONLY: RuleSpec = RuleSpec {
    id: "change-only-probe",
    triggers: Triggers {
        change: true,
        periodic: false,
    },
    ..SPEC
};

/// A rule that counts its calls and reports what it saw.
struct Probe {
    spec: &'static RuleSpec,
    judged: AtomicUsize,
}

impl Probe {
    fn new(spec: &'static RuleSpec) -> Self {
        Probe {
            spec,
            judged: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Rule for Probe {
    fn spec(&self) -> &'static RuleSpec {
        self.spec
    }
    async fn evaluate_item(&self, item: &ConfigurationItem, _ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        self.judged.fetch_add(1, Ordering::SeqCst);
        Ok(match item.bool_field(&["encrypted"]) {
            Some(true) => Verdict::compliant("encrypted"),
            _ => Verdict::non_compliant("not encrypted"),
        })
    }
    fn sweep<'a>(&'a self, _ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let found = ["vol-a", "vol-b", "vol-c"]
            .into_iter()
            .map(|id| Found::new("AWS::EC2::Volume", id, async { Ok(Some(Verdict::compliant("swept"))) }))
            .collect();
        Ok(Box::new(one_page(found)))
    }
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn edit_item(event: &mut Value, edit: impl FnOnce(&mut Value)) {
    let mut invoking: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    edit(&mut invoking["configurationItem"]);
    event["invokingEvent"] = Value::String(invoking.to_string());
}

async fn dry_run(rule: &dyn Rule, event: Value, env: &Environment) -> Result<DryRun, Error> {
    let invocation = Invocation::from_value(event)?;
    let params = Parameters::parse(rule.spec().parameters, &invocation.parameters)?;
    let mut sink = DryRun::default();
    run(rule, &invocation, &params, env, &mut sink).await?;
    Ok(sink)
}

fn no_aws() -> Environment {
    Environment::live(mock_aws(RuleMode::MatchAny, &[]))
}

#[tokio::test]
async fn a_resource_that_left_scope_is_not_applicable_without_judgement() {
    let probe = Probe::new(&SPEC);
    let mut event = load("change-v1.3.json");
    event["eventLeftScope"] = json!(true);
    let out = dry_run(&probe, event, &no_aws()).await.unwrap();
    assert_eq!(out.evaluations.len(), 1);
    let e = &out.evaluations[0];
    assert_eq!(e.compliance, Compliance::NotApplicable);
    assert_eq!(e.resource_id, "vol-0123456789abcdef0");
    assert!(e.annotation.as_deref().unwrap().contains("left the rule's scope"));
    assert_eq!(probe.judged.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn deleted_and_unrecorded_resources_are_not_applicable_without_judgement() {
    let probe = Probe::new(&SPEC);
    for status in ["ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"] {
        let mut event = load("change-v1.3.json");
        edit_item(&mut event, |item| item["configurationItemStatus"] = json!(status));
        let out = dry_run(&probe, event, &no_aws()).await.unwrap();
        let e = &out.evaluations[0];
        assert_eq!(e.compliance, Compliance::NotApplicable, "{status}");
        // Ordered by the item's capture time.
        assert_eq!(e.ordering_timestamp.secs(), 1_795_940_142);
    }
    assert_eq!(probe.judged.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_type_outside_the_scope_is_not_applicable() {
    let probe = Probe::new(&SPEC);
    let mut event = load("change-v1.3.json");
    edit_item(&mut event, |item| item["resourceType"] = json!("AWS::S3::Bucket"));
    let out = dry_run(&probe, event, &no_aws()).await.unwrap();
    assert_eq!(out.evaluations[0].compliance, Compliance::NotApplicable);
    assert!(out.evaluations[0]
        .annotation
        .as_deref()
        .unwrap()
        .contains("outside the scope"));
    assert_eq!(probe.judged.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_change_is_judged_and_dated_by_the_item() {
    let probe = Probe::new(&SPEC);
    let out = dry_run(&probe, load("change-v1.3.json"), &no_aws()).await.unwrap();
    assert_eq!(out.evaluations.len(), 1);
    let e = &out.evaluations[0];
    assert_eq!(
        (e.resource_type.as_str(), e.resource_id.as_str()),
        ("AWS::EC2::Volume", "vol-0123456789abcdef0")
    );
    assert_eq!(e.compliance, Compliance::Compliant);
    assert_eq!(e.ordering_timestamp.secs(), 1_795_940_142);
    assert_eq!(probe.judged.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_oversized_change_is_judged_on_the_fetched_item() {
    let history = mock!(Client::get_resource_config_history)
        .match_requests(|r| {
            r.resource_type() == Some(&ResourceType::Volume)
                && r.resource_id() == Some("vol-0123456789abcdef0")
                && r.limit() == Some(1)
        })
        .then_output(|| {
            GetResourceConfigHistoryOutput::builder()
                .configuration_items(
                    SdkItem::builder()
                        .resource_type(ResourceType::Volume)
                        .resource_id("vol-0123456789abcdef0")
                        .configuration_item_status(aws_sdk_config::types::ConfigurationItemStatus::Ok)
                        .configuration_item_capture_time(aws_smithy_types::DateTime::from_secs(1_795_942_800))
                        .configuration(r#"{"encrypted": false, "volumeId": "vol-0123456789abcdef0"}"#)
                        .build(),
                )
                .build()
        });
    let env = Environment::live(mock_aws(RuleMode::MatchAny, &[&history]));
    let probe = Probe::new(&SPEC);
    let out = dry_run(&probe, load("oversized.json"), &env).await.unwrap();
    assert_eq!(history.num_calls(), 1);
    let e = &out.evaluations[0];
    assert_eq!(e.compliance, Compliance::NonCompliant);
    assert_eq!(e.ordering_timestamp.secs(), 1_795_942_800);
}

#[tokio::test]
async fn an_oversized_deletion_needs_no_fetch() {
    let mut event = load("oversized.json");
    let mut invoking: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["configurationItemSummary"]["configurationItemStatus"] = json!("ResourceDeleted");
    event["invokingEvent"] = Value::String(invoking.to_string());
    let probe = Probe::new(&SPEC);
    let out = dry_run(&probe, event, &no_aws()).await.unwrap();
    assert_eq!(out.evaluations[0].compliance, Compliance::NotApplicable);
    assert_eq!(probe.judged.load(Ordering::SeqCst), 0);
}

fn earlier(ids: &[&str]) -> Vec<EvaluationResult> {
    ids.iter()
        .map(|id| {
            EvaluationResult::builder()
                .compliance_type(ComplianceType::NonCompliant)
                .evaluation_result_identifier(
                    EvaluationResultIdentifier::builder()
                        .evaluation_result_qualifier(
                            EvaluationResultQualifier::builder()
                                .config_rule_name("atrest-ebs-volume-encrypted")
                                .resource_type("AWS::EC2::Volume")
                                .resource_id(*id)
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
        .collect()
}

#[tokio::test]
async fn a_sweep_retires_stale_results() {
    let page1 = mock!(Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.next_token().is_none() && r.config_rule_name() == Some("atrest-ebs-volume-encrypted"))
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .set_evaluation_results(Some(earlier(&["vol-a", "vol-gone-1"])))
                .next_token("p2")
                .build()
        });
    let page2 = mock!(Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.next_token() == Some("p2"))
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .set_evaluation_results(Some(earlier(&["vol-gone-2", "vol-c"])))
                .build()
        });
    let env = Environment::live(mock_aws(RuleMode::MatchAny, &[&page1, &page2]));
    let probe = Probe::new(&SPEC);
    let mut event = load("scheduled.json");
    event["resultToken"] = json!("token-of-a-real-invocation");
    let out = dry_run(&probe, event, &env).await.unwrap();
    let got: Vec<(&str, Compliance)> = out
        .evaluations
        .iter()
        .map(|e| (e.resource_id.as_str(), e.compliance))
        .collect();
    assert_eq!(
        got,
        [
            ("vol-a", Compliance::Compliant),
            ("vol-b", Compliance::Compliant),
            ("vol-c", Compliance::Compliant),
            ("vol-gone-1", Compliance::NotApplicable),
            ("vol-gone-2", Compliance::NotApplicable),
        ]
    );
    // Everything is dated by the notification.
    assert!(out
        .evaluations
        .iter()
        .all(|e| e.ordering_timestamp.secs() == 1_795_953_600));
}

#[tokio::test]
async fn a_sweep_in_test_mode_reads_no_earlier_results() {
    // Any call to GetComplianceDetailsByConfigRule would find no mock and fail.
    let env = Environment::live(mock_aws(RuleMode::MatchAny, &[]));
    let probe = Probe::new(&SPEC);
    let out = dry_run(&probe, load("scheduled.json"), &env).await.unwrap();
    assert_eq!(out.evaluations.len(), 3);
    assert!(out.evaluations.iter().all(|e| e.compliance == Compliance::Compliant));
}

#[tokio::test]
async fn a_schedule_for_a_change_only_rule_is_refused() {
    let probe = Probe::new(&CHANGE_ONLY);
    let err = dry_run(&probe, load("scheduled.json"), &no_aws()).await.unwrap_err();
    assert!(err.to_string().contains("change-triggered only"), "{err}");
}

type Sent = Arc<Mutex<Vec<(Vec<aws_sdk_config::types::Evaluation>, Option<bool>)>>>;

fn put_recorder(sent: &Sent) -> aws_smithy_mocks::Rule {
    let sent = sent.clone();
    mock!(Client::put_evaluations).then_compute_output(move |req| {
        sent.lock().unwrap().push((req.evaluations().to_vec(), req.test_mode()));
        PutEvaluationsOutput::builder().build()
    })
}

#[tokio::test]
async fn the_handler_delivers_with_test_mode_and_summarises() {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &[&put]));
    let probe = Probe::new(&SPEC);
    let summary = handler.handle(&probe, load("change-v1.2.json")).await.unwrap();
    assert_eq!(summary.evaluated, 1);
    assert_eq!(summary.counts.non_compliant, 1);
    assert_eq!(summary.message_type, "ConfigurationItemChangeNotification");
    assert_eq!(
        summary.aws_calls.get("config:PutEvaluations"),
        Some(&1),
        "{:?}",
        summary.aws_calls
    );
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, Some(true));
    assert_eq!(sent[0].0[0].compliance_resource_id(), "vol-0fedcba9876543210");
    assert_eq!(sent[0].0[0].compliance_type(), &ComplianceType::NonCompliant);
}

#[tokio::test]
async fn the_handler_refuses_bad_parameters_before_any_call() {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &[&put]));
    let probe = Probe::new(&SPEC);

    let mut event = load("change-v1.3.json");
    event["ruleParameters"] = json!(r#"{"kmsKeyArn": "x"}"#);
    match handler.handle(&probe, event).await {
        Err(Error::Parameter { name, problem }) => {
            assert_eq!(name, "kmsKeyArn");
            assert!(problem.contains("unknown parameter"), "{problem}");
        }
        other => panic!("expected a parameter error, got {other:?}"),
    }

    let mut event = load("change-v1.3.json");
    event["ruleParameters"] = json!(r#"{"assumeExecutionRole": "true"}"#);
    event.as_object_mut().unwrap().remove("executionRoleArn");
    let err = handler.handle(&probe, event).await.unwrap_err();
    assert!(err.to_string().contains("no executionRoleArn"), "{err}");

    let mut event = load("change-v1.3.json");
    event.as_object_mut().unwrap().remove("resultToken");
    let err = handler.handle(&probe, event).await.unwrap_err();
    assert!(err.to_string().contains("resultToken is missing"), "{err}");

    assert!(sent.lock().unwrap().is_empty());
    assert_eq!(probe.judged.load(Ordering::SeqCst), 0);
}

#[test]
fn errors_become_diagnostics_that_say_whether_to_retry() {
    let throttled = Error::Aws(atrest_common::AwsError {
        service: "kms",
        operation: "DescribeKey",
        kind: atrest_common::AwsErrorKind::Throttling,
        code: Some("ThrottlingException".into()),
        message: "Rate exceeded".into(),
    });
    let d: lambda_runtime::Diagnostic = throttled.into();
    assert_eq!(d.error_type, "atrest.Retryable.Throttling");
    assert!(d.error_message.contains("kms:DescribeKey"), "{}", d.error_message);
    let d: lambda_runtime::Diagnostic = Error::parameter("kmsKeyArns", "bad").into();
    assert_eq!(d.error_type, "atrest.BadParameter");
    assert_eq!(d.error_message, "rule parameter `kmsKeyArns`: bad");
}

#[test]
fn the_spec_adds_the_contracts_iam_actions() {
    assert_eq!(
        SPEC.iam_actions(),
        [
            "config:GetComplianceDetailsByConfigRule",
            "config:GetResourceConfigHistory",
            "config:PutEvaluations",
            "ec2:DescribeVolumes"
        ]
    );
    assert_eq!(
        CHANGE_ONLY.iam_actions(),
        [
            "config:GetResourceConfigHistory",
            "config:PutEvaluations",
            "ec2:DescribeVolumes"
        ]
    );
}

/// A sweep of 50 resources that takes 100 ms for each (judged
/// [`CONCURRENT_JUDGEMENTS`](atrest_common::drive::CONCURRENT_JUDGEMENTS)
/// at a time: about 700 ms in all).
struct SlowSweep;

#[async_trait]
impl Rule for SlowSweep {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }
    fn sweep<'a>(&'a self, _ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let found = (0..50)
            .map(|i| {
                Found::new("AWS::EC2::Volume", format!("vol-{i:02}"), async {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Ok(Some(Verdict::compliant("ok")))
                })
            })
            .collect();
        Ok(Box::new(one_page(found)))
    }
}

#[tokio::test]
async fn a_sweep_stops_before_the_deadline_and_delivers_what_it_evaluated() {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let handler =
        Handler::new(mock_aws(RuleMode::MatchAny, &[&put])).with_deadline_margin(std::time::Duration::from_millis(200));
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_millis(600);
    let err = handler
        .handle_until(&SlowSweep, load("scheduled.json"), Some(deadline))
        .await
        .unwrap_err();
    let Error::Deadline { reported, left } = err else {
        panic!("expected a deadline error, got {err:?}")
    };
    assert!(reported >= 1 && left >= 1, "{reported} reported, {left} left");
    assert_eq!(reported + left, 50);
    // Everything evaluated before the stop reached Config.
    let delivered: usize = sent.lock().unwrap().iter().map(|(e, _)| e.len()).sum();
    assert_eq!(delivered, reported);
    assert!(err_message_names_what_was_left(reported, left));
}

/// A sweep cut short leaves the resources past the cut unjudged: their
/// earlier COMPLIANT results are withdrawn (NON_COMPLIANT, saying why), not
/// left standing as evidence.
#[tokio::test]
async fn a_sweep_cut_by_the_deadline_withdraws_compliant_results_it_did_not_reach() {
    let sent = Sent::default();
    let put = put_recorder(&sent);
    let earlier_compliant = mock!(Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.compliance_types() == [ComplianceType::Compliant])
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .set_evaluation_results(Some(earlier(&["vol-00", "vol-49"])))
                .build()
        });
    let handler = Handler::new(mock_aws(RuleMode::MatchAny, &[&put, &earlier_compliant]))
        .with_deadline_margin(std::time::Duration::from_millis(200));
    let mut event = load("scheduled.json");
    event["resultToken"] = json!("token-of-a-real-invocation");
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_millis(600);
    let err = handler
        .handle_until(&SlowSweep, event, Some(deadline))
        .await
        .unwrap_err();
    let Error::Deadline { reported, left } = err else {
        panic!("expected a deadline error, got {err:?}")
    };
    assert!(left >= 1, "vol-49 was not reached");
    let sent = sent.lock().unwrap();
    let delivered: Vec<&aws_sdk_config::types::Evaluation> = sent.iter().flat_map(|(e, _)| e).collect();
    // Everything swept, plus vol-49 withdrawn; vol-00 (reached) only once.
    assert_eq!(delivered.len(), reported + 1);
    assert_eq!(
        delivered
            .iter()
            .filter(|e| e.compliance_resource_id() == "vol-00")
            .count(),
        1
    );
    let withdrawn = delivered
        .iter()
        .find(|e| e.compliance_resource_id() == "vol-49")
        .expect("vol-49 withdrawn");
    assert_eq!(withdrawn.compliance_type(), &ComplianceType::NonCompliant);
    assert!(withdrawn
        .annotation()
        .unwrap_or_default()
        .contains("stopped at the Lambda deadline before reaching this resource"));
}

fn err_message_names_what_was_left(reported: usize, left: usize) -> bool {
    let text = Error::Deadline { reported, left }.to_string();
    text.contains(&format!("{reported} evaluation(s) reported")) && text.contains(&format!("{left} resource(s)"))
}

#[tokio::test]
async fn a_deadline_already_near_evaluates_nothing() {
    let invocation = Invocation::from_value(load("scheduled.json")).unwrap();
    let params = Parameters::parse(SPEC.parameters, &invocation.parameters).unwrap();
    let mut sink = DryRun::default();
    let deadline = atrest_common::Deadline::at(std::time::Instant::now(), std::time::Duration::from_secs(5));
    let err = atrest_common::run_until(&SlowSweep, &invocation, &params, &no_aws(), &mut sink, deadline)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Deadline { reported: 0, left: 50 }), "{err:?}");
    assert!(sink.evaluations.is_empty());
    assert_eq!(err.kind_name(), "DeadlineExceeded");
    assert!(!err.is_retryable());
}
