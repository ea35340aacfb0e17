//! `kms-critical-calls-monitored` on moto: CloudTrail, EventBridge,
//! CloudWatch Logs metric filters and CloudWatch alarms, as they are built
//! up and taken apart; the EventBridge pattern is the CDK app's own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use atrest_common::Rule;
use atrest_e2e::{annotation_of, compliance_by_id, seed, sweep_recorded, Moto, ACCOUNT, REGION};
use serde_json::json;

/// The pattern the CDK app's alert rule is synthesised with (its synthesis
/// test holds the template to this file).
const APP_PATTERN: &str = include_str!("../../cdk/test/data/critical-calls-pattern.json");

const RULE: &atrest_rules::kms_critical_calls_monitored::KmsCriticalCallsMonitored =
    &atrest_rules::kms_critical_calls_monitored::RULE;

/// The account's verdict and annotation after one scheduled sweep.
async fn judged(moto: &Moto) -> (String, String) {
    let recorded = sweep_recorded(moto, RULE, json!({})).await;
    let verdict = compliance_by_id(&recorded)
        .remove(ACCOUNT)
        .expect("the account is judged");
    (verdict, annotation_of(&recorded, ACCOUNT))
}

/// A basic event selector of management events.
fn selector(read_write: aws_sdk_cloudtrail::types::ReadWriteType) -> aws_sdk_cloudtrail::types::EventSelector {
    aws_sdk_cloudtrail::types::EventSelector::builder()
        .read_write_type(read_write)
        .include_management_events(true)
        .build()
}

#[tokio::test]
async fn critical_calls_heard_through_eventbridge_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let sdk = moto.sdk_config();

    let (verdict, why) = judged(&moto).await;
    assert_eq!(verdict, "NON_COMPLIANT");
    assert!(
        why.contains("no multi-region trail records them: no CloudTrail trail"),
        "{why}"
    );

    let trail = seed::trail(&moto, false).await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    let (_, why) = judged(&moto).await;
    assert!(why.contains("trail org-trail is not logging"), "{why}");
    cloudtrail.start_logging().name(&trail).send().await.unwrap();
    let (verdict, why) = judged(&moto).await;
    assert_eq!(verdict, "NON_COMPLIANT");
    assert!(
        why.starts_with("Nobody would hear of kms:DeleteAlias, kms:DeleteImportedKeyMaterial, kms:DisableKey"),
        "{why}"
    );

    // The app's rule, to a topic: every call is heard.
    seed::alert_rule(&moto, "atrest-kms-critical-calls", APP_PATTERN, false).await;
    let (_, why) = judged(&moto).await;
    assert!(why.contains("rule atrest-kms-critical-calls has no target"), "{why}");
    seed::alert_rule(&moto, "atrest-kms-critical-calls", APP_PATTERN, true).await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let (verdict, why) = judged(&moto).await;
    assert_eq!(verdict, "COMPLIANT", "{why}");
    assert_eq!(
        why,
        "Trail org-trail logs the critical KMS calls; heard by EventBridge rule atrest-kms-critical-calls."
    );

    // A narrower parameter is judged on its own calls.
    let recorded = sweep_recorded(&moto, RULE, json!({"criticalActions": "kms:DisableKey"})).await;
    assert_eq!(compliance_by_id(&recorded)[ACCOUNT], "COMPLIANT");

    // Disabled, the rule hears nothing; a rule on root's calls alone does
    // not hear every call.
    events
        .disable_rule()
        .name("atrest-kms-critical-calls")
        .send()
        .await
        .unwrap();
    let narrow =
        json!({"source": ["aws.kms"], "detail": {"eventName": ["DisableKey"], "userIdentity": {"type": ["Root"]}}});
    events
        .put_rule()
        .name("root-only")
        .event_pattern(narrow.to_string())
        .send()
        .await
        .unwrap();
    let (verdict, why) = judged(&moto).await;
    assert_eq!(verdict, "NON_COMPLIANT");
    assert!(why.contains("(rule atrest-kms-critical-calls is disabled)"), "{why}");
    assert!(!why.contains("root-only"), "{why}");

    // A trail that leaves KMS events out records nothing of them.
    events
        .enable_rule()
        .name("atrest-kms-critical-calls")
        .send()
        .await
        .unwrap();
    cloudtrail
        .put_event_selectors()
        .trail_name(&trail)
        .event_selectors(selector(aws_sdk_cloudtrail::types::ReadWriteType::ReadOnly))
        .send()
        .await
        .unwrap();
    let (verdict, why) = judged(&moto).await;
    assert_eq!(verdict, "NON_COMPLIANT");
    assert!(
        why.contains("trail org-trail does not record KMS management write events"),
        "{why}"
    );
}

#[tokio::test]
async fn critical_calls_heard_through_a_metric_filter_and_an_alarm_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let sdk = moto.sdk_config();
    let trail = seed::trail(&moto, true).await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    logs.create_log_group()
        .log_group_name("cloudtrail")
        .send()
        .await
        .unwrap();
    cloudtrail
        .update_trail()
        .name(&trail)
        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:cloudtrail:*"))
        .cloud_watch_logs_role_arn(format!("arn:aws:iam::{ACCOUNT}:role/trail-to-logs"))
        .send()
        .await
        .unwrap();
    // The CIS benchmark's filter: two of the five calls.
    let transformation = |name: &str| {
        aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
            .metric_name(name)
            .metric_namespace("CISBenchmark")
            .metric_value("1")
            .build()
            .unwrap()
    };
    logs.put_metric_filter()
        .log_group_name("cloudtrail")
        .filter_name("kms-disable-or-delete")
        .filter_pattern(
            "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
        )
        .metric_transformations(transformation("KmsDisableOrDelete"))
        .send()
        .await
        .unwrap();
    let params = json!({"criticalActions": "kms:DisableKey,kms:ScheduleKeyDeletion,kms:PutKeyPolicy"});
    let alarms = Alarms::default();
    let recorded = sweep_with_alarms(&moto, &alarms, params.clone()).await;
    let why = annotation_of(&recorded, ACCOUNT);
    assert!(
        why.contains("kms:DisableKey, kms:ScheduleKeyDeletion (metric filter kms-disable-or-delete has no alarm"),
        "{why}"
    );
    assert!(why.contains("kms:PutKeyPolicy (no enabled EventBridge rule"), "{why}");

    // An alarm whose actions are disabled does not count; one with an
    // action does.
    alarms.set("KmsDisableOrDelete", "kms-disable-or-delete", false);
    let recorded = sweep_with_alarms(&moto, &alarms, params.clone()).await;
    assert!(annotation_of(&recorded, ACCOUNT).contains("kms-disable-or-delete has no alarm"));
    alarms.set("KmsDisableOrDelete", "kms-disable-or-delete", true);
    logs.put_metric_filter()
        .log_group_name("cloudtrail")
        .filter_name("kms-policy")
        .filter_pattern(r#"{ $.eventSource = "kms.amazonaws.com" && $.eventName = "PutKeyPolicy" }"#)
        .metric_transformations(transformation("KmsPolicy"))
        .send()
        .await
        .unwrap();
    alarms.set("KmsPolicy", "kms-policy", true);
    let recorded = sweep_with_alarms(&moto, &alarms, params).await;
    assert_eq!(
        compliance_by_id(&recorded)[ACCOUNT],
        "COMPLIANT",
        "{}",
        annotation_of(&recorded, ACCOUNT)
    );
    assert_eq!(
        annotation_of(&recorded, ACCOUNT),
        "Trail org-trail logs the critical KMS calls; heard by metric filter kms-disable-or-delete and alarm \
         kms-disable-or-delete, metric filter kms-policy and alarm kms-policy."
    );
    // The alarms were asked for in the log group's region, by metric.
    assert_eq!(alarms.asked(), ["KmsDisableOrDelete", "KmsPolicy"]);
}

/// The alarms DescribeAlarmsForMetric answers with, by metric (moto does
/// not answer CloudWatch's CBOR protocol; see tests/README.md).
#[derive(Clone, Default)]
struct Alarms {
    by_metric: Arc<Mutex<BTreeMap<String, (String, bool)>>>,
    asked: Arc<Mutex<BTreeSet<String>>>,
}

impl Alarms {
    fn set(&self, metric: &str, alarm: &str, actions_enabled: bool) {
        self.by_metric
            .lock()
            .unwrap()
            .insert(metric.into(), (alarm.into(), actions_enabled));
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().iter().cloned().collect()
    }

    fn rule(&self) -> aws_smithy_mocks::Rule {
        let alarms = self.clone();
        aws_smithy_mocks::mock!(aws_sdk_cloudwatch::Client::describe_alarms_for_metric).then_compute_output(
            move |req| {
                let metric = req.metric_name().unwrap_or_default().to_owned();
                assert_eq!(req.namespace(), Some("CISBenchmark"));
                alarms.asked.lock().unwrap().insert(metric.clone());
                let found = alarms.by_metric.lock().unwrap().get(&metric).cloned();
                let out =
                    aws_sdk_cloudwatch::operation::describe_alarms_for_metric::DescribeAlarmsForMetricOutput::builder();
                match found {
                    None => out.build(),
                    Some((name, enabled)) => out
                        .metric_alarms(
                            aws_sdk_cloudwatch::types::MetricAlarm::builder()
                                .alarm_name(name)
                                .metric_name(&metric)
                                .actions_enabled(enabled)
                                .alarm_actions(format!("arn:aws:sns:{REGION}:{ACCOUNT}:security"))
                                .build(),
                        )
                        .build(),
                }
            },
        )
    }
}

/// A scheduled sweep on moto, with CloudWatch's alarms from `alarms`.
async fn sweep_with_alarms(moto: &Moto, alarms: &Alarms, params: serde_json::Value) -> Vec<atrest_e2e::Recorded> {
    let mocked = aws_smithy_mocks::MockResponseInterceptor::new()
        .with_rule(&alarms.rule())
        .allow_passthrough();
    let handler = atrest_common::lambda::Handler::new(moto.aws().with_interceptor(mocked));
    moto.start_recording();
    handler
        .handle(RULE, atrest_e2e::events::scheduled(RULE.spec().id, params))
        .await
        .expect("the sweep");
    let recorded = moto.recording();
    atrest_e2e::assert_within_spec(&recorded, RULE);
    recorded
}
