//! Where evaluations go: AWS Config (PutEvaluations in batches of at most
//! 100, with retries), or a dry-run list for the CLI and tests.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_config::types::ComplianceType;
use aws_smithy_types::DateTime;

use crate::error::{AwsError, Error};
use crate::evaluation::{Compliance, Evaluation, Verdict};
use crate::event::TEST_MODE_TOKEN;

/// PutEvaluations takes at most this many evaluations per call.
pub const MAX_BATCH: usize = 100;

/// A destination for evaluations.
#[async_trait]
pub trait EvaluationSink: Send {
    async fn push(&mut self, evaluation: Evaluation) -> Result<(), Error>;
    /// Delivers whatever is still held.
    async fn flush(&mut self) -> Result<(), Error>;
}

/// Collects evaluations instead of sending them.
#[derive(Debug, Default)]
pub struct DryRun {
    pub evaluations: Vec<Evaluation>,
}

#[async_trait]
impl EvaluationSink for DryRun {
    async fn push(&mut self, evaluation: Evaluation) -> Result<(), Error> {
        self.evaluations.push(evaluation);
        Ok(())
    }
    async fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Sends evaluations to AWS Config with PutEvaluations.
///
/// Throttling and 5xx are retried by the SDK (see
/// [`retry_config`](crate::aws::retry_config)); evaluations Config lists as
/// `FailedEvaluations` are sent again, alone, with backoff, up to
/// `max_rounds` times; past that the delivery fails with an error.
pub struct ConfigReporter {
    client: aws_sdk_config::Client,
    result_token: String,
    test_mode: bool,
    pending: Vec<Evaluation>,
    delivered: usize,
    calls: usize,
    max_rounds: u32,
    backoff: Duration,
}

impl ConfigReporter {
    /// A reporter for one invocation; the result token `TESTMODE` selects
    /// PutEvaluations' `TestMode`.
    pub fn new(client: aws_sdk_config::Client, result_token: impl Into<String>) -> Self {
        let result_token = result_token.into();
        ConfigReporter {
            client,
            test_mode: result_token == TEST_MODE_TOKEN,
            result_token,
            pending: Vec::with_capacity(MAX_BATCH),
            delivered: 0,
            calls: 0,
            max_rounds: 5,
            backoff: Duration::from_millis(250),
        }
    }

    /// Changes the re-send policy for FailedEvaluations.
    pub fn with_failed_retries(mut self, max_rounds: u32, backoff: Duration) -> Self {
        self.max_rounds = max_rounds.max(1);
        self.backoff = backoff;
        self
    }

    /// Evaluations Config has accepted so far.
    pub fn delivered(&self) -> usize {
        self.delivered
    }

    /// PutEvaluations calls made so far.
    pub fn calls(&self) -> usize {
        self.calls
    }

    async fn send(&mut self, mut batch: Vec<Evaluation>) -> Result<(), Error> {
        let mut last_detail = String::new();
        for round in 1..=self.max_rounds {
            if round > 1 {
                tokio::time::sleep(self.backoff * 2u32.saturating_pow(round - 2)).await;
            }
            let evaluations = batch.iter().map(to_sdk).collect::<Result<Vec<_>, _>>()?;
            self.calls += 1;
            let out = self
                .client
                .put_evaluations()
                .result_token(&self.result_token)
                .set_evaluations(Some(evaluations))
                .set_test_mode(self.test_mode.then_some(true))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("config", "PutEvaluations", &e))?;
            let failed = out.failed_evaluations();
            if failed.is_empty() {
                self.delivered += batch.len();
                return Ok(());
            }
            let before = batch.len();
            batch.retain(|e| {
                failed.iter().any(|f| {
                    f.compliance_resource_id() == e.resource_id && f.compliance_resource_type() == e.resource_type
                })
            });
            if batch.is_empty() {
                // Config named evaluations we did not send: nothing to resend.
                self.delivered += before;
                return Ok(());
            }
            self.delivered += before - batch.len();
            last_detail = batch
                .iter()
                .take(3)
                .map(|e| format!("{} {}", e.resource_type, e.resource_id))
                .collect::<Vec<_>>()
                .join(", ");
        }
        Err(Error::Delivery {
            failed: batch.len(),
            attempts: self.max_rounds,
            detail: last_detail,
        })
    }
}

fn to_sdk(e: &Evaluation) -> Result<aws_sdk_config::types::Evaluation, Error> {
    let compliance = match e.compliance {
        Compliance::Compliant => ComplianceType::Compliant,
        Compliance::NonCompliant => ComplianceType::NonCompliant,
        Compliance::NotApplicable => ComplianceType::NotApplicable,
    };
    aws_sdk_config::types::Evaluation::builder()
        .compliance_resource_type(&e.resource_type)
        .compliance_resource_id(&e.resource_id)
        .compliance_type(compliance)
        .set_annotation(e.annotation.clone())
        .ordering_timestamp(e.ordering_timestamp)
        .build()
        .map_err(|err| Error::Evaluation(err.to_string()))
}

#[async_trait]
impl EvaluationSink for ConfigReporter {
    async fn push(&mut self, evaluation: Evaluation) -> Result<(), Error> {
        self.pending.push(evaluation);
        if self.pending.len() >= MAX_BATCH {
            let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(MAX_BATCH));
            self.send(batch).await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.pending);
        self.send(batch).await
    }
}

/// Evaluations reported, by compliance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.compliant + self.non_compliant + self.not_applicable
    }
    /// Counts one more result of compliance `c`.
    pub fn add(&mut self, c: Compliance) {
        match c {
            Compliance::Compliant => self.compliant += 1,
            Compliance::NonCompliant => self.non_compliant += 1,
            Compliance::NotApplicable => self.not_applicable += 1,
        }
    }
}

/// When an invocation must stop, and how much time flushing needs.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Option<Instant>,
    /// Stop when less than this is left.
    pub margin: Duration,
}

impl Deadline {
    /// No deadline (the CLI, tests).
    pub fn none() -> Self {
        Deadline {
            at: None,
            margin: Duration::ZERO,
        }
    }

    /// Stop `margin` before `at`.
    pub fn at(at: Instant, margin: Duration) -> Self {
        Deadline { at: Some(at), margin }
    }

    pub(crate) fn running_short(&self) -> bool {
        self.at
            .is_some_and(|at| at.saturating_duration_since(Instant::now()) < self.margin)
    }
}

/// What a rule pushes its verdicts into: dates them, counts them, reports
/// each resource once, and forwards them to the sink.
pub struct Outbox<'a> {
    sink: &'a mut dyn EvaluationSink,
    timestamp: DateTime,
    counts: Counts,
    seen: HashSet<(String, String)>,
    deadline: Deadline,
}

impl<'a> Outbox<'a> {
    pub fn new(sink: &'a mut dyn EvaluationSink, timestamp: DateTime) -> Self {
        Outbox {
            sink,
            timestamp,
            counts: Counts::default(),
            seen: HashSet::new(),
            deadline: Deadline::none(),
        }
    }

    /// Stops sweeps at `deadline`.
    pub fn with_deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = deadline;
        self
    }

    /// The deadline sweeps stop at.
    pub(crate) fn deadline(&self) -> Deadline {
        self.deadline
    }

    /// Ends a sweep the deadline cut short: delivers what is held and fails
    /// with an error naming what was left (`left`: resources of the page
    /// being judged).
    pub(crate) async fn cut(&mut self, left: usize) -> Result<(), Error> {
        self.sink.flush().await?;
        Err(Error::Deadline {
            reported: self.counts.total(),
            left,
        })
    }

    /// Reports a verdict on one resource; a resource already reported in
    /// this invocation is skipped (the first verdict stands).
    pub async fn push(&mut self, resource_type: &str, resource_id: &str, verdict: Verdict) -> Result<(), Error> {
        self.push_at(resource_type, resource_id, verdict, self.timestamp).await
    }

    /// Like [`Outbox::push`], with an explicit OrderingTimestamp.
    async fn push_at(
        &mut self,
        resource_type: &str,
        resource_id: &str,
        verdict: Verdict,
        timestamp: DateTime,
    ) -> Result<(), Error> {
        let key = (resource_type.to_owned(), resource_id.to_owned());
        if self.seen.contains(&key) {
            return Ok(());
        }
        let evaluation = Evaluation::new(resource_type, resource_id, verdict, timestamp)?;
        self.counts.add(evaluation.compliance);
        self.sink.push(evaluation).await?;
        self.seen.insert(key);
        Ok(())
    }

    /// Whether a resource was reported in this invocation.
    pub fn has_reported(&self, resource_type: &str, resource_id: &str) -> bool {
        self.seen.contains(&(resource_type.to_owned(), resource_id.to_owned()))
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Delivers what the sink still holds.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.sink.flush().await
    }
}
