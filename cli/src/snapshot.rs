//! `atrest snapshot`: offline evaluation of AWS Config snapshot and history
//! files. Key facts come from the files' `AWS::KMS::Key` (and
//! `AWS::KMS::Alias`) items; no AWS call is made. What cannot be judged
//! offline is reported NON_COMPLIANT with a reason, never COMPLIANT.

use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::{
    DryRun, Environment, Error, Evaluation, Invocation, KeyDirectory, Parameters, Rule, Trigger, Verdict,
};

use crate::inputs::{ItemFile, Items};
use crate::output::{emit_report, Finding, Report};
use crate::{exit_code, params_arg, CliError, OutputArgs};

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
    let files = args
        .files
        .iter()
        .map(|f| ItemFile::read(f))
        .collect::<Result<Vec<_>, _>>()?;
    let lists = files.iter().map(ItemFile::items).collect::<Result<Vec<_>, _>>()?;
    // Key facts first, from wherever the key items are in the files.
    let mut key_items = Vec::new();
    for list in &lists {
        key_items.extend(list.kms_items()?);
    }
    let env = Environment {
        aws: None,
        keys: KeyDirectory::new(ItemKeySource::from_items(&key_items), DEFAULT_TTL),
    };
    let per_rule = evaluate_items(&lists, &selected, &env)?;
    // Only once every item was read: bad input gets its error alone.
    for note in notes {
        eprintln!("{note}");
    }
    let findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
    let rules = selected.iter().map(|s| s.rule.spec()).collect();
    let report = Report::new(&findings, rules, Report::files(&args.files));
    emit_report(&report, &args.output)?;
    let code = exit_code(&findings);
    // The process ends here: freeing the findings one by one would cost
    // time, and the operating system reclaims them whole.
    std::mem::forget(findings);
    Ok(code)
}

/// The findings of the items of `lists`, per selected rule: item by item,
/// each decoded, judged by every rule that covers it, and dropped, so that
/// only one item is held at a time. Any item that cannot be decoded stops
/// the run with its error, and nothing is reported.
fn evaluate_items(
    lists: &[Items<'_>],
    selected: &[params_arg::Selected],
    env: &Environment,
) -> Result<Vec<Vec<Finding>>, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let mut per_rule: Vec<Vec<Finding>> = selected.iter().map(|_| Vec::new()).collect();
    runtime.block_on(async {
        for list in lists {
            for item in list.decoded() {
                let item = item?;
                let resource_type = item.resource_type.clone();
                let (account, region) = (item.account_id.clone(), item.aws_region.clone());
                let mut invocation = Invocation {
                    rule_name: None,
                    rule_arn: None,
                    account_id: account.clone(),
                    result_token: None,
                    execution_role_arn: None,
                    event_left_scope: false,
                    parameters: Default::default(),
                    trigger: Trigger::Change(Box::new(item)),
                };
                for (params_arg::Selected { rule, params, raw }, findings) in selected.iter().zip(per_rule.iter_mut()) {
                    let spec = rule.spec();
                    if !spec.covers(&resource_type) {
                        continue;
                    }
                    invocation.parameters.clone_from(raw);
                    let evaluations = evaluate(*rule, &invocation, params, env).await?;
                    findings.extend(
                        evaluations
                            .into_iter()
                            .map(|e| Finding::new(spec.id, e, account.clone(), region.clone())),
                    );
                }
            }
        }
        Ok::<(), CliError>(())
    })?;
    Ok(per_rule)
}

/// One rule's evaluations of the invocation's item. What cannot be judged
/// offline (or from the record) is said so, and never as COMPLIANT.
async fn evaluate(
    rule: &'static dyn Rule,
    invocation: &Invocation,
    params: &Parameters,
    env: &Environment,
) -> Result<Vec<Evaluation>, CliError> {
    let mut sink = DryRun::default();
    match atrest_common::run(rule, invocation, params, env, &mut sink).await {
        Ok(_) => Ok(sink.evaluations),
        Err(e @ (Error::Unsupported(_) | Error::Item { .. } | Error::Event(_))) => {
            let Trigger::Change(item) = &invocation.trigger else {
                return Err(CliError::Rule {
                    path: rule.spec().id.into(),
                    source: e,
                });
            };
            let time = item
                .capture_time
                .unwrap_or_else(|| aws_smithy_types::DateTime::from(std::time::SystemTime::now()));
            let verdict = Verdict::non_compliant(format!("Not verifiable offline: {e}"));
            let evaluation =
                Evaluation::new(&item.resource_type, &item.resource_id, verdict, time).map_err(|source| {
                    CliError::Rule {
                        path: "snapshot".into(),
                        source,
                    }
                })?;
            Ok(vec![evaluation])
        }
        Err(source) => Err(CliError::Rule {
            path: rule.spec().id.into(),
            source,
        }),
    }
}
