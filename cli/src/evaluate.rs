//! `atrest evaluate`: a rule's Lambda handler path on Config event files.

use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::{aws::AwsContext, ConfigReporter, DryRun, Environment, EvaluationSink, KeyDirectory, Prepared};

use crate::error::CliError;
use crate::inputs::{read_event, read_items};
use crate::output::{emit_report, OutputArgs};
use crate::report::{exit_code, Finding, Report};

#[derive(clap::Args)]
pub struct Args {
    /// The rule to run (see `atrest rules`).
    #[arg(long)]
    rule: String,
    /// Config rule event files (JSON), evaluated in turn.
    #[arg(long, required = true, num_args = 1..)]
    event: Vec<PathBuf>,
    /// Take key facts from the AWS::KMS::Key items of this Config snapshot
    /// (or JSON list of items) instead of calling KMS: no AWS access needed.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Send the evaluations to AWS Config with PutEvaluations (the event's resultToken).
    #[arg(long, conflicts_with = "keys")]
    put: bool,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let rule = atrest_rules::find(&args.rule).ok_or_else(|| CliError::UnknownRule(args.rule.clone()))?;
    // Read everything before evaluating anything: bad input reports nothing.
    let invocations = args
        .event
        .iter()
        .map(|p| Ok((p.display().to_string(), read_event(p)?)))
        .collect::<Result<Vec<_>, CliError>>()?;
    // The handler's first step, for each event: parameters checked before
    // anything is evaluated.
    for (path, invocation) in &invocations {
        Prepared::new(rule.spec(), invocation).map_err(|source| CliError::Rule {
            path: path.clone(),
            source,
        })?;
    }
    let key_items = args.keys.as_deref().map(read_items).transpose()?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let findings = runtime.block_on(async {
        let env = match key_items {
            Some(items) => Environment {
                aws: None,
                keys: KeyDirectory::new(ItemKeySource::from_items(&items), DEFAULT_TTL),
            },
            None => Environment::live(AwsContext::from_env().await),
        };
        let mut findings = Vec::new();
        for (path, invocation) in &invocations {
            let fail = |source| CliError::Rule {
                path: path.clone(),
                source,
            };
            let prepared = Prepared::new(rule.spec(), invocation).map_err(fail)?;
            let mut dry = DryRun::default();
            if args.put {
                let aws = env
                    .aws
                    .as_ref()
                    .ok_or_else(|| fail(atrest_common::Error::Unsupported("--put needs AWS access".into())))?;
                let token = prepared.result_token().map_err(fail)?;
                let mut reporter = Tee {
                    inner: ConfigReporter::new(aws.config(), token),
                    copy: &mut dry,
                };
                atrest_common::run(rule, invocation, &prepared.params, &env, &mut reporter)
                    .await
                    .map_err(fail)?;
            } else {
                atrest_common::run(rule, invocation, &prepared.params, &env, &mut dry)
                    .await
                    .map_err(fail)?;
            }
            let account = invocation.account_id.clone();
            findings.extend(
                dry.evaluations
                    .into_iter()
                    .map(|e| Finding::new(rule.spec().id, e, account.clone(), None)),
            );
        }
        Ok::<_, CliError>(findings)
    })?;

    let report = Report::new(&findings, vec![rule.spec()], Report::files(&args.event));
    emit_report(&report, &args.output)?;
    Ok(exit_code(&findings))
}

/// Sends to Config and keeps a copy for printing.
struct Tee<'a> {
    inner: ConfigReporter,
    copy: &'a mut DryRun,
}

#[async_trait::async_trait]
impl EvaluationSink for Tee<'_> {
    async fn push(&mut self, evaluation: atrest_common::Evaluation) -> Result<(), atrest_common::Error> {
        self.copy.push(evaluation.clone()).await?;
        self.inner.push(evaluation).await
    }
    async fn flush(&mut self) -> Result<(), atrest_common::Error> {
        self.inner.flush().await
    }
}
