//! The self-contained HTML evidence page (no external assets).

use atrest_common::Compliance;
use minijinja::{context, Environment};

use crate::error::CliError;
use crate::report::Report;

const TEMPLATE: &str = include_str!("../templates/report.html");

/// Renders the page; text is HTML-escaped by the template engine.
pub fn render(report: &Report<'_>) -> Result<String, CliError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| CliError::Write(std::io::Error::other(e)))?;
    let count = |c: Compliance| report.findings.iter().filter(|f| f.compliance == c).count();
    let summary = report.summary();
    let max_rule = summary
        .per_rule
        .iter()
        .map(|r| r.compliant + r.non_compliant + r.not_applicable)
        .max()
        .unwrap_or(0);
    env.get_template("report.html")
        .and_then(|t| {
            t.render(context! {
                generated_at => report.generated_at.as_str(),
                version => env!("CARGO_PKG_VERSION"),
                source => report.source.as_str(),
                total => report.findings.len(),
                compliant => count(Compliance::Compliant),
                non_compliant => count(Compliance::NonCompliant),
                not_applicable => count(Compliance::NotApplicable),
                max_rule => max_rule,
                summary => minijinja::value::Serde(&summary),
                findings => minijinja::value::Serde(report.findings),
                inventory => report.inventory.map(minijinja::value::Serde),
            })
        })
        .map_err(|e| CliError::Write(std::io::Error::other(e)))
}
