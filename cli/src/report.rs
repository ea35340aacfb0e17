//! What a command found: its findings, the report they make, and the
//! counts every format shows (per rule, per PCI DSS requirement).

use std::collections::BTreeMap;

use atrest_common::report::Counts;
use atrest_common::{Compliance, Evaluation, RuleSpec};
use aws_smithy_types::date_time::Format as DateFormat;
use serde::Serialize;

use crate::inventory::Inventory;

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
    /// When AWS Config recorded the result (`report --aggregator`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<String>,
}

impl Finding {
    /// The report's order: rule, account, region, resource type and id.
    pub fn order_key(&self) -> (&str, &Option<String>, &Option<String>, &str, &str) {
        (
            self.rule,
            &self.account_id,
            &self.region,
            &self.resource_type,
            &self.resource_id,
        )
    }

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
            recorded_at: None,
        }
    }
}

/// A part of a run that could not be assessed — an account whose role
/// could not be assumed, a region or a rule's sweep that failed — shown
/// in the report and making the exit code 2.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub reason: String,
}

impl RunError {
    /// Where it happened: "account 111122223333, region eu-west-1, rule ebs-volume-encrypted".
    pub fn place(&self) -> String {
        let parts: Vec<String> = [
            self.account_id.as_ref().map(|a| format!("account {a}")),
            self.region.as_ref().map(|r| format!("region {r}")),
            self.rule.as_ref().map(|r| format!("rule {r}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "the run".to_owned()
        } else {
            parts.join(", ")
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
    /// The key inventory (`scan` and `snapshot`).
    pub inventory: Option<&'a Inventory>,
    /// What could not be assessed (exit code 2).
    pub errors: &'a [RunError],
    /// The regions the run covered (`scan`), where an error of a whole
    /// account (its role could not be assumed) left each unassessed.
    pub regions: &'a [String],
}

impl<'a> Report<'a> {
    /// A report generated now.
    pub fn new(findings: &'a [Finding], rules: Vec<&'static RuleSpec>, source: String) -> Self {
        Report {
            findings,
            rules,
            source,
            generated_at: now_text(),
            inventory: None,
            errors: &[],
            regions: &[],
        }
    }

    /// The same report with what the run could not assess.
    pub fn with_errors(mut self, errors: &'a [RunError]) -> Self {
        self.errors = errors;
        self
    }

    /// The same report with the regions the run covered.
    pub fn with_regions(mut self, regions: &'a [String]) -> Self {
        self.regions = regions;
        self
    }

    /// Counts per account (findings without one under ""), with each
    /// account's errors, in account order.
    pub fn per_account(&self) -> Vec<AccountRow> {
        let mut rows: BTreeMap<&str, AccountRow> = BTreeMap::new();
        let row = |account: &str| AccountRow {
            account: account.to_owned(),
            compliant: 0,
            non_compliant: 0,
            not_applicable: 0,
            errors: 0,
        };
        for f in self.findings {
            let account = f.account_id.as_deref().unwrap_or("");
            let r = rows.entry(account).or_insert_with(|| row(account));
            match f.compliance {
                Compliance::Compliant => r.compliant += 1,
                Compliance::NonCompliant => r.non_compliant += 1,
                Compliance::NotApplicable => r.not_applicable += 1,
            }
        }
        for e in self.errors {
            let account = e.account_id.as_deref().unwrap_or("");
            rows.entry(account).or_insert_with(|| row(account)).errors += 1;
        }
        rows.into_values().collect()
    }

    /// The same report with the run's key inventory.
    pub fn with_inventory(mut self, inventory: &'a Inventory) -> Self {
        self.inventory = Some(inventory);
        self
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
        let mut a: Vec<String> = self
            .findings
            .iter()
            .filter_map(|f| f.account_id.clone())
            .chain(self.errors.iter().filter_map(|e| e.account_id.clone()))
            .collect();
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
    pub fn per_rule(&self) -> Vec<(&'static RuleSpec, Counts)> {
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

/// The numbers the HTML page needs, as serialisable data.
#[derive(Serialize)]
pub struct PageSummary {
    pub per_rule: Vec<RuleRow>,
    pub per_requirement: Vec<RequirementRow>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub per_account: Vec<AccountRow>,
    pub errors: Vec<ErrorRow>,
}

/// One account's totals.
#[derive(Serialize)]
pub struct AccountRow {
    pub account: String,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub errors: usize,
}

/// One error, as the HTML page shows it.
#[derive(Serialize)]
pub struct ErrorRow {
    pub account: String,
    pub place: String,
    pub reason: String,
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
    pub fn summary(&self) -> PageSummary {
        PageSummary {
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
            per_account: self.per_account(),
            errors: self
                .errors
                .iter()
                .map(|e| ErrorRow {
                    account: e.account_id.clone().unwrap_or_default(),
                    place: e.place(),
                    reason: e.reason.clone(),
                })
                .collect(),
        }
    }
}

/// The current time, ISO 8601.
pub fn now_text() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(DateFormat::DateTime)
        .unwrap_or_default()
}

/// The exit code of a report: 2 when something could not be assessed, 1
/// when something is NON_COMPLIANT or the key inventory has a finding,
/// else 0.
pub fn exit_code(report: &Report<'_>) -> u8 {
    if !report.errors.is_empty() {
        return crate::error::EXIT_ERROR;
    }
    let non_compliant = report.findings.iter().any(|f| f.compliance == Compliance::NonCompliant);
    exit_code_of(non_compliant, report.inventory)
}

/// The exit code of a run with (or without) a NON_COMPLIANT finding and
/// this key inventory.
pub fn exit_code_of(non_compliant: bool, inventory: Option<&Inventory>) -> u8 {
    let inventory_finding = inventory.is_some_and(|i| i.findings().next().is_some());
    if inventory_finding || non_compliant {
        crate::error::EXIT_NON_COMPLIANT
    } else {
        crate::error::EXIT_OK
    }
}
