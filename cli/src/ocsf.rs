//! `--format ocsf`: each finding as an OCSF 1.5.0 Compliance Finding
//! (class 2003, category Findings, the class Prowler emits), with the
//! `cloud` profile, as a JSON array — typed, so a misspelt field does not
//! compile; tested against the class's JSON Schema (cli/tests/schemas/).
//!
//! COMPLIANT is compliance status Pass, NON_COMPLIANT Fail, NOT_APPLICABLE
//! Other ("Not applicable"). A NON_COMPLIANT finding has severity Medium,
//! the others Informational. The PCI DSS requirements of the rule are the
//! compliance requirements ("PCI DSS v4.0 3.5.1").
//!
//! What the run could not assess is an event too, after the findings:
//! compliance status Unknown, severity Unknown, the reason as its status
//! detail, and the account (`AWS::::Account`) as its resource when it is
//! known — so a consumer of the events sees the gap, not a clean account.

use std::borrow::Cow;

use atrest_common::{Compliance, RuleSpec};
use serde::Serialize;

use crate::report::{Finding, Report, RunError};

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
    message: Option<Cow<'a, str>>,
    metadata: Metadata,
    cloud: Cloud<'a>,
    compliance: OcsfCompliance<'a>,
    finding_info: FindingInfo<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
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
    title: Cow<'a, str>,
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

/// The report's findings as OCSF Compliance Findings, then what it could
/// not assess.
pub fn events<'a>(report: &'a Report<'_>) -> Vec<Event<'a>> {
    let time = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .to_millis()
        .unwrap_or_default();
    report
        .findings
        .iter()
        .map(|f| finding_event(report, f, time))
        .chain(report.errors.iter().map(|e| not_assessed_event(report, e, time)))
        .collect()
}

fn finding_event<'a>(report: &'a Report<'_>, f: &'a Finding, time: i64) -> Event<'a> {
    let spec = report.rules.iter().copied().find(|s| s.id == f.rule);
    let (standards, requirements) = pci_requirements(spec);
    let (status_id, status) = match f.compliance {
        Compliance::Compliant => (1, "Pass"),
        Compliance::NonCompliant => (3, "Fail"),
        Compliance::NotApplicable => (99, "Not applicable"),
    };
    let severity = match f.compliance {
        Compliance::NonCompliant => (3, "Medium"),
        _ => (1, "Informational"),
    };
    let annotation = f.annotation.as_deref();
    let what = What {
        message: annotation.map(Cow::Borrowed),
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
            title: spec.map_or(f.rule, |s| s.description).into(),
            desc: annotation,
            types: ["Configuration"],
        },
        resources: vec![Resource {
            uid: &f.resource_id,
            kind: &f.resource_type,
            region: f.region.as_deref(),
            cloud_partition: partition(f.region.as_deref()),
        }],
    };
    event(time, severity, f.account_id.as_deref(), f.region.as_deref(), what)
}

/// The Config resource type of an account, as an error's resource.
pub const ACCOUNT_TYPE: &str = "AWS::::Account";

/// The stable id of what a run could not assess (rule, account and region).
pub fn not_assessed_uid(e: &RunError) -> String {
    format!(
        "atrest/{}/{}/{}/not-assessed",
        e.rule.as_deref().unwrap_or("-"),
        e.account_id.as_deref().unwrap_or("-"),
        e.region.as_deref().unwrap_or("-")
    )
}

fn not_assessed_event<'a>(report: &'a Report<'_>, e: &'a RunError, time: i64) -> Event<'a> {
    let rule = e.rule.as_deref();
    let spec = report.rules.iter().copied().find(|s| Some(s.id) == rule);
    let (standards, requirements) = pci_requirements(spec);
    let place = e.place();
    let what = What {
        message: Some(format!("{place} not assessed: {}", e.reason).into()),
        compliance: OcsfCompliance {
            control: rule.unwrap_or("atrest"),
            desc: spec.map_or("", |s| s.description),
            status_id: 0,
            status: "Unknown",
            status_details: vec![&e.reason],
            standards,
            requirements,
        },
        finding_info: FindingInfo {
            uid: not_assessed_uid(e),
            title: format!("Not assessed: {place}").into(),
            desc: Some(&e.reason),
            types: ["Configuration"],
        },
        resources: e
            .account_id
            .as_deref()
            .map(|account| Resource {
                uid: account,
                kind: ACCOUNT_TYPE,
                region: e.region.as_deref(),
                cloud_partition: partition(e.region.as_deref()),
            })
            .into_iter()
            .collect(),
    };
    event(time, (0, "Unknown"), e.account_id.as_deref(), e.region.as_deref(), what)
}

/// What an event says, apart from its class, time, severity and place.
struct What<'a> {
    message: Option<Cow<'a, str>>,
    compliance: OcsfCompliance<'a>,
    finding_info: FindingInfo<'a>,
    resources: Vec<Resource<'a>>,
}

/// An event of this class made at `time` (ms since the epoch), in
/// `account` and `region`.
fn event<'a>(
    time: i64,
    (severity_id, severity): (u32, &'static str),
    account: Option<&'a str>,
    region: Option<&'a str>,
    what: What<'a>,
) -> Event<'a> {
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
        message: what.message,
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
            region,
            account: account.map(|uid| Account {
                uid,
                type_id: AWS_ACCOUNT_TYPE,
                kind: "AWS Account",
            }),
        },
        compliance: what.compliance,
        finding_info: what.finding_info,
        resources: what.resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_not_assessed_follows_the_findings_as_unknown() {
        let rule = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let errors = [
            RunError {
                account_id: Some("222222222222".into()),
                region: Some("eu-west-1".into()),
                rule: Some(rule.id.into()),
                reason: "DescribeVolumes: AccessDenied".into(),
            },
            RunError {
                account_id: None,
                region: None,
                rule: None,
                reason: "ListAccounts: AccessDenied".into(),
            },
        ];
        let report = Report::new(&[], vec![rule], "test".into()).with_errors(&errors);
        let value = serde_json::to_value(events(&report)).unwrap();
        let list = value.as_array().unwrap();
        assert_eq!(list.len(), 2);
        let (placed, unplaced) = (&list[0], &list[1]);
        assert_eq!(placed["compliance"]["status_id"], 0);
        assert_eq!(placed["compliance"]["status"], "Unknown");
        assert_eq!(placed["compliance"]["control"], "ebs-volume-encrypted");
        assert_eq!(
            placed["compliance"]["status_details"][0],
            "DescribeVolumes: AccessDenied"
        );
        assert_eq!(placed["severity_id"], 0);
        assert_eq!(placed["cloud"]["account"]["uid"], "222222222222");
        assert_eq!(placed["resources"][0]["uid"], "222222222222");
        assert_eq!(placed["resources"][0]["type"], "AWS::::Account");
        assert_eq!(
            placed["finding_info"]["uid"],
            "atrest/ebs-volume-encrypted/222222222222/eu-west-1/not-assessed"
        );
        assert_eq!(
            placed["message"],
            "account 222222222222, region eu-west-1, rule ebs-volume-encrypted not assessed: DescribeVolumes: AccessDenied"
        );
        assert_eq!(unplaced["compliance"]["control"], "atrest");
        assert!(unplaced.get("resources").is_none());
        assert!(unplaced["cloud"].get("account").is_none());
        assert_eq!(unplaced["finding_info"]["title"], "Not assessed: the run");
    }
}
