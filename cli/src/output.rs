//! Printing evaluations: a readable table, or JSON.

use std::io::Write;

use atrest_common::{Compliance, Evaluation};
use aws_smithy_types::date_time::Format as DateFormat;
use serde::Serialize;

use crate::{CliError, Format};

/// One evaluation with what it was about.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: &'static str,
    pub resource_type: String,
    pub resource_id: String,
    pub compliance: Compliance,
    pub annotation: Option<String>,
    pub ordering_timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Finding {
    pub fn new(rule: &'static str, e: Evaluation, account_id: Option<String>, region: Option<String>) -> Self {
        Finding {
            rule,
            ordering_timestamp: e
                .ordering_timestamp
                .fmt(DateFormat::DateTime)
                .unwrap_or_else(|_| e.ordering_timestamp.secs().to_string()),
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            compliance: e.compliance,
            annotation: e.annotation,
            account_id,
            region,
        }
    }
}

/// Writes the findings in the chosen format.
pub fn write(findings: &[Finding], format: Format, out: &mut dyn Write) -> Result<(), CliError> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, findings).map_err(|e| CliError::Write(e.into()))?;
            writeln!(out).map_err(CliError::Write)
        }
        Format::Table => table(findings, out).map_err(CliError::Write),
    }
}

fn table(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    let headers = ["RULE", "RESOURCE TYPE", "RESOURCE ID", "COMPLIANCE", "ANNOTATION"];
    let rows: Vec<[&str; 5]> = findings
        .iter()
        .map(|f| {
            [
                f.rule,
                f.resource_type.as_str(),
                f.resource_id.as_str(),
                f.compliance.as_str(),
                f.annotation.as_deref().unwrap_or(""),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 5], out: &mut dyn Write| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 4 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(headers, out)?;
    for row in rows {
        line(row, out)?;
    }
    let count = |c: Compliance| findings.iter().filter(|f| f.compliance == c).count();
    writeln!(
        out,
        "\n{} evaluated: {} compliant, {} non-compliant, {} not applicable",
        findings.len(),
        count(Compliance::Compliant),
        count(Compliance::NonCompliant),
        count(Compliance::NotApplicable)
    )
}
