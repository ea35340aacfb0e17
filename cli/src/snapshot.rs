//! `atrest snapshot`: offline evaluation of AWS Config snapshot and history
//! files — local, or the latest Config delivered to a directory or an S3
//! prefix (cli/src/sources.rs). Key facts come from the files'
//! `AWS::KMS::Key` (and `AWS::KMS::Alias`) items; no AWS call is made but
//! reading S3. What cannot be judged
//! offline is reported NON_COMPLIANT with a reason, never COMPLIANT.

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL, KMS_KEY_TYPE};
use atrest_common::{
    ConfigurationItem, DryRun, Environment, Error, Evaluation, Invocation, KeyDirectory, Parameters, Rule, Trigger,
    Verdict,
};

use crate::error::CliError;
use crate::inputs::{decode_item, version_of, KmsFilter, Version};
use crate::inventory::{resource_types, Inventory};
use crate::item_batches::{in_parallel, Batch};
use crate::output::{emit_report, emit_spill, Format, InventoryArg, OutputArgs};
use crate::params_arg;
use crate::report::{exit_code, exit_code_of, Finding, Report};
use crate::sources::{resolve, Input};
use crate::spill::{Rendered, Spill};

#[derive(clap::Args)]
pub struct Args {
    /// Config snapshot or configuration-history files (JSON, plain or .gz);
    /// directories and s3://BUCKET/PREFIX/ (Config's delivery), of which the
    /// latest snapshot per account and region is read.
    #[arg(required = true, value_name = "FILE|DIR|s3://BUCKET/PREFIX/")]
    sources: Vec<String>,
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let resolved = runtime.block_on(resolve(&args.sources))?;
    // First pass: key facts, from wherever the key items are in the files,
    // and which version of each resource is the latest.
    let first = first_pass(&resolved.inputs)?;
    // Every recorded key is in the inventory, used or not.
    let known: Vec<String> = first
        .key_items
        .iter()
        .filter(|i| i.resource_type == KMS_KEY_TYPE && !i.status.is_gone())
        .map(|i| i.arn.clone().unwrap_or_else(|| i.resource_id.clone()))
        .collect();
    let env = Environment {
        aws: None,
        keys: KeyDirectory::new(ItemKeySource::from_items(&first.key_items), DEFAULT_TTL).noting_uses(),
    };
    // Second pass: each kept item judged. Findings of the formats written
    // one at a time go to disk as they come, so memory stays flat.
    let mut collected = match Spill::new(args.output.format(), selected.len())? {
        Some(spill) => Collected::Spilled(spill),
        None => Collected::Held(selected.iter().map(|_| Vec::new()).collect()),
    };
    evaluate_files(&resolved.inputs, &first.latest.keep, &selected, &env, &mut collected)?;
    let rules: Vec<_> = selected.iter().map(|s| s.rule.spec()).collect();
    let inventory = runtime.block_on(Inventory::build(&env.keys, known, resource_types(&rules), None))?;
    // Only once every item was read: bad input gets its error alone.
    for note in notes {
        eprintln!("{note}");
    }
    let mut source = resolved.source.clone();
    let latest = &first.latest;
    if latest.set_aside > 0 {
        let history = format!(
            "history: the latest version of each of {} resources judged, {} earlier versions set aside",
            latest.resources_with_history, latest.set_aside
        );
        eprintln!("{history}");
        source = format!("{source} ({history})");
    }
    let per_rule = match collected {
        Collected::Spilled(spill) => {
            let code = exit_code_of(spill.any_non_compliant(), Some(&inventory));
            emit_spill(spill, Some(&inventory), &args.output, args.inventory.inventory)?;
            return Ok(code);
        }
        Collected::Held(per_rule) => per_rule,
    };
    let findings: Vec<Finding> = per_rule.into_iter().flatten().collect();
    let report = Report::new(&findings, rules, source).with_inventory(&inventory);
    emit_report(&report, &args.output, args.inventory.inventory)?;
    let code = exit_code(&report);
    // The process ends here: freeing the findings one by one would cost
    // time, and the operating system reclaims them whole.
    std::mem::forget(findings);
    Ok(code)
}

/// What the first pass over the files learnt.
struct FirstPass {
    /// The `AWS::KMS::*` items, decoded.
    key_items: Vec<ConfigurationItem>,
    latest: Latest,
}

/// Reads every file once: its key items, and each item's resource and
/// capture time (as a 128-bit keyed hash, so that a million items take
/// 32 MiB, not their names). Checks every file is JSON of a known shape.
fn first_pass(files: &[Input]) -> Result<FirstPass, CliError> {
    let kms = KmsFilter::new();
    let hashing = VersionHashing::new();
    let mut key_items = Vec::new();
    let mut versions = Vec::new();
    let counts = in_parallel(
        files,
        None,
        |_, batch| {
            let name = files.get(batch.file).map_or("", |f| f.name.as_str());
            let file = u32::try_from(batch.file).map_err(|_| too_many(name))?;
            let (mut keys, mut entries) = (Vec::new(), Vec::new());
            for (i, text) in batch.items() {
                if let Some(item) = kms.kms_item(name, i, text)? {
                    keys.push(item);
                }
                if let Some(version) = version_of(text) {
                    let index = u32::try_from(i).map_err(|_| too_many(name))?;
                    entries.push(hashing.entry(&version, file, index));
                }
            }
            Ok((keys, entries))
        },
        |(keys, entries)| {
            key_items.extend(keys);
            versions.extend(entries);
            Ok(())
        },
    )?;
    Ok(FirstPass {
        key_items,
        latest: latest_versions(versions, &counts),
    })
}

fn too_many(name: &str) -> CliError {
    CliError::Input {
        path: name.to_owned(),
        problem: "more than 4,294,967,295 configuration items (or files)".into(),
    }
}

/// One recorded version: its resource's hash, capture time and position.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct VersionEntry {
    resource: [u64; 2],
    captured: (i64, u32),
    file: u32,
    index: u32,
}

/// Two independently keyed SipHashes: 128 bits, so that two resources of
/// one run share a hash with a chance of about n²/2¹²⁹ (a million items:
/// 10⁻²⁷), and no input can be chosen to collide.
struct VersionHashing(std::hash::RandomState, std::hash::RandomState);

impl VersionHashing {
    fn new() -> Self {
        VersionHashing(std::hash::RandomState::new(), std::hash::RandomState::new())
    }

    fn entry(&self, version: &Version<'_>, file: u32, index: u32) -> VersionEntry {
        use std::hash::BuildHasher;
        VersionEntry {
            resource: [self.0.hash_one(&version.resource), self.1.hash_one(&version.resource)],
            captured: version.captured,
            file,
            index,
        }
    }
}

/// Which items to judge.
struct Latest {
    /// Per file, per item: whether it is the latest version of its resource.
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
fn latest_versions(mut versions: Vec<VersionEntry>, counts: &[usize]) -> Latest {
    // By resource, then capture time, then file order: the last of each
    // resource's run is its latest version.
    versions.sort_unstable();
    let mut keep: Vec<Vec<bool>> = counts.iter().map(|n| vec![true; *n]).collect();
    let (mut set_aside, mut resources_with_history) = (0, 0);
    for run in versions.chunk_by(|a, b| a.resource == b.resource) {
        let Some((_, earlier)) = run.split_last() else { continue };
        if earlier.is_empty() {
            continue;
        }
        resources_with_history += 1;
        for v in earlier {
            if let Some(flag) = keep.get_mut(v.file as usize).and_then(|k| k.get_mut(v.index as usize)) {
                *flag = false;
                set_aside += 1;
            }
        }
    }
    Latest {
        keep,
        set_aside,
        resources_with_history,
    }
}

/// Where a run's findings go, per selected rule.
enum Collected {
    Held(Vec<Vec<Finding>>),
    /// Rendered by the worker that judged them, appended here in order.
    Spilled(Spill),
}

/// One batch's findings, as its worker hands them over.
enum BatchFindings {
    /// Each with its rule's index among the selected.
    Held(Vec<(usize, Finding)>),
    Rendered(Rendered),
}

impl Collected {
    /// The format a worker renders its findings in: a spill's.
    fn spill_format(&self) -> Option<Format> {
        match self {
            Collected::Held(_) => None,
            Collected::Spilled(spill) => Some(spill.format()),
        }
    }

    fn take(&mut self, findings: BatchFindings) -> Result<(), CliError> {
        match (self, findings) {
            (Collected::Held(per_rule), BatchFindings::Held(findings)) => {
                for (rule, finding) in findings {
                    if let Some(held) = per_rule.get_mut(rule) {
                        held.push(finding);
                    }
                }
                Ok(())
            }
            (Collected::Spilled(spill), BatchFindings::Rendered(rendered)) => spill.append(rendered),
            // Workers hand over what `spill_format` told them to.
            _ => Err(CliError::Write(std::io::Error::other(
                "a batch's findings in another form than the report's",
            ))),
        }
    }
}

impl BatchFindings {
    fn push(&mut self, rule: usize, finding: Finding) -> Result<(), CliError> {
        match self {
            BatchFindings::Held(findings) => {
                findings.push((rule, finding));
                Ok(())
            }
            BatchFindings::Rendered(rendered) => rendered.push(rule, &finding),
        }
    }
}

/// The findings of the files' kept items, per selected rule, in file
/// order: each item decoded, judged by every rule that covers it, and
/// dropped, on every core (see [`in_parallel`]); for a spill, each worker
/// renders its batch's findings too. Any item that cannot be decoded stops
/// the run with its error (the first in file order), and nothing is
/// reported.
fn evaluate_files(
    files: &[Input],
    keep: &[Vec<bool>],
    selected: &[params_arg::Selected],
    env: &Environment,
    collected: &mut Collected,
) -> Result<(), CliError> {
    let format = collected.spill_format();
    let fresh = || match format {
        Some(format) => BatchFindings::Rendered(Rendered::new(format, selected.len())),
        None => BatchFindings::Held(Vec::new()),
    };
    in_parallel(
        files,
        Some(keep),
        |runtime, batch| runtime.block_on(judge_batch(batch, files, selected, env, fresh())),
        |findings| collected.take(findings),
    )?;
    Ok(())
}

/// Every finding of one batch's items, in order, added to `findings`.
async fn judge_batch(
    batch: &Batch,
    files: &[Input],
    selected: &[params_arg::Selected],
    env: &Environment,
    mut findings: BatchFindings,
) -> Result<BatchFindings, CliError> {
    let name = files.get(batch.file).map_or("", |f| f.name.as_str());
    for (i, text) in batch.items() {
        let item = decode_item(name, i, text)?;
        let resource_type = item.resource_type.clone();
        let (account, region) = (item.account_id.clone(), item.aws_region.clone());
        let trigger = Trigger::Change(Box::new(item));
        let mut invocation = Invocation::local(trigger, account.clone(), Default::default());
        for (r, params_arg::Selected { rule, params, raw }) in selected.iter().enumerate() {
            let spec = rule.spec();
            if !spec.covers(&resource_type) {
                continue;
            }
            invocation.parameters.clone_from(raw);
            for e in evaluate(*rule, &invocation, params, env).await? {
                findings.push(r, Finding::new(spec.id, e, account.clone(), region.clone()))?;
            }
        }
    }
    Ok(findings)
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
