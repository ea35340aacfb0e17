//! `atrest snapshot`: offline evaluation of AWS Config snapshot and history
//! files. Key facts come from the files' `AWS::KMS::Key` (and
//! `AWS::KMS::Alias`) items; no AWS call is made. What cannot be judged
//! offline is reported NON_COMPLIANT with a reason, never COMPLIANT.

use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::{
    ConfigurationItem, DryRun, Environment, Error, Evaluation, Invocation, KeyDirectory, Parameters, Rule, Trigger,
    Verdict,
};

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
    let mut items: Vec<ConfigurationItem> = Vec::new();
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
    let (per_rule, spent) = evaluate_items(items, &selected, &env)?;
    let findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
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
    let code = exit_code(&findings);
    // The process ends here: freeing 100k items and their findings one by one
    // would cost a tenth of the run, and the operating system reclaims them whole.
    std::mem::forget(spent);
    std::mem::forget(findings);
    Ok(code)
}

/// The findings of `items`, per selected rule: item by item, each judged by
/// every rule that covers it; the item moves into the invocation, never copied.
/// The spent invocations are returned with them (see `run`).
fn evaluate_items(
    items: Vec<ConfigurationItem>,
    selected: &[params_arg::Selected],
    env: &Environment,
) -> Result<(Vec<Vec<Finding>>, Vec<Invocation>), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let mut per_rule: Vec<Vec<Finding>> = selected.iter().map(|_| Vec::new()).collect();
    let mut spent = Vec::with_capacity(items.len());
    runtime.block_on(async {
        for item in items {
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
            spent.push(invocation);
        }
        Ok::<(), CliError>(())
    })?;
    Ok((per_rule, spent))
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
