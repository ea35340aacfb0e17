//! `atrest snapshot`: offline evaluation of AWS Config snapshot and history
//! files. Key facts come from the files' `AWS::KMS::Key` (and
//! `AWS::KMS::Alias`) items; no AWS call is made. What cannot be judged
//! offline is reported NON_COMPLIANT with a reason, never COMPLIANT.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL, KMS_KEY_TYPE};
use atrest_common::{
    DryRun, Environment, Error, Evaluation, Invocation, KeyDirectory, Parameters, Rule, Trigger, Verdict,
};

use crate::error::CliError;
use crate::inputs::{ItemFile, Items, ResourceKey};
use crate::inventory::{resource_types, Inventory};
use crate::output::{emit_report, InventoryArg, OutputArgs};
use crate::params_arg;
use crate::report::{exit_code, Finding, Report};

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
    inventory: InventoryArg,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let (selected, notes) = params_arg::select(&args.rules, &args.params)?;
    args.inventory.check(&args.output)?;
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
    // Every recorded key is in the inventory, used or not.
    let known: Vec<String> = key_items
        .iter()
        .filter(|i| i.resource_type == KMS_KEY_TYPE && !i.status.is_gone())
        .map(|i| i.arn.clone().unwrap_or_else(|| i.resource_id.clone()))
        .collect();
    let env = Environment {
        aws: None,
        keys: KeyDirectory::new(ItemKeySource::from_items(&key_items), DEFAULT_TTL).noting_uses(),
    };
    let latest = latest_versions(&lists);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let per_rule = runtime.block_on(evaluate_items(&lists, &latest.keep, &selected, &env))?;
    let rules: Vec<_> = selected.iter().map(|s| s.rule.spec()).collect();
    let inventory = runtime.block_on(Inventory::build(&env.keys, known, resource_types(&rules), None))?;
    // Only once every item was read: bad input gets its error alone.
    for note in notes {
        eprintln!("{note}");
    }
    let mut source = Report::files(&args.files);
    if latest.set_aside > 0 {
        let history = format!(
            "history: the latest version of each of {} resources judged, {} earlier versions set aside",
            latest.resources_with_history, latest.set_aside
        );
        eprintln!("{history}");
        source = format!("{source} ({history})");
    }
    let findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
    let report = Report::new(&findings, rules, source).with_inventory(&inventory);
    emit_report(&report, &args.output, args.inventory.inventory)?;
    let code = exit_code(&report);
    // The process ends here: freeing the findings one by one would cost
    // time, and the operating system reclaims them whole.
    std::mem::forget(findings);
    Ok(code)
}

/// Which items to judge.
struct Latest {
    /// Per list, per item: whether it is the latest version of its resource.
    keep: Vec<Vec<bool>>,
    /// Earlier versions left out.
    set_aside: usize,
    /// Resources of which more than one version was recorded.
    resources_with_history: usize,
}

/// Of several versions of one resource (configuration-history files, or
/// several snapshots), only the latest by capture time is judged — the
/// later in file order on a tie; a deleted latest version is judged as
/// deleted (NOT_APPLICABLE), not its earlier life. Items that do not say
/// which resource or when are kept (their decoding names the problem).
fn latest_versions(lists: &[Items<'_>]) -> Latest {
    let versions: Vec<_> = lists.iter().map(Items::versions).collect();
    let mut latest: HashMap<&ResourceKey<'_>, ((i64, u32), usize, usize)> = HashMap::new();
    let mut repeated: HashSet<&ResourceKey<'_>> = HashSet::new();
    for (l, list) in versions.iter().enumerate() {
        for (i, version) in list.iter().enumerate() {
            let Some(v) = version else { continue };
            match latest.get(&v.resource) {
                Some((captured, _, _)) => {
                    repeated.insert(&v.resource);
                    if v.captured >= *captured {
                        latest.insert(&v.resource, (v.captured, l, i));
                    }
                }
                None => {
                    latest.insert(&v.resource, (v.captured, l, i));
                }
            }
        }
    }
    let mut keep: Vec<Vec<bool>> = versions.iter().map(|l| vec![true; l.len()]).collect();
    let mut set_aside = 0;
    for (l, list) in versions.iter().enumerate() {
        for (i, version) in list.iter().enumerate() {
            if let Some(v) = version {
                if latest.get(&v.resource).is_some_and(|(_, ll, ii)| (*ll, *ii) != (l, i)) {
                    keep[l][i] = false;
                    set_aside += 1;
                }
            }
        }
    }
    Latest {
        keep,
        set_aside,
        resources_with_history: repeated.len(),
    }
}

/// The findings of the items of `lists`, per selected rule: item by item,
/// each decoded, judged by every rule that covers it, and dropped, so that
/// only one item is held at a time. Any item that cannot be decoded stops
/// the run with its error, and nothing is reported.
async fn evaluate_items(
    lists: &[Items<'_>],
    keep: &[Vec<bool>],
    selected: &[params_arg::Selected],
    env: &Environment,
) -> Result<Vec<Vec<Finding>>, CliError> {
    let mut per_rule: Vec<Vec<Finding>> = selected.iter().map(|_| Vec::new()).collect();
    for (list, keep) in lists.iter().zip(keep) {
        for item in list.decoded_where(keep) {
            let item = item?;
            let resource_type = item.resource_type.clone();
            let (account, region) = (item.account_id.clone(), item.aws_region.clone());
            let trigger = Trigger::Change(Box::new(item));
            let mut invocation = Invocation::local(trigger, account.clone(), Default::default());
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
