//! The Lambda side: `serve(&RULE)` runs a rule under the Lambda runtime,
//! with JSON logs, one summary line per invocation, and errors reported as
//! diagnostics that say whether Config's retry may help.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub use lambda_runtime::Error as LambdaError;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::aws::AwsContext;
use crate::error::Error;
use crate::evaluation::Evaluation;
use crate::event::Invocation;
use crate::prepare::Prepared;
use crate::report::{ConfigReporter, Counts, Deadline, DryRun, EvaluationSink};
use crate::rule::Rule;
use crate::run::{run_until, Environment, Outcome};

/// What one invocation did; returned to Lambda and logged.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub rule: &'static str,
    pub message_type: &'static str,
    pub evaluated: usize,
    #[serde(flatten)]
    pub counts: Counts,
    pub stale_retired: usize,
    pub aws_calls: BTreeMap<String, u64>,
    pub duration_ms: u128,
}

/// The state a warm container keeps between invocations: AWS access and
/// key caches, one set per execution role (or the function's own).
pub struct Handler {
    base: AwsContext,
    environments: Mutex<HashMap<Option<String>, Arc<Environment>>>,
    deadline_margin: Duration,
}

/// How long before the Lambda deadline a sweep stops, by default: time to
/// deliver the last batch, withdraw the earlier COMPLIANT results of the
/// resources it did not reach (a page of earlier results and a
/// PutEvaluations batch per 100), and report.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(15);

impl Handler {
    pub fn new(base: AwsContext) -> Self {
        Handler {
            base,
            environments: Mutex::new(HashMap::new()),
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }

    /// Changes how long before the deadline a sweep stops.
    pub fn with_deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = margin;
        self
    }

    /// The standard AWS configuration of the function.
    pub async fn from_env() -> Self {
        Self::new(AwsContext::from_env().await)
    }

    async fn environment(&self, role: Option<&str>, session: &str) -> Arc<Environment> {
        let mut envs = self.environments.lock().await;
        let key = role.map(str::to_owned);
        if let Some(env) = envs.get(&key) {
            return env.clone();
        }
        let aws = match role {
            Some(arn) => self.base.assume_role(arn, session).await,
            None => self.base.clone(),
        };
        let env = Arc::new(Environment::live(aws));
        envs.insert(key, env.clone());
        env
    }

    /// Handles one raw Config event: decode, check parameters (before any
    /// AWS call), evaluate, deliver.
    pub async fn handle(&self, rule: &dyn Rule, event: Value) -> Result<Summary, Error> {
        self.handle_until(rule, event, None).await
    }

    /// [`Handler::handle`] with the invocation's deadline: a sweep stops
    /// before it, delivering what it evaluated and failing with an error
    /// that says what was left. Logs one line for the invocation.
    pub async fn handle_until(
        &self,
        rule: &dyn Rule,
        event: Value,
        deadline: Option<SystemTime>,
    ) -> Result<Summary, Error> {
        let started = Instant::now();
        let deadline = match deadline {
            Some(at) => Deadline::at(
                started + at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO),
                self.deadline_margin,
            ),
            None => Deadline::none(),
        };
        let invocation = Invocation::from_value(event)?;
        let invoked = self.invoke(rule, &invocation, deadline, Delivery::Config).await?;
        let summary = invoked.result.map(|outcome| Summary {
            rule: rule.spec().id,
            message_type: outcome.message_type,
            evaluated: outcome.counts.total(),
            counts: outcome.counts,
            stale_retired: outcome.stale,
            aws_calls: invoked.aws_calls.clone(),
            duration_ms: started.elapsed().as_millis(),
        });
        log(
            rule,
            &invocation,
            &summary,
            invoked.delivered,
            &invoked.aws_calls,
            started,
        );
        summary
    }

    /// The handler's path for a decoded invocation: checks it against the
    /// rule ([`Prepared`]), takes the AWS access of its execution role (or
    /// the function's own), runs the rule and delivers as `delivery` says.
    /// `Err` before anything ran; else what the run gave, with what was
    /// delivered and called on the way.
    pub async fn invoke(
        &self,
        rule: &dyn Rule,
        invocation: &Invocation,
        deadline: Deadline,
        delivery: Delivery<'_>,
    ) -> Result<Invoked, Error> {
        let spec = rule.spec();
        let prepared = Prepared::new(spec, invocation)?;
        let (send, keep) = match delivery {
            Delivery::Config => (true, None),
            Delivery::Keep(dry) => (false, Some(dry)),
            Delivery::ConfigAndKeep(dry) => (true, Some(dry)),
        };
        let token = if send { Some(prepared.result_token()?) } else { None };
        let role = prepared.execution_role()?;
        let env = self.environment(role.as_deref(), &format!("atrest-{}", spec.id)).await;
        let aws = env.aws.as_ref().unwrap_or(&self.base);
        let before = aws.calls().snapshot();
        let mut sink = Deliver {
            config: token.map(|t| ConfigReporter::new(aws.config(), t)),
            keep,
        };
        let result = run_until(rule, invocation, &prepared.params, &env, &mut sink, deadline).await;
        let delivered = sink.config.as_ref().map_or(0, ConfigReporter::delivered);
        Ok(Invoked {
            result,
            delivered,
            aws_calls: aws.calls().since(&before),
        })
    }
}

/// Where the evaluations of [`Handler::invoke`] go.
pub enum Delivery<'a> {
    /// To AWS Config with PutEvaluations, under the event's result token
    /// (`TESTMODE` selects TestMode): the Lambda function.
    Config,
    /// Kept, not sent: a dry run.
    Keep(&'a mut DryRun),
    /// Sent to AWS Config, and a copy kept.
    ConfigAndKeep(&'a mut DryRun),
}

/// What [`Handler::invoke`] did.
pub struct Invoked {
    pub result: Result<Outcome, Error>,
    /// Evaluations AWS Config accepted.
    pub delivered: usize,
    /// The AWS calls made, by operation.
    pub aws_calls: BTreeMap<String, u64>,
}

/// The sink of a [`Delivery`]: to Config, kept, or both.
struct Deliver<'a> {
    config: Option<ConfigReporter>,
    keep: Option<&'a mut DryRun>,
}

#[async_trait::async_trait]
impl EvaluationSink for Deliver<'_> {
    async fn push(&mut self, evaluation: Evaluation) -> Result<(), Error> {
        match (&mut self.config, &mut self.keep) {
            (Some(config), Some(keep)) => {
                keep.push(evaluation.clone()).await?;
                config.push(evaluation).await
            }
            (Some(config), None) => config.push(evaluation).await,
            (None, Some(keep)) => keep.push(evaluation).await,
            (None, None) => Ok(()),
        }
    }
    async fn flush(&mut self) -> Result<(), Error> {
        match &mut self.config {
            Some(config) => config.flush().await,
            None => Ok(()),
        }
    }
}

/// The one log line of an invocation: it observes, it decides nothing.
fn log(
    rule: &dyn Rule,
    invocation: &Invocation,
    summary: &Result<Summary, Error>,
    delivered: usize,
    aws_calls: &BTreeMap<String, u64>,
    started: Instant,
) {
    match summary {
        Ok(summary) => tracing::info!(
            rule = summary.rule,
            message_type = summary.message_type,
            evaluated = summary.evaluated,
            compliant = summary.counts.compliant,
            non_compliant = summary.counts.non_compliant,
            not_applicable = summary.counts.not_applicable,
            stale_retired = summary.stale_retired,
            delivered,
            aws_calls = ?summary.aws_calls,
            duration_ms = summary.duration_ms as u64,
            "invocation complete"
        ),
        Err(e) => tracing::error!(
            rule = rule.spec().id,
            message_type = invocation.trigger.message_type(),
            error_type = e.kind_name(),
            retryable = e.is_retryable(),
            delivered,
            aws_calls = ?aws_calls,
            duration_ms = started.elapsed().as_millis() as u64,
            error = %e,
            "invocation failed"
        ),
    }
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        let retry = if e.is_retryable() { "Retryable." } else { "" };
        Diagnostic {
            error_type: format!("atrest.{retry}{}", e.kind_name()),
            error_message: e.to_string(),
        }
    }
}

/// JSON logs to stdout; the level from `RUST_LOG` or Lambda's
/// `AWS_LAMBDA_LOG_LEVEL`, `info` by default.
pub fn init_logging() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_ascii_lowercase()))
        .unwrap_or_else(|_| "info".into());
    let filter =
        tracing_subscriber::EnvFilter::try_new(&level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .flatten_event(true)
        .try_init();
}

/// The system CA bundles, by distribution: Amazon Linux 2023 (the
/// `provided.al2023` runtime), then Debian and Ubuntu.
const CA_BUNDLES: [&str; 2] = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"];

/// Points `SSL_CERT_FILE` at the system's CA bundle when neither it nor
/// `SSL_CERT_DIR` is set. Without it, the SDK's HTTPS client
/// (rustls-native-certs, through openssl-probe) reads the same roots twice
/// at start: the bundle, then every file of the certificate directory (146
/// files on Debian, most of the rule's cold init). The trusted roots are
/// the same: the distribution builds the bundle from that directory.
/// Called first thing in `main`, before any thread exists.
fn prefer_ca_bundle() {
    let set = |name| std::env::var_os(name).is_some();
    if let Some(bundle) = ca_bundle(set("SSL_CERT_FILE") || set("SSL_CERT_DIR"), |p| {
        std::path::Path::new(p).is_file()
    }) {
        std::env::set_var("SSL_CERT_FILE", bundle);
    }
}

/// The bundle to point `SSL_CERT_FILE` at: none when the environment names
/// its own roots, else the first system bundle that exists.
fn ca_bundle(roots_named: bool, exists: impl Fn(&str) -> bool) -> Option<&'static str> {
    if roots_named {
        return None;
    }
    CA_BUNDLES.into_iter().find(|p| exists(p))
}

/// Runs `rule` as a Lambda function. Call it from the rule's binary:
/// `fn main() -> Result<(), lambda_runtime::Error> { serve(&RULE) }`.
pub fn serve(rule: &'static dyn Rule) -> Result<(), LambdaError> {
    prefer_ca_bundle();
    init_logging();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let handler = Arc::new(Handler::from_env().await);
        lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
            let handler = handler.clone();
            async move {
                let deadline = event.context.deadline();
                handler.handle_until(rule, event.payload, Some(deadline)).await
            }
        }))
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::ca_bundle;

    #[test]
    fn the_system_bundle_is_preferred_unless_the_environment_names_its_roots() {
        let al2023 = |p: &str| p.starts_with("/etc/pki/");
        let debian = |p: &str| p.starts_with("/etc/ssl/");
        assert_eq!(ca_bundle(false, al2023), Some("/etc/pki/tls/certs/ca-bundle.crt"));
        assert_eq!(ca_bundle(false, debian), Some("/etc/ssl/certs/ca-certificates.crt"));
        assert_eq!(ca_bundle(true, debian), None, "SSL_CERT_FILE or SSL_CERT_DIR given");
        assert_eq!(ca_bundle(false, |_| false), None, "no known bundle: the default search");
    }
}
