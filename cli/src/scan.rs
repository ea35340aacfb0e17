//! `atrest scan`: a live, read-only sweep of the account through the rules'
//! periodic paths, with the standard AWS configuration (profiles,
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, SSO, assumed roles). Nothing is sent to
//! Config.

use std::io::IsTerminal;
use std::sync::Arc;

use atrest_common::aws::{retry_config, AwsContext};
use atrest_common::{AwsError, DryRun, Environment, Invocation, KeyDirectory, Trigger};
use aws_config::{BehaviorVersion, Region};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;

use crate::error::CliError;
use crate::inventory::{resource_types, Inventory};
use crate::output::{emit_report, InventoryArg, OutputArgs};
use crate::params_arg;
use crate::report::{exit_code, Finding, Report};

#[derive(clap::Args)]
pub struct Args {
    /// Only these rules (repeatable; all by default).
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Regions to scan (repeatable; default: the configured region).
    #[arg(long = "region")]
    regions: Vec<String>,
    /// A rule parameter, RULE.NAME=VALUE (repeatable).
    #[arg(long = "param")]
    params: Vec<String>,
    /// How many rule sweeps run at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    #[command(flatten)]
    inventory: InventoryArg,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let (selected, notes) = params_arg::select(&args.rules, &args.params)?;
    args.inventory.check(&args.output)?;
    for note in notes {
        eprintln!("{note}");
    }
    let selected: Vec<params_arg::Selected> = selected
        .into_iter()
        .filter(|s| s.rule.spec().triggers.periodic)
        .collect();
    let rules: Vec<&'static dyn atrest_common::Rule> = selected.iter().map(|s| s.rule).collect();
    let params = Arc::new(selected);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let specs: Vec<_> = rules.iter().map(|r| r.spec()).collect();
    let (findings, inventory) = runtime.block_on(async {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .load()
            .await;
        let regions: Vec<String> = if args.regions.is_empty() {
            vec![base
                .region()
                .map(|r| r.to_string())
                .ok_or_else(|| CliError::Param("no region: set AWS_REGION or AWS_PROFILE, or pass --region".into()))?]
        } else {
            args.regions.clone()
        };
        let account = aws_sdk_sts::Client::new(&base)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| CliError::Aws(atrest_common::AwsError::from_sdk("sts", "GetCallerIdentity", &e).to_string()))?
            .account()
            .map(str::to_owned);

        let progress = if std::io::stdout().is_terminal() {
            let bar = ProgressBar::new((regions.len() * rules.len()) as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        let permits = Arc::new(Semaphore::new(usize::from(args.concurrency)));
        let mut tasks = tokio::task::JoinSet::new();
        let mut envs = Vec::with_capacity(regions.len());
        for region in &regions {
            // One key directory per region, shared by every rule, noting
            // which resource uses which key for the inventory.
            let sdk = base.to_builder().region(Region::new(region.clone())).build();
            let aws = AwsContext::new(sdk);
            let keys = KeyDirectory::kms(aws.kms()).noting_uses();
            let env = Arc::new(Environment { aws: Some(aws), keys });
            envs.push((region.clone(), env.clone()));
            for (i, rule) in rules.iter().copied().enumerate() {
                let (env, params, permits) = (env.clone(), params.clone(), permits.clone());
                let (region, account, progress) = (region.clone(), account.clone(), progress.clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire().await;
                    progress.set_message(format!("{} in {region}", rule.spec().id));
                    let params_arg::Selected { params, raw, .. } = &params[i];
                    let trigger = Trigger::Scheduled {
                        account_id: account.clone(),
                        notification_creation_time: aws_smithy_types::DateTime::from(std::time::SystemTime::now()),
                    };
                    let invocation = Invocation::local(trigger, account.clone(), raw.clone());
                    let mut sink = DryRun::default();
                    let result = atrest_common::run(rule, &invocation, params, &env, &mut sink).await;
                    progress.inc(1);
                    result
                        .map(|_| {
                            sink.evaluations
                                .into_iter()
                                .map(|e| Finding::new(rule.spec().id, e, account.clone(), Some(region.clone())))
                                .collect::<Vec<_>>()
                        })
                        .map_err(|source| CliError::Rule {
                            path: format!("{} in {region}", rule.spec().id),
                            source,
                        })
                });
            }
        }
        let mut findings = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let found = done.map_err(|e| CliError::Aws(format!("a sweep stopped: {e}")))??;
            findings.extend(found);
        }
        progress.finish_and_clear();
        findings.sort_by(|a, b| {
            (a.rule, &a.region, &a.resource_type, &a.resource_id).cmp(&(
                b.rule,
                &b.region,
                &b.resource_type,
                &b.resource_id,
            ))
        });
        let mut inventory = Inventory::default();
        for (region, env) in &envs {
            let listed = listed_keys(env).await?;
            let types = resource_types(&specs);
            inventory.extend(Inventory::build(&env.keys, listed, types, Some(region)).await?);
        }
        Ok::<_, CliError>((findings, inventory))
    })?;
    let report = Report::new(&findings, specs, "live scan".into()).with_inventory(&inventory);
    emit_report(&report, &args.output, args.inventory.inventory)?;
    Ok(exit_code(&report))
}

/// The ARN of every key of the environment's region (ListKeys).
async fn listed_keys(env: &Environment) -> Result<Vec<String>, CliError> {
    let Some(aws) = &env.aws else {
        return Ok(Vec::new());
    };
    let mut pages = aws.kms().list_keys().into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| CliError::Aws(AwsError::from_sdk("kms", "ListKeys", &e).to_string()))?;
        arns.extend(
            page.keys()
                .iter()
                .filter_map(|k| k.key_arn().or(k.key_id()).map(str::to_owned)),
        );
    }
    Ok(arns)
}
