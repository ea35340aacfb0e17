//! How a report is written: the `--format` (table, JSON, CSV, JUnit,
//! SARIF 2.1.0, a self-contained HTML evidence page) and `--output` (a file
//! written whole, or not at all; else stdout).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use atrest_common::Compliance;
use clap::ValueEnum;

use crate::error::CliError;
use crate::report::{Finding, Report};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Junit,
    Sarif,
    Html,
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

/// Renders the report in the chosen format into `out`.
pub fn render(report: &Report<'_>, format: Format, out: &mut dyn Write) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Write(e);
    let json = |e: serde_json::Error| CliError::Write(e.into());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report.findings).map_err(json)?;
            out.write_all(b"\n").map_err(io)
        }
        Format::Table => table(report, out).map_err(io),
        Format::Csv => csv_format(report, out),
        Format::Junit => crate::junit::write(report, out).map_err(io),
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &crate::sarif::log(report)).map_err(json)?;
            out.write_all(b"\n").map_err(io)
        }
        Format::Html => out.write_all(crate::html::render(report)?.as_bytes()).map_err(io),
    }
}

/// Renders the report straight to `--output` (whole, or not at all) or stdout.
pub fn emit_report(report: &Report<'_>, output: &OutputArgs) -> Result<(), CliError> {
    emit_with(output.output.as_deref(), |w| render(report, output.format(), w))
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
                "  {}  {} {}\n      {}",
                f.rule,
                f.resource_type,
                f.resource_id,
                f.annotation.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

fn csv_format(report: &Report<'_>, out: &mut dyn Write) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| CliError::Write(std::io::Error::other(e));
    w.write_record([
        "rule",
        "resourceType",
        "resourceId",
        "compliance",
        "annotation",
        "orderingTimestamp",
        "accountId",
        "region",
    ])
    .map_err(csv_err)?;
    for f in report.findings {
        w.write_record([
            f.rule,
            &f.resource_type,
            &f.resource_id,
            f.compliance.as_str(),
            f.annotation.as_deref().unwrap_or(""),
            &f.ordering_timestamp,
            f.account_id.as_deref().unwrap_or(""),
            f.region.as_deref().unwrap_or(""),
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(CliError::Write)
}

/// Writes `bytes` to `output` (whole, or not at all) or stdout.
pub fn emit(bytes: &[u8], output: Option<&Path>) -> Result<(), CliError> {
    emit_with(output, |w| w.write_all(bytes).map_err(CliError::Write))
}

/// Runs `write` on a buffered stdout, or on a file beside `output` that is
/// renamed to it only when everything was written: a failure leaves no
/// partial report behind.
fn emit_with(
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
