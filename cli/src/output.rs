//! How a report is written: the `--format` (table, JSON, CSV, JUnit,
//! SARIF 2.1.0, a self-contained HTML evidence page, OCSF, ASFF) and `--output` (a file
//! written whole, or not at all; else stdout). JSON holds the findings and
//! the key inventory; `--inventory` writes the inventory alone (table,
//! JSON, CSV).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use atrest_common::Compliance;
use clap::ValueEnum;

use crate::error::CliError;
use crate::inventory::Inventory;
use crate::report::{Finding, Report, RunError};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Junit,
    Sarif,
    Html,
    /// OCSF 1.5.0 Compliance Findings (a JSON array).
    Ocsf,
    /// AWS Security Finding Format (a JSON array for Security Hub BatchImportFindings).
    Asff,
}

/// Where and how a command writes its report.
#[derive(clap::Args)]
pub struct OutputArgs {
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file (whole, or not at all) instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// `--inventory`, for the commands that build a key inventory.
#[derive(clap::Args)]
pub struct InventoryArg {
    /// Write the key inventory (table, JSON or CSV) instead of the findings:
    /// per key, its manager, state, rotation, owner and the resources it
    /// protects. The JSON and HTML reports hold it anyway.
    #[arg(long)]
    pub inventory: bool,
}

impl InventoryArg {
    /// Refuses, before anything is evaluated, a format the inventory is not
    /// written in.
    pub fn check(&self, output: &OutputArgs) -> Result<(), CliError> {
        match output.format() {
            Format::Table | Format::Json | Format::Csv => Ok(()),
            _ if !self.inventory => Ok(()),
            other => Err(not_an_inventory_format(other)),
        }
    }
}

/// The error of `--inventory` in a format it is not written in.
fn not_an_inventory_format(format: Format) -> CliError {
    CliError::Usage(format!(
        "--inventory is written as table, json or csv, not {}",
        format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    ))
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        self.format
            .unwrap_or(if std::io::stdout().is_terminal() && self.output.is_none() {
                Format::Table
            } else {
                Format::Json
            })
    }
}

/// The JSON report: the findings, and the key inventory when there is one.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    findings: &'a [Finding],
    /// What could not be assessed (only when something could not).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [RunError],
    #[serde(skip_serializing_if = "Option::is_none")]
    key_inventory: Option<&'a Inventory>,
}

/// Renders the report in the chosen format into `out`.
pub fn render(report: &Report<'_>, format: Format, out: &mut dyn Write) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Write(e);
    match format {
        Format::Json => json(
            &JsonReport {
                findings: report.findings,
                errors: report.errors,
                key_inventory: report.inventory,
            },
            out,
        ),
        Format::Table => table(report, out).map_err(io),
        Format::Csv => csv_format(report, out),
        Format::Junit => crate::junit::write(report, out).map_err(io),
        Format::Sarif => json(&crate::sarif::log(report), out),
        Format::Html => out.write_all(crate::html::render(report)?.as_bytes()).map_err(io),
        Format::Ocsf => json(&crate::ocsf::events(report), out),
        Format::Asff => json(&crate::asff::findings(report)?, out),
    }
}

fn json(value: &impl serde::Serialize, out: &mut dyn Write) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| CliError::Write(e.into()))?;
    out.write_all(b"\n").map_err(CliError::Write)
}

/// Renders the key inventory alone (table, JSON or CSV).
pub fn render_inventory(inventory: &Inventory, format: Format, out: &mut dyn Write) -> Result<(), CliError> {
    match format {
        Format::Json => json(inventory, out),
        Format::Table => inventory_table(inventory, out).map_err(CliError::Write),
        Format::Csv => inventory_csv(inventory, out),
        other => Err(not_an_inventory_format(other)),
    }
}

/// Renders the report, or with `--inventory` its key inventory, straight
/// to `--output` (whole, or not at all) or stdout.
pub fn emit_report(report: &Report<'_>, output: &OutputArgs, inventory_only: bool) -> Result<(), CliError> {
    match (inventory_only, report.inventory) {
        (true, Some(inventory)) => emit_with(output.output.as_deref(), |w| {
            render_inventory(inventory, output.format(), w)
        }),
        _ => emit_with(output.output.as_deref(), |w| render(report, output.format(), w)),
    }
}

fn table(report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<40} {:>9} {:>13} {:>14}",
        "RULE", "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"
    )?;
    for (spec, c) in report.per_rule() {
        writeln!(
            out,
            "{:<40} {:>9} {:>13} {:>14}",
            spec.id, c.compliant, c.non_compliant, c.not_applicable
        )?;
    }
    let count = |c: Compliance| report.findings.iter().filter(|f| f.compliance == c).count();
    writeln!(
        out,
        "\n{} evaluated: {} compliant, {} non-compliant, {} not applicable",
        report.findings.len(),
        count(Compliance::Compliant),
        count(Compliance::NonCompliant),
        count(Compliance::NotApplicable)
    )?;
    let accounts = report.per_account();
    let failing: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.compliance == Compliance::NonCompliant)
        .collect();
    if !failing.is_empty() {
        writeln!(out, "\nNON_COMPLIANT:")?;
        for f in failing {
            writeln!(
                out,
                "  {}  {} {}{}\n      {}",
                f.rule,
                f.resource_type,
                f.resource_id,
                f.account_id
                    .as_deref()
                    .filter(|_| accounts.len() > 1)
                    .map_or_else(String::new, |a| format!(
                        "  [{a} {}]",
                        f.region.as_deref().unwrap_or("-")
                    )),
                f.annotation.as_deref().unwrap_or("")
            )?;
            if let Some(at) = &f.recorded_at {
                writeln!(out, "      recorded {at} ({} ago)", crate::aggregator::age_of(at))?;
            }
        }
    }
    if accounts.len() > 1 || !report.errors.is_empty() {
        writeln!(
            out,
            "\n{:<14} {:>9} {:>13} {:>14} {:>6}",
            "ACCOUNT", "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "ERRORS"
        )?;
        for a in &accounts {
            writeln!(
                out,
                "{:<14} {:>9} {:>13} {:>14} {:>6}",
                if a.account.is_empty() { "-" } else { &a.account },
                a.compliant,
                a.non_compliant,
                a.not_applicable,
                a.errors
            )?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(out, "\nNOT ASSESSED:")?;
        for e in report.errors {
            writeln!(out, "  {}\n      {}", e.place(), e.reason)?;
        }
    }
    if let Some(inventory) = report.inventory {
        inventory_summary(inventory, out)?;
    }
    Ok(())
}

/// The key inventory in a few lines: counts, and each key's finding.
fn inventory_summary(inventory: &Inventory, out: &mut dyn Write) -> std::io::Result<()> {
    let customer = inventory.keys.iter().filter(|k| k.manager == Some("CUSTOMER")).count();
    let unused = inventory.keys.iter().filter(|k| k.unused).count();
    writeln!(
        out,
        "\nKEYS: {} listed, {customer} customer-managed, {unused} unused (--inventory lists them)",
        inventory.keys.len()
    )?;
    for key in inventory.findings() {
        writeln!(out, "  {}", key.finding.as_deref().unwrap_or(""))?;
    }
    Ok(())
}

fn inventory_table(inventory: &Inventory, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36} {:<12} {:<10} {:<8} {:<16} {:<13} {:>9}",
        "KEY", "ACCOUNT", "REGION", "MANAGER", "STATE", "ROTATION", "PROTECTS"
    )?;
    for k in &inventory.keys {
        let id = k.key_id.as_deref().unwrap_or(&k.key);
        let protects = if k.unused {
            "unused".to_owned()
        } else {
            k.protected_resources.to_string()
        };
        writeln!(
            out,
            "{id:<36} {:<12} {:<10} {:<8} {:<16} {:<13} {protects:>9}",
            k.account_id.as_deref().unwrap_or("-"),
            k.region.as_deref().unwrap_or("-"),
            k.manager.unwrap_or("-"),
            k.state,
            k.rotation,
        )?;
        for (resource_type, ids) in &k.protects {
            writeln!(out, "    {resource_type}: {}", ids.join(", "))?;
        }
        if k.unlisted > 0 {
            writeln!(out, "    ... and {} more resources", k.unlisted)?;
        }
        for line in [&k.finding, &k.note].into_iter().flatten() {
            writeln!(out, "    ! {line}")?;
        }
    }
    Ok(())
}

/// One row per key and resource it protects; a key that protects nothing
/// has one row with no resource.
fn inventory_csv(inventory: &Inventory, out: &mut dyn Write) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| CliError::Write(std::io::Error::other(e));
    w.write_record([
        "key",
        "keyId",
        "accountId",
        "region",
        "manager",
        "state",
        "deletionDate",
        "rotation",
        "rotationPeriodDays",
        "resourceType",
        "resourceId",
        "unused",
        "finding",
        "note",
    ])
    .map_err(csv_err)?;
    for k in &inventory.keys {
        let period = k.rotation_period_days.map(|d| d.to_string()).unwrap_or_default();
        let unused = k.unused.to_string();
        let row = |resource_type: &str, resource_id: &str| {
            [
                k.key.clone(),
                k.key_id.clone().unwrap_or_default(),
                k.account_id.clone().unwrap_or_default(),
                k.region.clone().unwrap_or_default(),
                k.manager.unwrap_or_default().to_owned(),
                k.state.clone(),
                k.deletion_date.clone().unwrap_or_default(),
                k.rotation.to_owned(),
                period.clone(),
                resource_type.to_owned(),
                resource_id.to_owned(),
                unused.clone(),
                k.finding.clone().unwrap_or_default(),
                k.note.clone().unwrap_or_default(),
            ]
        };
        if k.protects.is_empty() {
            w.write_record(row("", "")).map_err(csv_err)?;
        }
        for (resource_type, ids) in &k.protects {
            for id in ids {
                w.write_record(row(resource_type, id)).map_err(csv_err)?;
            }
        }
    }
    w.flush().map_err(CliError::Write)
}

/// The columns of the CSV report.
pub const CSV_HEADER: [&str; 8] = [
    "rule",
    "resourceType",
    "resourceId",
    "compliance",
    "annotation",
    "orderingTimestamp",
    "accountId",
    "region",
];

/// One finding's CSV row.
pub fn csv_record(f: &Finding) -> [&str; 8] {
    [
        f.rule,
        &f.resource_type,
        &f.resource_id,
        f.compliance.as_str(),
        f.annotation.as_deref().unwrap_or(""),
        &f.ordering_timestamp,
        f.account_id.as_deref().unwrap_or(""),
        f.region.as_deref().unwrap_or(""),
    ]
}

fn csv_format(report: &Report<'_>, out: &mut dyn Write) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| CliError::Write(std::io::Error::other(e));
    w.write_record(CSV_HEADER).map_err(csv_err)?;
    for f in report.findings {
        w.write_record(csv_record(f)).map_err(csv_err)?;
    }
    w.flush().map_err(CliError::Write)
}

/// A value as pretty JSON (two-space indents), as the JSON report writes it.
pub fn json_pretty(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::Write(e.into()))
}

/// Writes a run's spilled findings (and the key inventory) as its report,
/// or with `--inventory` the inventory alone, to `--output` or stdout.
pub fn emit_spill(
    spill: crate::spill::Spill,
    inventory: Option<&Inventory>,
    output: &OutputArgs,
    inventory_only: bool,
) -> Result<(), CliError> {
    match (inventory_only, inventory) {
        (true, Some(inventory)) => emit_with(output.output.as_deref(), |w| {
            render_inventory(inventory, output.format(), w)
        }),
        _ => emit_with(output.output.as_deref(), |w| spill.write(inventory, w)),
    }
}

/// Writes `bytes` to `output` (whole, or not at all) or stdout.
pub fn emit(bytes: &[u8], output: Option<&Path>) -> Result<(), CliError> {
    emit_with(output, |w| w.write_all(bytes).map_err(CliError::Write))
}

/// Runs `write` on a buffered stdout, or on a file beside `output` that is
/// renamed to it only when everything was written: a failure leaves no
/// partial report behind.
pub fn emit_with(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<(), CliError>,
) -> Result<(), CliError> {
    const BUFFER: usize = 1 << 16;
    match output {
        None => {
            let mut out = BufWriter::with_capacity(BUFFER, std::io::stdout().lock());
            write(&mut out)?;
            out.flush().map_err(CliError::Write)
        }
        Some(path) => {
            let tmp = path.with_extension("atrest-partial");
            let written = std::fs::File::create(&tmp).map_err(CliError::Write).and_then(|file| {
                let mut out = BufWriter::with_capacity(BUFFER, file);
                write(&mut out)?;
                out.flush().map_err(CliError::Write)?;
                std::fs::rename(&tmp, path).map_err(CliError::Write)
            });
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written
        }
    }
}
