//! The reporter: PutEvaluations in batches of at most 100, FailedEvaluations
//! re-sent, throttling and 5xx retried, TestMode for TESTMODE.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atrest_common::aws::retry_config;
use atrest_common::report::MAX_BATCH;
use atrest_common::testing::mock_aws;
use atrest_common::{ConfigReporter, Error, Evaluation, EvaluationSink, Verdict};
use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_config::types::Evaluation as SdkEvaluation;
use aws_sdk_config::Client;
use aws_smithy_mocks::{mock, RuleMode};
use aws_smithy_types::DateTime;

fn evaluation(i: usize) -> Evaluation {
    let verdict = if i % 2 == 0 {
        Verdict::compliant("ok")
    } else {
        Verdict::non_compliant("not encrypted")
    };
    Evaluation::new(
        "AWS::EC2::Volume",
        format!("vol-{i:05}"),
        verdict,
        DateTime::from_secs(1_764_404_142),
    )
    .unwrap()
}

/// Records the evaluations of every PutEvaluations call.
type Calls = Arc<Mutex<Vec<(Vec<SdkEvaluation>, Option<bool>)>>>;

fn recording_rule(calls: &Calls) -> aws_smithy_mocks::Rule {
    let calls = calls.clone();
    mock!(Client::put_evaluations).then_compute_output(move |req| {
        calls
            .lock()
            .unwrap()
            .push((req.evaluations().to_vec(), req.test_mode()));
        PutEvaluationsOutput::builder().build()
    })
}

async fn send_all(reporter: &mut ConfigReporter, n: usize) -> Result<(), Error> {
    for i in 0..n {
        reporter.push(evaluation(i)).await?;
    }
    reporter.flush().await
}

#[tokio::test]
async fn batches_of_at_most_one_hundred() {
    let calls = Calls::default();
    let rule = recording_rule(&calls);
    let aws = mock_aws(RuleMode::MatchAny, &[&rule]);
    let mut reporter = ConfigReporter::new(aws.config(), "TESTMODE");
    send_all(&mut reporter, 250).await.unwrap();

    let calls = calls.lock().unwrap();
    let sizes: Vec<usize> = calls.iter().map(|(e, _)| e.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    assert!(sizes.iter().all(|&s| s <= MAX_BATCH));
    // Every evaluation exactly once, in order, with its fields.
    let ids: Vec<&str> = calls
        .iter()
        .flat_map(|(e, _)| e.iter().map(|e| e.compliance_resource_id()))
        .collect();
    let expected: Vec<String> = (0..250).map(|i| format!("vol-{i:05}")).collect();
    assert_eq!(ids, expected);
    let first = &calls[0].0[1];
    assert_eq!(first.compliance_type().as_str(), "NON_COMPLIANT");
    assert_eq!(first.annotation(), Some("not encrypted"));
    assert_eq!(first.ordering_timestamp().secs(), 1_764_404_142);
    assert_eq!(reporter.delivered(), 250);
    assert_eq!(reporter.calls(), 3);
}

#[tokio::test]
async fn test_mode_follows_the_result_token() {
    let calls = Calls::default();
    let rule = recording_rule(&calls);
    let aws = mock_aws(RuleMode::MatchAny, &[&rule]);
    send_all(&mut ConfigReporter::new(aws.config(), "TESTMODE"), 1)
        .await
        .unwrap();
    send_all(&mut ConfigReporter::new(aws.config(), "real-token-abc"), 1)
        .await
        .unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls[0].1, Some(true));
    assert_eq!(calls[1].1, None);
}

#[tokio::test]
async fn nothing_is_sent_for_nothing() {
    let calls = Calls::default();
    let rule = recording_rule(&calls);
    let aws = mock_aws(RuleMode::MatchAny, &[&rule]);
    send_all(&mut ConfigReporter::new(aws.config(), "TESTMODE"), 0)
        .await
        .unwrap();
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn failed_evaluations_are_resent_alone() {
    let calls = Calls::default();
    let seen = calls.clone();
    // The first call fails two of its evaluations; later calls succeed.
    let rule = mock!(Client::put_evaluations).then_compute_output(move |req| {
        let mut seen = seen.lock().unwrap();
        let first = seen.is_empty();
        seen.push((req.evaluations().to_vec(), req.test_mode()));
        let failed = if first {
            req.evaluations()
                .iter()
                .filter(|e| ["vol-00003", "vol-00007"].contains(&e.compliance_resource_id()))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        PutEvaluationsOutput::builder()
            .set_failed_evaluations(Some(failed))
            .build()
    });
    let aws = mock_aws(RuleMode::MatchAny, &[&rule]);
    let mut reporter = ConfigReporter::new(aws.config(), "token").with_failed_retries(3, Duration::from_millis(1));
    send_all(&mut reporter, 10).await.unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].0.len(), 10);
    let resent: Vec<&str> = calls[1].0.iter().map(|e| e.compliance_resource_id()).collect();
    assert_eq!(resent, ["vol-00003", "vol-00007"]);
    assert_eq!(reporter.delivered(), 10);
}

#[tokio::test]
async fn evaluations_that_keep_failing_make_the_invocation_fail() {
    let rule = mock!(Client::put_evaluations).then_compute_output(|req| {
        PutEvaluationsOutput::builder()
            .set_failed_evaluations(Some(req.evaluations()[..1].to_vec()))
            .build()
    });
    let aws = mock_aws(RuleMode::MatchAny, &[&rule]);
    let mut reporter = ConfigReporter::new(aws.config(), "token").with_failed_retries(3, Duration::from_millis(1));
    let err = send_all(&mut reporter, 5).await.unwrap_err();
    assert!(err.is_retryable());
    match err {
        Error::Delivery {
            failed,
            attempts,
            detail,
        } => {
            assert_eq!((failed, attempts), (1, 3));
            assert!(detail.contains("vol-00000"), "{detail}");
        }
        other => panic!("expected a delivery error, got {other:?}"),
    }
    assert_eq!(rule.num_calls(), 3);
    assert_eq!(reporter.delivered(), 4);
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_by_the_sdk() {
    let throttled = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let rule = mock!(Client::put_evaluations)
        .sequence()
        .http_status(400, Some(throttled.to_owned()))
        .times(3)
        .http_status(503, None)
        .output(|| PutEvaluationsOutput::builder().build())
        .build();
    let aws = mock_aws(RuleMode::Sequential, &[&rule]);
    let mut reporter = ConfigReporter::new(aws.config(), "TESTMODE");
    send_all(&mut reporter, 3).await.unwrap();
    assert_eq!(rule.num_calls(), 5);
    assert_eq!(reporter.calls(), 1);
    assert_eq!(reporter.delivered(), 3);
    assert!(retry_config().max_attempts() >= 8);
}

#[tokio::test]
async fn throttling_past_the_retries_is_a_retryable_error() {
    let throttled = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
    let rule = mock!(Client::put_evaluations)
        .sequence()
        .http_status(400, Some(throttled.to_owned()))
        .repeatedly()
        .build();
    let aws = mock_aws(RuleMode::Sequential, &[&rule]);
    let err = send_all(&mut ConfigReporter::new(aws.config(), "TESTMODE"), 1)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.kind_name(), "Throttling");
    assert_eq!(rule.num_calls() as u32, retry_config().max_attempts());
}
