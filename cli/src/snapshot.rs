//! `atrest snapshot`: offline evaluation of AWS Config snapshot and history
//! files. Key facts come from the files' `AWS::KMS::Key` (and
//! `AWS::KMS::Alias`) items; no AWS call is made. What cannot be judged
//! offline is reported NON_COMPLIANT with a reason, never COMPLIANT.

use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::{DryRun, Environment, Error, Evaluation, Invocation, KeyDirectory, Trigger, Verdict};

use crate::inputs::read_items;
use crate::output::{emit, render, Finding, Report};
use crate::{exit_code, now_text, params_arg, CliError, OutputArgs};

#[derive(clap::Args)]
pub struct Args {
    /// Config snapshot or configuration-history files (JSON, plain or .gz).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Only these rules (repeatable; all by default).
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// A rule parameter, RULE.NAME=VALUE (repeatable).
    #[arg(long = "param")]
    params: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let (selected, notes) = params_arg::select(&args.rules, &args.params)?;
    let mut items = Vec::new();
    for file in &args.files {
        items.extend(read_items(file)?);
    }
    for note in notes {
        eprintln!("{note}");
    }
    let env = Environment {
        aws: None,
        keys: KeyDirectory::new(ItemKeySource::from_items(&items), DEFAULT_TTL),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let mut findings = Vec::new();
    runtime.block_on(async {
        for params_arg::Selected { rule, params, raw } in &selected {
            let spec = rule.spec();
            for item in items.iter().filter(|i| spec.covers(&i.resource_type)) {
                let invocation = Invocation {
                    rule_name: None,
                    rule_arn: None,
                    account_id: item.account_id.clone(),
                    result_token: None,
                    execution_role_arn: None,
                    event_left_scope: false,
                    parameters: raw.clone(),
                    trigger: Trigger::Change(Box::new(item.clone())),
                };
                let mut sink = DryRun::default();
                let evaluations = match atrest_common::run(*rule, &invocation, params, &env, &mut sink).await {
                    Ok(_) => sink.evaluations,
                    // Not judged offline (or not judgeable from the record):
                    // say so, and never as COMPLIANT.
                    Err(e @ (Error::Unsupported(_) | Error::Item { .. } | Error::Event(_))) => {
                        let time = item
                            .capture_time
                            .unwrap_or_else(|| aws_smithy_types::DateTime::from(std::time::SystemTime::now()));
                        let verdict = Verdict::non_compliant(format!("Not verifiable offline: {e}"));
                        vec![
                            Evaluation::new(&item.resource_type, &item.resource_id, verdict, time).map_err(
                                |source| CliError::Rule {
                                    path: "snapshot".into(),
                                    source,
                                },
                            )?,
                        ]
                    }
                    Err(source) => {
                        return Err(CliError::Rule {
                            path: spec.id.into(),
                            source,
                        })
                    }
                };
                findings.extend(
                    evaluations
                        .into_iter()
                        .map(|e| Finding::new(spec.id, e, item.account_id.clone(), item.aws_region.clone())),
                );
            }
        }
        Ok::<(), CliError>(())
    })?;
    let report = Report {
        findings: &findings,
        rules: selected.iter().map(|s| s.rule.spec()).collect(),
        source: args
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        generated_at: now_text(),
    };
    emit(&render(&report, args.output.format())?, args.output.output.as_deref())?;
    Ok(exit_code(&findings))
}
