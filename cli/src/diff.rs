//! `atrest diff OLD.json NEW.json`: what changed between two JSON reports
//! (`scan`, `snapshot`, `evaluate` or `report --aggregator`) — the change
//! evidence between two assessments. A finding is one rule's judgement of
//! one resource in one account and region. A finding missing from NEW
//! where NEW itself says it could not read that account or region is
//! "unassessed", never "gone". Exit 1 when something is newly
//! NON_COMPLIANT or unassessed, else 0.

use std::collections::BTreeMap;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, EXIT_NON_COMPLIANT, EXIT_OK};
use crate::output::emit_with;
use crate::report::RunError;

#[derive(clap::Args)]
pub struct Args {
    /// The earlier JSON report (`--format json` of scan, snapshot, evaluate or report).
    old: PathBuf,
    /// The later JSON report.
    new: PathBuf,
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<DiffFormat>,
    /// Write the changes to this file (whole, or not at all) instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// The formats of a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Csv,
}

/// The compliance values a report may hold (a Config aggregator's
/// INSUFFICIENT_DATA included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Compliant,
    NonCompliant,
    NotApplicable,
    InsufficientData,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "COMPLIANT",
            Status::NonCompliant => "NON_COMPLIANT",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// One finding as a JSON report holds it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    rule: String,
    resource_type: String,
    resource_id: String,
    compliance: Status,
    #[serde(default)]
    annotation: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

/// The parts of a JSON report a diff reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportFile {
    findings: Vec<Row>,
    #[serde(default)]
    errors: Vec<RunError>,
}

/// What happened to one finding between the reports, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// NON_COMPLIANT now, and not before (or not there before).
    NewNonCompliant,
    /// In OLD, missing from NEW where NEW could not read its account or region.
    Unassessed,
    /// NON_COMPLIANT before, COMPLIANT now.
    Fixed,
    /// In OLD, not in NEW (the resource or the rule is gone).
    Gone,
    /// Not in OLD, in NEW and not NON_COMPLIANT.
    New,
    /// Any other change of compliance (e.g. COMPLIANT to NOT_APPLICABLE).
    Changed,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::NewNonCompliant => "new-non-compliant",
            Change::Unassessed => "unassessed",
            Change::Fixed => "fixed",
            Change::Gone => "gone",
            Change::New => "new",
            Change::Changed => "changed",
        }
    }
}

/// One changed finding.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changed {
    pub change: Change,
    pub rule: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub resource_type: String,
    pub resource_id: String,
    pub before: Option<Status>,
    pub after: Option<Status>,
    /// NEW's annotation, or OLD's when the finding is gone.
    pub annotation: Option<String>,
}

/// Counts of each kind of change, and of unchanged findings.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub new_non_compliant: usize,
    pub unassessed: usize,
    pub fixed: usize,
    pub gone: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
}

/// The whole diff.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub summary: Summary,
    pub changes: Vec<Changed>,
    /// What NEW says it could not read.
    pub new_errors: Vec<RunError>,
}

type Key<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, &'a str);

fn key(r: &Row) -> Key<'_> {
    (
        &r.rule,
        r.account_id.as_deref(),
        r.region.as_deref(),
        &r.resource_type,
        &r.resource_id,
    )
}

/// The findings by key; a resource judged twice by a rule counts as its
/// worst judgement (NON_COMPLIANT over the others).
fn by_key(rows: &[Row]) -> BTreeMap<Key<'_>, &Row> {
    let mut map: BTreeMap<Key<'_>, &Row> = BTreeMap::new();
    for row in rows {
        map.entry(key(row))
            .and_modify(|held| {
                if row.compliance == Status::NonCompliant {
                    *held = row;
                }
            })
            .or_insert(row);
    }
    map
}

/// Whether NEW's errors cover a finding: an error names an account, a
/// region and a rule, or leaves them open (an account's error without a
/// region covers all of its regions).
fn unread(errors: &[RunError], k: &Key<'_>) -> bool {
    let covers = |held: Option<&str>, of: Option<&str>| held.is_none() || held == of;
    errors.iter().any(|e| {
        covers(e.account_id.as_deref(), k.1) && covers(e.region.as_deref(), k.2) && covers(e.rule.as_deref(), Some(k.0))
    })
}

/// The diff of two reports' findings.
fn compare(old: &ReportFile, new: &ReportFile, old_name: String, new_name: String) -> Diff {
    let (before, after) = (by_key(&old.findings), by_key(&new.findings));
    let mut summary = Summary::default();
    let mut changes = Vec::new();
    let changed = |change: Change, k: &Key<'_>, b: Option<&Row>, a: Option<&Row>| Changed {
        change,
        rule: k.0.to_owned(),
        account_id: k.1.map(str::to_owned),
        region: k.2.map(str::to_owned),
        resource_type: k.3.to_owned(),
        resource_id: k.4.to_owned(),
        before: b.map(|r| r.compliance),
        after: a.map(|r| r.compliance),
        annotation: a.or(b).and_then(|r| r.annotation.clone()),
    };
    for (k, a) in &after {
        let b = before.get(k).copied();
        let change = match (b.map(|r| r.compliance), a.compliance) {
            (Some(was), now) if was == now => {
                summary.unchanged += 1;
                continue;
            }
            (_, Status::NonCompliant) => Change::NewNonCompliant,
            (Some(Status::NonCompliant), Status::Compliant) => Change::Fixed,
            (None, _) => Change::New,
            (Some(_), _) => Change::Changed,
        };
        changes.push(changed(change, k, b, Some(a)));
    }
    for (k, b) in &before {
        if !after.contains_key(k) {
            let change = if unread(&new.errors, k) {
                Change::Unassessed
            } else {
                Change::Gone
            };
            changes.push(changed(change, k, Some(b), None));
        }
    }
    for c in &changes {
        *match c.change {
            Change::NewNonCompliant => &mut summary.new_non_compliant,
            Change::Unassessed => &mut summary.unassessed,
            Change::Fixed => &mut summary.fixed,
            Change::Gone => &mut summary.gone,
            Change::New => &mut summary.new,
            Change::Changed => &mut summary.changed,
        } += 1;
    }
    changes.sort_by(|x, y| {
        (
            x.change,
            &x.rule,
            &x.account_id,
            &x.region,
            &x.resource_type,
            &x.resource_id,
        )
            .cmp(&(
                y.change,
                &y.rule,
                &y.account_id,
                &y.region,
                &y.resource_type,
                &y.resource_id,
            ))
    });
    Diff {
        old: old_name,
        new: new_name,
        summary,
        changes,
        new_errors: new.errors.clone(),
    }
}

fn read(path: &Path) -> Result<ReportFile, CliError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| CliError::Read {
        path: name.clone(),
        source,
    })?;
    serde_json::from_reader(BufReader::new(file)).map_err(|source| CliError::Input {
        path: name,
        problem: format!("is not an atrest JSON report (`--format json`): {source}"),
    })
}

pub fn run(args: Args) -> Result<u8, CliError> {
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let diff = compare(
        &old,
        &new,
        args.old.display().to_string(),
        args.new.display().to_string(),
    );
    for e in &diff.new_errors {
        eprintln!("atrest: {} could not be assessed: {}", e.place(), e.reason);
    }
    let format = args
        .format
        .unwrap_or(if std::io::stdout().is_terminal() && args.output.is_none() {
            DiffFormat::Table
        } else {
            DiffFormat::Json
        });
    emit_with(args.output.as_deref(), |out| match format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &diff).map_err(|e| CliError::Write(e.into()))?;
            out.write_all(b"\n").map_err(CliError::Write)
        }
        DiffFormat::Table => table(&diff, out).map_err(CliError::Write),
        DiffFormat::Csv => csv_changes(&diff, out),
    })?;
    Ok(if diff.summary.new_non_compliant + diff.summary.unassessed > 0 {
        EXIT_NON_COMPLIANT
    } else {
        EXIT_OK
    })
}

fn status(s: Option<Status>) -> &'static str {
    s.map_or("-", Status::as_str)
}

fn table(diff: &Diff, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &diff.summary;
    writeln!(out, "{} -> {}", diff.old, diff.new)?;
    writeln!(
        out,
        "{} newly non-compliant, {} unassessed, {} fixed, {} gone, {} new, {} changed, {} unchanged",
        s.new_non_compliant, s.unassessed, s.fixed, s.gone, s.new, s.changed, s.unchanged
    )?;
    let mut last = None;
    for c in &diff.changes {
        if last != Some(c.change) {
            writeln!(out, "\n{}:", c.change.as_str().to_uppercase())?;
            last = Some(c.change);
        }
        writeln!(
            out,
            "  {}  {} {}  [{} {}]  {} -> {}\n      {}",
            c.rule,
            c.resource_type,
            c.resource_id,
            c.account_id.as_deref().unwrap_or("-"),
            c.region.as_deref().unwrap_or("-"),
            status(c.before),
            status(c.after),
            c.annotation.as_deref().unwrap_or("")
        )?;
    }
    for e in &diff.new_errors {
        writeln!(out, "\nNOT ASSESSED in {}: {} — {}", diff.new, e.place(), e.reason)?;
    }
    Ok(())
}

fn csv_changes(diff: &Diff, out: &mut dyn Write) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| CliError::Write(std::io::Error::other(e));
    w.write_record([
        "change",
        "rule",
        "accountId",
        "region",
        "resourceType",
        "resourceId",
        "before",
        "after",
        "annotation",
    ])
    .map_err(csv_err)?;
    for c in &diff.changes {
        w.write_record([
            c.change.as_str(),
            &c.rule,
            c.account_id.as_deref().unwrap_or(""),
            c.region.as_deref().unwrap_or(""),
            &c.resource_type,
            &c.resource_id,
            c.before.map_or("", Status::as_str),
            c.after.map_or("", Status::as_str),
            c.annotation.as_deref().unwrap_or(""),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(CliError::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: serde_json::Value) -> ReportFile {
        serde_json::from_value(json).unwrap()
    }

    fn finding(id: &str, compliance: &str, account: &str) -> serde_json::Value {
        serde_json::json!({
            "rule": "ebs-volume-encrypted", "resourceType": "AWS::EC2::Volume", "resourceId": id,
            "compliance": compliance, "annotation": format!("{id} is {compliance}"),
            "orderingTimestamp": "2026-12-01T00:00:00Z", "accountId": account, "region": "eu-west-1"
        })
    }

    #[test]
    fn every_kind_of_change_is_named_and_counted() {
        let old = report(serde_json::json!({"findings": [
            finding("vol-same", "COMPLIANT", "111111111111"),
            finding("vol-fixed", "NON_COMPLIANT", "111111111111"),
            finding("vol-worse", "COMPLIANT", "111111111111"),
            finding("vol-gone", "COMPLIANT", "111111111111"),
            finding("vol-unread", "COMPLIANT", "222222222222"),
            finding("vol-na", "COMPLIANT", "111111111111"),
        ]}));
        let new = report(serde_json::json!({"findings": [
            finding("vol-same", "COMPLIANT", "111111111111"),
            finding("vol-fixed", "COMPLIANT", "111111111111"),
            finding("vol-worse", "NON_COMPLIANT", "111111111111"),
            finding("vol-added", "NON_COMPLIANT", "111111111111"),
            finding("vol-ok", "COMPLIANT", "111111111111"),
            finding("vol-na", "NOT_APPLICABLE", "111111111111"),
        ], "errors": [{"accountId": "222222222222", "reason": "AccessDenied"}]}));
        let d = compare(&old, &new, "old".into(), "new".into());
        let kinds: Vec<(&str, Change)> = d.changes.iter().map(|c| (c.resource_id.as_str(), c.change)).collect();
        assert_eq!(
            kinds,
            [
                ("vol-added", Change::NewNonCompliant),
                ("vol-worse", Change::NewNonCompliant),
                ("vol-unread", Change::Unassessed),
                ("vol-fixed", Change::Fixed),
                ("vol-gone", Change::Gone),
                ("vol-ok", Change::New),
                ("vol-na", Change::Changed),
            ]
        );
        assert_eq!(d.summary.unchanged, 1);
        assert_eq!(d.summary.new_non_compliant, 2);
        assert_eq!(d.changes[4].annotation.as_deref(), Some("vol-gone is COMPLIANT"));
    }

    #[test]
    fn the_same_resource_in_another_account_is_another_finding() {
        let old = report(serde_json::json!({"findings": [finding("vol-1", "COMPLIANT", "111111111111")]}));
        let new = report(serde_json::json!({"findings": [finding("vol-1", "COMPLIANT", "222222222222")]}));
        let d = compare(&old, &new, "old".into(), "new".into());
        assert_eq!(d.summary.gone, 1);
        assert_eq!(d.summary.new, 1);
    }

    #[test]
    fn a_resource_judged_twice_counts_as_its_worst() {
        let old = report(serde_json::json!({"findings": [finding("vol-1", "COMPLIANT", "1")]}));
        let new = report(serde_json::json!({"findings": [
            finding("vol-1", "NON_COMPLIANT", "1"), finding("vol-1", "COMPLIANT", "1")
        ]}));
        let d = compare(&old, &new, "old".into(), "new".into());
        assert_eq!(d.summary.new_non_compliant, 1);
    }
}
