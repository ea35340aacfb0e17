//! `--format ocsf`: each finding as an OCSF 1.5.0 Compliance Finding
//! (class 2003, category Findings, the class Prowler emits), with the
//! `cloud` profile, as a JSON array — typed, so a misspelt field does not
//! compile; tested against the class's JSON Schema (cli/tests/schemas/).
//!
//! COMPLIANT is compliance status Pass, NON_COMPLIANT Fail, NOT_APPLICABLE
//! Other ("Not applicable"). A NON_COMPLIANT finding has severity Medium,
//! the others Informational. The PCI DSS requirements of the rule are the
//! compliance requirements ("PCI DSS v4.0 3.5.1").

use atrest_common::{Compliance, RuleSpec};
use serde::Serialize;

use crate::report::{Finding, Report};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";
const CLASS_UID: u32 = 2003;
const CATEGORY_UID: u32 = 2;
/// Activity 1, Create: the finding as this run made it.
const ACTIVITY_ID: u32 = 1;
/// OCSF account type 10: an AWS account.
const AWS_ACCOUNT_TYPE: u32 = 10;

#[derive(Serialize)]
pub struct Event<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    /// When the run made the finding, milliseconds since the epoch.
    time: i64,
    severity_id: u32,
    severity: &'static str,
    status_id: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    metadata: Metadata,
    cloud: Cloud<'a>,
    compliance: OcsfCompliance<'a>,
    finding_info: FindingInfo<'a>,
    resources: [Resource<'a>; 1],
}

#[derive(Serialize)]
struct Metadata {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
}

#[derive(Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<Account<'a>>,
}

#[derive(Serialize)]
struct Account<'a> {
    uid: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct OcsfCompliance<'a> {
    control: &'a str,
    desc: &'a str,
    status_id: u32,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_details: Vec<&'a str>,
    standards: Vec<&'static str>,
    requirements: Vec<String>,
}

#[derive(Serialize)]
struct FindingInfo<'a> {
    uid: String,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    desc: Option<&'a str>,
    types: [&'static str; 1],
}

#[derive(Serialize)]
struct Resource<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    cloud_partition: &'static str,
}

/// The AWS partition of a region.
pub fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// The stable id of a finding: the same rule, account, region and
/// resource make the same id in every run (so a re-import updates it).
pub fn finding_uid(f: &Finding) -> String {
    format!(
        "atrest/{}/{}/{}/{}/{}",
        f.rule,
        f.account_id.as_deref().unwrap_or("-"),
        f.region.as_deref().unwrap_or("-"),
        f.resource_type,
        f.resource_id
    )
}

/// The PCI DSS standards and requirements of a rule.
pub fn pci_requirements(spec: Option<&RuleSpec>) -> (Vec<&'static str>, Vec<String>) {
    let mut standards = Vec::new();
    let mut requirements = Vec::new();
    if let Some(spec) = spec {
        for (standard, reqs) in [
            ("PCI DSS v4.0", spec.pci_dss.v4_0),
            ("PCI DSS v3.2.1", spec.pci_dss.v3_2_1),
        ] {
            if !reqs.is_empty() {
                standards.push(standard);
            }
            requirements.extend(reqs.iter().map(|r| format!("{standard} {r}")));
        }
    }
    (standards, requirements)
}

/// The report's findings as OCSF Compliance Findings.
pub fn events<'a>(report: &'a Report<'_>) -> Vec<Event<'a>> {
    let time = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .to_millis()
        .unwrap_or_default();
    report
        .findings
        .iter()
        .map(|f| {
            let spec = report.rules.iter().copied().find(|s| s.id == f.rule);
            let (standards, requirements) = pci_requirements(spec);
            let (status_id, status) = match f.compliance {
                Compliance::Compliant => (1, "Pass"),
                Compliance::NonCompliant => (3, "Fail"),
                Compliance::NotApplicable => (99, "Not applicable"),
            };
            let (severity_id, severity) = match f.compliance {
                Compliance::NonCompliant => (3, "Medium"),
                _ => (1, "Informational"),
            };
            let annotation = f.annotation.as_deref();
            Event {
                activity_id: ACTIVITY_ID,
                activity_name: "Create",
                category_uid: CATEGORY_UID,
                category_name: "Findings",
                class_uid: CLASS_UID,
                class_name: "Compliance Finding",
                type_uid: CLASS_UID * 100 + ACTIVITY_ID,
                type_name: "Compliance Finding: Create",
                time,
                severity_id,
                severity,
                status_id: 1,
                status: "New",
                message: annotation,
                metadata: Metadata {
                    version: OCSF_VERSION,
                    product: Product {
                        name: "atrest",
                        vendor_name: "atrest",
                        version: env!("CARGO_PKG_VERSION"),
                    },
                    profiles: ["cloud"],
                },
                cloud: Cloud {
                    provider: "AWS",
                    region: f.region.as_deref(),
                    account: f.account_id.as_deref().map(|uid| Account {
                        uid,
                        type_id: AWS_ACCOUNT_TYPE,
                        kind: "AWS Account",
                    }),
                },
                compliance: OcsfCompliance {
                    control: f.rule,
                    desc: spec.map_or("", |s| s.description),
                    status_id,
                    status,
                    status_details: annotation.into_iter().collect(),
                    standards,
                    requirements,
                },
                finding_info: FindingInfo {
                    uid: finding_uid(f),
                    title: spec.map_or(f.rule, |s| s.description),
                    desc: annotation,
                    types: ["Configuration"],
                },
                resources: [Resource {
                    uid: &f.resource_id,
                    kind: &f.resource_type,
                    region: f.region.as_deref(),
                    cloud_partition: partition(f.region.as_deref()),
                }],
            }
        })
        .collect()
}
