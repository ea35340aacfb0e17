//! The findings of a command, and their formats: table, JSON, CSV, JUnit,
//! SARIF 2.1.0 and a self-contained HTML evidence page.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use atrest_common::report::Counts;
use atrest_common::{Compliance, Evaluation, RuleSpec};
use aws_smithy_types::date_time::Format as DateFormat;
use serde::Serialize;

use crate::{CliError, Format, OutputArgs};

/// One evaluation with what it was about.
#[derive(Debug, Clone, Serialize)]
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

/// What a report is about, beyond its findings.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    /// The rules that ran, in order.
    pub rules: Vec<&'static RuleSpec>,
    /// Where the data came from (files, or "live scan").
    pub source: String,
    pub generated_at: String,
}

impl<'a> Report<'a> {
    /// A report generated now.
    pub fn new(findings: &'a [Finding], rules: Vec<&'static RuleSpec>, source: String) -> Self {
        Report {
            findings,
            rules,
            source,
            generated_at: crate::now_text(),
        }
    }

    /// The source text of a report on these files.
    pub fn files(paths: &[std::path::PathBuf]) -> String {
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn accounts(&self) -> Vec<String> {
        let mut a: Vec<String> = self.findings.iter().filter_map(|f| f.account_id.clone()).collect();
        a.sort();
        a.dedup();
        a
    }

    fn regions(&self) -> Vec<String> {
        let mut r: Vec<String> = self.findings.iter().filter_map(|f| f.region.clone()).collect();
        r.sort();
        r.dedup();
        r
    }

    /// Counts per rule, in rule order.
    fn per_rule(&self) -> Vec<(&'static RuleSpec, Counts)> {
        self.rules
            .iter()
            .map(|spec| {
                let mut c = Counts::default();
                for f in self.findings.iter().filter(|f| f.rule == spec.id) {
                    c.add(f.compliance);
                }
                (*spec, c)
            })
            .collect()
    }

    /// Counts per PCI DSS requirement, in requirement order.
    fn per_requirement(&self) -> Vec<RequirementRow> {
        let mut rows: BTreeMap<(String, Vec<u32>), RequirementRow> = BTreeMap::new();
        for (spec, counts) in self.per_rule() {
            for (version, reqs) in [("v3.2.1", spec.pci_dss.v3_2_1), ("v4.0", spec.pci_dss.v4_0)] {
                for req in reqs {
                    let order: Vec<u32> = req.split('.').filter_map(|p| p.parse().ok()).collect();
                    let row = rows
                        .entry((version.to_owned(), order))
                        .or_insert_with(|| RequirementRow {
                            version: version.to_owned(),
                            requirement: (*req).to_owned(),
                            compliant: 0,
                            non_compliant: 0,
                            not_applicable: 0,
                            rules: Vec::new(),
                        });
                    row.compliant += counts.compliant;
                    row.non_compliant += counts.non_compliant;
                    row.not_applicable += counts.not_applicable;
                    row.rules.push(spec.id);
                }
            }
        }
        rows.into_values().collect()
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
        Format::Junit => junit(report, out).map_err(io),
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(report)).map_err(json)?;
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

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn junit(report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let failures = |id: &str| {
        report
            .findings
            .iter()
            .filter(|f| f.rule == id && f.compliance == Compliance::NonCompliant)
            .count()
    };
    let total_failures: usize = report.rules.iter().map(|s| failures(s.id)).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="atrest" tests="{}" failures="{total_failures}">"#,
        report.findings.len()
    )?;
    for spec in &report.rules {
        let cases: Vec<&Finding> = report.findings.iter().filter(|f| f.rule == spec.id).collect();
        let skipped = cases
            .iter()
            .filter(|f| f.compliance == Compliance::NotApplicable)
            .count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" skipped="{skipped}">"#,
            xml_escape(spec.id),
            cases.len(),
            failures(spec.id)
        )?;
        for f in cases {
            let name = xml_escape(&format!("{} {}", f.resource_type, f.resource_id));
            let annotation = xml_escape(f.annotation.as_deref().unwrap_or(""));
            match f.compliance {
                Compliance::Compliant => writeln!(out, r#"    <testcase classname="{}" name="{name}"/>"#, spec.id)?,
                Compliance::NonCompliant => writeln!(
                    out,
                    r#"    <testcase classname="{}" name="{name}"><failure type="NON_COMPLIANT" message="{annotation}">{annotation}</failure></testcase>"#,
                    spec.id
                )?,
                Compliance::NotApplicable => writeln!(
                    out,
                    r#"    <testcase classname="{}" name="{name}"><skipped message="NOT_APPLICABLE: {annotation}"/></testcase>"#,
                    spec.id
                )?,
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn sarif(report: &Report<'_>) -> serde_json::Value {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = report
        .rules
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "name": s.id,
                "shortDescription": {"text": s.description},
                "helpUri": format!("https://github.com/atrest/atrest#{}", s.id),
                "properties": {
                    "tags": ["security", "encryption", "kms"],
                    "pciDss-v3.2.1": s.pci_dss.v3_2_1,
                    "pciDss-v4.0": s.pci_dss.v4_0,
                },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .filter(|f| f.compliance != Compliance::Compliant)
        .map(|f| {
            let level = if f.compliance == Compliance::NonCompliant {
                "error"
            } else {
                "none"
            };
            let kind = if f.compliance == Compliance::NonCompliant {
                "fail"
            } else {
                "notApplicable"
            };
            json!({
                "ruleId": f.rule,
                "ruleIndex": report.rules.iter().position(|s| s.id == f.rule),
                "level": level,
                "kind": kind,
                "message": {"text": f.annotation.clone().unwrap_or_else(|| f.compliance.to_string())},
                "locations": [{
                    "logicalLocations": [{
                        "name": f.resource_id,
                        "fullyQualifiedName": format!("{}/{}", f.resource_type, f.resource_id),
                        "kind": "resource",
                    }]
                }],
                "properties": {
                    "resourceType": f.resource_type,
                    "compliance": f.compliance,
                    "accountId": f.account_id,
                    "region": f.region,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "atrest",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/atrest/atrest",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// The numbers the HTML page needs, as serialisable data.
#[derive(Serialize)]
pub struct Summary {
    pub per_rule: Vec<RuleRow>,
    pub per_requirement: Vec<RequirementRow>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

#[derive(Serialize)]
pub struct RuleRow {
    pub id: &'static str,
    pub description: &'static str,
    /// What a COMPLIANT proves and what it does not.
    pub evidence: &'static str,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
}

#[derive(Serialize)]
pub struct RequirementRow {
    pub version: String,
    pub requirement: String,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub rules: Vec<&'static str>,
}

impl Report<'_> {
    pub fn summary(&self) -> Summary {
        Summary {
            per_rule: self
                .per_rule()
                .into_iter()
                .map(|(s, c)| RuleRow {
                    id: s.id,
                    description: s.description,
                    evidence: s.evidence,
                    compliant: c.compliant,
                    non_compliant: c.non_compliant,
                    not_applicable: c.not_applicable,
                })
                .collect(),
            per_requirement: self.per_requirement(),
            accounts: self.accounts(),
            regions: self.regions(),
        }
    }
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
