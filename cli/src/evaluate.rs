//! `atrest evaluate`: a rule's Lambda handler path on Config event files.

use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::lambda::{Delivery, Handler};
use atrest_common::{aws::AwsContext, Deadline, DryRun, Environment, KeyDirectory, Prepared};

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
        // Live: the Lambda handler's own path (execution role included);
        // offline: the same run on key facts from the snapshot.
        let mode = match key_items {
            None => Mode::Live(Handler::new(AwsContext::from_env().await)),
            Some(items) => Mode::Offline(Environment {
                aws: None,
                keys: KeyDirectory::new(ItemKeySource::from_items(&items), DEFAULT_TTL),
            }),
        };
        let mut findings = Vec::new();
        for (path, invocation) in &invocations {
            let fail = |source| CliError::Rule {
                path: path.clone(),
                source,
            };
            let mut dry = DryRun::default();
            match &mode {
                Mode::Live(handler) => {
                    let delivery = if args.put {
                        Delivery::ConfigAndKeep(&mut dry)
                    } else {
                        Delivery::Keep(&mut dry)
                    };
                    let invoked = handler
                        .invoke(rule, invocation, Deadline::none(), delivery)
                        .await
                        .map_err(fail)?;
                    invoked.result.map_err(fail)?;
                }
                Mode::Offline(env) => {
                    let prepared = Prepared::new(rule.spec(), invocation).map_err(fail)?;
                    atrest_common::run(rule, invocation, &prepared.params, env, &mut dry)
                        .await
                        .map_err(fail)?;
                }
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
    emit_report(&report, &args.output, false)?;
    Ok(exit_code(&report))
}

/// How the events are evaluated.
#[allow(clippy::large_enum_variant)] // one per command run
enum Mode {
    /// With AWS access, through the Lambda handler.
    Live(Handler),
    /// Key facts from a snapshot's items; no AWS access.
    Offline(Environment),
}
