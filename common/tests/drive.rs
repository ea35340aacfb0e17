//! The sweep driver as a pipeline: a page's resources judged a bounded
//! few at a time, in listing order; the next page listed while the current
//! one is judged; deliveries going out while judging goes on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use atrest_common::drive::CONCURRENT_JUDGEMENTS;
use atrest_common::report::MAX_BATCH;
use atrest_common::sweep::{chain, later_page, BoxPages};
use atrest_common::testing::mock_aws;
use atrest_common::{
    run, DryRun, Environment, Error, Evaluation, EvaluationSink, Found, Invocation, Parameters, PciDss, Rule,
    RuleContext, RuleSpec, Sweep, Triggers, Verdict,
};
use aws_smithy_mocks::RuleMode;

static SPEC: RuleSpec = RuleSpec {
    id: "drive-probe",
    description: "Judges what a test sweep lists.",
    evidence: "COMPLIANT proves: nothing (a test rule).",
    resource_types: &["AWS::EC2::Volume"],
    triggers: Triggers {
        change: false,
        periodic: true,
    },
    parameters: &[],
    own_iam_actions: &[],
    pci_dss: PciDss {
        v3_2_1: &["3.4"],
        v4_0: &["3.5.1"],
    },
    timeout_seconds: 60,
    memory_mb: 128,
    remediation: None,
};

/// What the judgements of a test sweep did.
#[derive(Default)]
struct Gauge {
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    done: AtomicUsize,
    /// Judgements of the first page still running when the second page was asked for.
    first_page_running_at_second_read: AtomicUsize,
}

/// A sweep of `pages` pages of `per_page` volumes, each judged in `judging`.
struct PagedSweep {
    pages: usize,
    per_page: usize,
    judging: Duration,
    gauge: Arc<Gauge>,
}

impl PagedSweep {
    fn page(&self, p: usize) -> Vec<Found<'static>> {
        (0..self.per_page)
            .map(|i| {
                let gauge = self.gauge.clone();
                let judging = self.judging;
                Found::new("AWS::EC2::Volume", format!("vol-{p}-{i:04}"), async move {
                    let now = gauge.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    gauge.most_in_flight.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(judging).await;
                    gauge.in_flight.fetch_sub(1, Ordering::SeqCst);
                    gauge.done.fetch_add(1, Ordering::SeqCst);
                    Ok(Some(Verdict::compliant("ok")))
                })
            })
            .collect()
    }
}

#[async_trait]
impl Rule for PagedSweep {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }
    fn sweep<'a>(&'a self, _ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let parts: Vec<BoxPages<'a, Found<'a>>> = (0..self.pages)
            .map(|p| {
                let gauge = self.gauge.clone();
                let first_page_size = self.per_page;
                let page = self.page(p);
                Box::new(later_page(async move {
                    if p == 1 {
                        let unfinished = first_page_size.saturating_sub(gauge.done.load(Ordering::SeqCst));
                        gauge
                            .first_page_running_at_second_read
                            .store(unfinished, Ordering::SeqCst);
                    }
                    Ok(page)
                })) as BoxPages<'a, Found<'a>>
            })
            .collect();
        Ok(Box::new(chain(parts)))
    }
}

fn scheduled() -> Invocation {
    let text = std::fs::read_to_string(format!("{}/tests/data/scheduled.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Invocation::from_value(serde_json::from_str(&text).unwrap()).unwrap()
}

fn no_aws() -> Environment {
    Environment::live(mock_aws(RuleMode::MatchAny, &[]))
}

async fn sweep_into(rule: &PagedSweep, sink: &mut dyn EvaluationSink) {
    let invocation = scheduled();
    let params = Parameters::parse(SPEC.parameters, &invocation.parameters).unwrap();
    run(rule, &invocation, &params, &no_aws(), sink).await.unwrap();
}

fn sweep(pages: usize, per_page: usize, judging_ms: u64) -> PagedSweep {
    PagedSweep {
        pages,
        per_page,
        judging: Duration::from_millis(judging_ms),
        gauge: Arc::default(),
    }
}

#[tokio::test]
async fn a_pages_resources_are_judged_a_bounded_few_at_a_time_and_reported_in_listing_order() {
    let rule = sweep(1, 40, 10);
    let mut sink = DryRun::default();
    sweep_into(&rule, &mut sink).await;
    assert_eq!(rule.gauge.most_in_flight.load(Ordering::SeqCst), CONCURRENT_JUDGEMENTS);
    let ids: Vec<&str> = sink.evaluations.iter().map(|e| e.resource_id.as_str()).collect();
    let listed: Vec<String> = (0..40).map(|i| format!("vol-0-{i:04}")).collect();
    assert_eq!(ids, listed);
}

#[tokio::test]
async fn the_next_page_is_listed_while_the_current_one_is_judged() {
    let rule = sweep(2, 16, 30);
    let mut sink = DryRun::default();
    sweep_into(&rule, &mut sink).await;
    assert_eq!(sink.evaluations.len(), 32);
    assert!(
        rule.gauge.first_page_running_at_second_read.load(Ordering::SeqCst) > 0,
        "the second page was asked for only after the first was judged"
    );
}

/// A sink whose every full batch takes `sending` to deliver, noting how
/// many judgements finished meanwhile.
struct SlowSender {
    held: Vec<Evaluation>,
    delivered: Vec<Evaluation>,
    sending: Duration,
    gauge: Arc<Gauge>,
    judged_while_sending: usize,
}

#[async_trait]
impl EvaluationSink for SlowSender {
    async fn push(&mut self, evaluation: Evaluation) -> Result<(), Error> {
        self.held.push(evaluation);
        if self.held.len() == MAX_BATCH {
            let before = self.gauge.done.load(Ordering::SeqCst);
            tokio::time::sleep(self.sending).await;
            self.judged_while_sending += self.gauge.done.load(Ordering::SeqCst) - before;
            self.delivered.append(&mut self.held);
        }
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), Error> {
        self.delivered.append(&mut self.held);
        Ok(())
    }
}

#[tokio::test]
async fn batches_are_delivered_while_judging_goes_on_and_each_resource_arrives_once_in_order() {
    let rule = sweep(1, 250, 2);
    let mut sink = SlowSender {
        held: Vec::new(),
        delivered: Vec::new(),
        sending: Duration::from_millis(100),
        gauge: rule.gauge.clone(),
        judged_while_sending: 0,
    };
    sweep_into(&rule, &mut sink).await;
    assert!(sink.judged_while_sending > 0, "judging stopped while a batch was sent");
    let ids: Vec<&str> = sink.delivered.iter().map(|e| e.resource_id.as_str()).collect();
    let listed: Vec<String> = (0..250).map(|i| format!("vol-0-{i:04}")).collect();
    assert_eq!(ids, listed);
}
