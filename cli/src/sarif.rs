//! The SARIF 2.1.0 report, as typed structures: a misspelt field does not
//! compile. Results are the NON_COMPLIANT (`error`, `fail`) and
//! NOT_APPLICABLE (`none`, `notApplicable`) findings. What could not be
//! assessed is the invocation's error notifications, and makes the
//! invocation unsuccessful (`executionSuccessful: false`).

use std::borrow::Cow;

use atrest_common::Compliance;
use serde::Serialize;

use crate::report::Report;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/atrest/atrest";

#[derive(Serialize)]
pub struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation<'a>; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification<'a>>,
}

#[derive(Serialize)]
struct Notification<'a> {
    level: &'static str,
    message: Message<'a>,
    properties: NotificationProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationProperties<'a> {
    not_assessed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Message<'a>,
    help_uri: String,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct RuleProperties<'a> {
    tags: [&'static str; 3],
    #[serde(rename = "pciDss-v3.2.1")]
    pci_dss_v3_2_1: &'a [&'a str],
    #[serde(rename = "pciDss-v4.0")]
    pci_dss_v4_0: &'a [&'a str],
}

#[derive(Serialize)]
struct Message<'a> {
    text: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    /// SARIF's `ruleIndex` is an integer (-1 when unknown, its default):
    /// left out rather than written as null, which the schema refuses.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    kind: &'static str,
    message: Message<'a>,
    locations: [Location<'a>; 1],
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    logical_locations: [LogicalLocation<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    name: &'a str,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    resource_type: &'a str,
    compliance: Compliance,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<&'a str>,
}

/// The SARIF log of a report.
pub fn log<'a>(report: &'a Report<'a>) -> Log<'a> {
    let rules = report
        .rules
        .iter()
        .map(|s| ReportingDescriptor {
            id: s.id,
            name: s.id,
            short_description: Message {
                text: s.description.into(),
            },
            help_uri: format!("{INFORMATION_URI}#{}", s.id),
            properties: RuleProperties {
                tags: ["security", "encryption", "kms"],
                pci_dss_v3_2_1: s.pci_dss.v3_2_1,
                pci_dss_v4_0: s.pci_dss.v4_0,
            },
        })
        .collect();
    let results = report
        .findings
        .iter()
        .filter(|f| f.compliance != Compliance::Compliant)
        .map(|f| {
            let failed = f.compliance == Compliance::NonCompliant;
            SarifResult {
                rule_id: f.rule,
                rule_index: report.rules.iter().position(|s| s.id == f.rule),
                level: if failed { "error" } else { "none" },
                kind: if failed { "fail" } else { "notApplicable" },
                message: Message {
                    text: f.annotation.as_deref().unwrap_or(f.compliance.as_str()).into(),
                },
                locations: [Location {
                    logical_locations: [LogicalLocation {
                        name: &f.resource_id,
                        fully_qualified_name: format!("{}/{}", f.resource_type, f.resource_id),
                        kind: "resource",
                    }],
                }],
                properties: ResultProperties {
                    resource_type: &f.resource_type,
                    compliance: f.compliance,
                    account_id: f.account_id.as_deref(),
                    region: f.region.as_deref(),
                },
            }
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "atrest",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: [Invocation {
                execution_successful: report.errors.is_empty(),
                tool_execution_notifications: report
                    .errors
                    .iter()
                    .map(|e| Notification {
                        level: "error",
                        message: Message {
                            text: format!("{} not assessed: {}", e.place(), e.reason).into(),
                        },
                        properties: NotificationProperties {
                            not_assessed: true,
                            account_id: e.account_id.as_deref(),
                            region: e.region.as_deref(),
                            rule: e.rule.as_deref(),
                        },
                    })
                    .collect(),
            }],
            results,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, RunError};

    #[test]
    fn what_could_not_be_assessed_makes_the_invocation_unsuccessful() {
        let rule = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let clean = Report::new(&[], vec![rule], "test".into());
        let log_of = |report: &Report<'_>| serde_json::to_value(log(report)).unwrap();
        let invocation = &log_of(&clean)["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        assert!(invocation.get("toolExecutionNotifications").is_none());

        let errors = [RunError {
            account_id: Some("222222222222".into()),
            region: Some("eu-west-1".into()),
            rule: Some("ebs-volume-encrypted".into()),
            reason: "DescribeVolumes: AccessDenied".into(),
        }];
        let failed = Report::new(&[], vec![rule], "test".into()).with_errors(&errors);
        let invocation = &log_of(&failed)["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notification = &invocation["toolExecutionNotifications"][0];
        assert_eq!(notification["level"], "error");
        assert_eq!(
            notification["message"]["text"],
            "account 222222222222, region eu-west-1, rule ebs-volume-encrypted not assessed: DescribeVolumes: AccessDenied"
        );
        assert_eq!(notification["properties"]["accountId"], "222222222222");
    }

    /// Every null in a JSON value, by its path.
    fn nulls(value: &serde_json::Value, path: String, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Null => out.push(path),
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    nulls(v, format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::Object(members) => {
                for (k, v) in members {
                    nulls(v, format!("{path}.{k}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn what_is_not_known_is_left_out_not_written_as_null() {
        let rule = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let other = atrest_rules::find("kms-key-rotation-enabled").unwrap().spec();
        let finding = |rule: &'static str| Finding {
            rule,
            resource_type: "AWS::EC2::Volume".into(),
            resource_id: "vol-1".into(),
            compliance: Compliance::NonCompliant,
            annotation: None,
            ordering_timestamp: "2026-12-01T00:00:00Z".into(),
            account_id: None,
            region: None,
            recorded_at: None,
        };
        // The second finding's rule is not among the report's rules: no index.
        let findings = [finding(rule.id), finding(other.id)];
        let errors = [RunError {
            account_id: None,
            region: None,
            rule: None,
            reason: "ListDiscoveredResources: AccessDenied".into(),
        }];
        let report = Report::new(&findings, vec![rule], "test".into()).with_errors(&errors);
        let value = serde_json::to_value(log(&report)).unwrap();
        let mut found = Vec::new();
        nulls(&value, String::new(), &mut found);
        assert!(found.is_empty(), "nulls at {found:?}");
        let results = &value["runs"][0]["results"];
        assert_eq!(results[0]["ruleIndex"], 0);
        assert!(results[1].get("ruleIndex").is_none());
        assert_eq!(results[1]["ruleId"], "kms-key-rotation-enabled");
    }
}
