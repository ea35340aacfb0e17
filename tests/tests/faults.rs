//! Faults between the SDK and moto: throttling answered in each protocol's
//! own words by a proxy. Every evaluation still arrives exactly once; when
//! every call fails, the invocation fails clearly and nothing is reported.

use atrest_common::aws::AwsContext;
use atrest_common::lambda::Handler;
use atrest_e2e::fault_proxy::FaultProxy;
use atrest_e2e::{evaluations, events, put_evaluations, seed, Moto};
use atrest_rules::ebs_volume_encrypted::RULE;
use serde_json::json;

async fn seed(moto: &Moto, volumes: usize) -> Vec<String> {
    let mut keys = Vec::new();
    for _ in 0..5 {
        keys.push(seed::key(moto, &[]).await);
    }
    let mut ids = Vec::new();
    for i in 0..volumes {
        ids.push(seed::volume(moto, Some(&keys[i % 5]), 1, &[]).await);
    }
    ids
}

fn through(proxy: &FaultProxy, moto: &Moto) -> AwsContext {
    let sdk = moto.sdk_config().to_builder().endpoint_url(&proxy.endpoint).build();
    AwsContext::new(sdk)
}

#[tokio::test]
async fn with_30_percent_throttling_every_evaluation_arrives_exactly_once() {
    let Some(moto) = Moto::start() else { return };
    let mut ids = seed(&moto, 1000).await;
    let proxy = FaultProxy::start(&moto.endpoint, 30);
    let handler = Handler::new(through(&proxy, &moto));
    moto.start_recording();
    let summary = handler
        .handle(&RULE, events::scheduled("ebs-volume-encrypted", json!({})))
        .await
        .unwrap();
    let recorded = moto.recording();
    assert!(
        proxy.throttled.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "faults were injected"
    );
    let mut sent: Vec<String> = evaluations(&recorded).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(sent.len(), 1000, "each evaluation once");
    sent.sort();
    ids.sort();
    assert_eq!(sent, ids);
    assert_eq!(put_evaluations(&recorded).len(), 10);
    assert_eq!(summary.counts.compliant, 1000);
}

#[tokio::test]
async fn when_every_call_is_throttled_the_invocation_fails_and_reports_nothing() {
    let Some(moto) = Moto::start() else { return };
    seed(&moto, 3).await;
    let proxy = FaultProxy::start(&moto.endpoint, 100);
    let handler = Handler::new(through(&proxy, &moto));
    moto.start_recording();
    let err = handler
        .handle(&RULE, events::scheduled("ebs-volume-encrypted", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("ec2:DescribeVolumes") && err.to_string().contains("RequestLimitExceeded"),
        "{err}"
    );
    assert!(put_evaluations(&moto.recording()).is_empty());
    assert_eq!(proxy.forwarded.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn under_mixed_faults_every_evaluation_arrives_exactly_once() {
    let Some(moto) = Moto::start() else { return };
    let mut ids = seed(&moto, 200).await;
    // Throttling, 500s, connection resets and slow answers.
    let proxy = FaultProxy::mixed(&moto.endpoint, 40);
    let handler = Handler::new(through(&proxy, &moto));
    moto.start_recording();
    handler
        .handle(&RULE, events::scheduled("ebs-volume-encrypted", json!({})))
        .await
        .unwrap();
    let recorded = moto.recording();
    assert!(
        proxy.throttled.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "faults were injected"
    );
    let mut sent: Vec<String> = evaluations(&recorded).into_iter().map(|(_, id, _)| id).collect();
    sent.sort();
    ids.sort();
    assert_eq!(sent, ids, "each evaluation exactly once");
}

#[tokio::test]
async fn failed_evaluations_are_sent_again_exactly_those() {
    let Some(moto) = Moto::start() else { return };
    seed(&moto, 150).await;
    let proxy = FaultProxy::rejecting_two_evaluations_once(&moto.endpoint);
    let handler = Handler::new(through(&proxy, &moto));
    moto.start_recording();
    handler
        .handle(&RULE, events::scheduled("ebs-volume-encrypted", json!({})))
        .await
        .unwrap();
    let bodies = put_evaluations(&moto.recording());
    let ids = |b: &serde_json::Value| -> Vec<String> {
        b["Evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["ComplianceResourceId"].as_str().unwrap().to_owned())
            .collect()
    };
    // First batch of 100, then exactly its first two again, then the last 50.
    assert_eq!(bodies.iter().map(|b| ids(b).len()).collect::<Vec<_>>(), [100, 2, 50]);
    assert_eq!(ids(&bodies[1]), ids(&bodies[0])[..2].to_vec());
}
