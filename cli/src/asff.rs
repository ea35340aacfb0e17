//! `--format asff`: each finding in the AWS Security Finding Format, as
//! the JSON array Security Hub's `BatchImportFindings` takes (at most 100
//! per call: `jq -c '_nwise(100)'`), to the account's default product
//! (`product/<account>/default`). Typed, so a misspelt field does not
//! compile; tested against the Security Hub API model and imported into
//! moto's Security Hub.
//!
//! COMPLIANT is compliance status PASSED, NON_COMPLIANT FAILED (severity
//! MEDIUM), NOT_APPLICABLE NOT_AVAILABLE; the rule's PCI DSS requirements
//! are its related requirements. ASFF needs each finding's account and
//! region: a finding without them (an event without an account) is an
//! error, not a finding Security Hub would refuse.
//!
//! What the run could not assess follows the findings, so Security Hub
//! shows the gap instead of a clean account: status NOT_AVAILABLE (what
//! Security Hub's own controls report when a check could not run),
//! severity INFORMATIONAL, the account (`AwsAccount`) as the resource and
//! the reason as the description — one per region the error left
//! unassessed (its own, or, for an account whose role could not be
//! assumed, each region the scan covered). An error ASFF cannot place — no
//! account, or no region at all — is on stderr and in exit code 2 only.

use std::borrow::Cow;

use atrest_common::Compliance;
use serde::Serialize;

use crate::error::CliError;
use crate::ocsf::{finding_uid, not_assessed_uid, partition, pci_requirements, ACCOUNT_TYPE};
use crate::report::{Finding, Report, RunError};

/// The ASFF version Security Hub accepts.
const SCHEMA_VERSION: &str = "2018-10-08";
/// Security Hub's limit of related requirements per finding.
const MAX_REQUIREMENTS: usize = 32;
/// Security Hub's limit of a finding's description.
const MAX_DESCRIPTION: usize = 1024;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding<'a> {
    schema_version: &'static str,
    id: String,
    product_arn: String,
    generator_id: String,
    aws_account_id: &'a str,
    region: &'a str,
    types: [&'static str; 1],
    created_at: &'a str,
    updated_at: &'a str,
    severity: Severity,
    title: String,
    description: String,
    compliance: AsffCompliance,
    resources: [Resource<'a>; 1],
    product_fields: ProductFields<'a>,
    record_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Severity {
    label: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsffCompliance {
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_requirements: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    id: Cow<'a, str>,
    partition: &'static str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<ResourceDetails<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceDetails<'a> {
    other: OtherDetails<'a>,
}

#[derive(Serialize)]
struct OtherDetails<'a> {
    #[serde(rename = "ConfigResourceType")]
    config_resource_type: &'a str,
}

#[derive(Serialize)]
struct ProductFields<'a> {
    #[serde(rename = "atrest/rule")]
    rule: &'a str,
    #[serde(rename = "atrest/ConfigResourceType")]
    resource_type: &'a str,
    #[serde(rename = "atrest/compliance")]
    compliance: &'static str,
    #[serde(rename = "ProviderName")]
    provider_name: &'static str,
    #[serde(rename = "ProviderVersion")]
    provider_version: &'static str,
}

/// The ASFF resource type of a Config resource type, or "Other".
fn resource_type(config_type: &str) -> &'static str {
    match config_type {
        "AWS::EC2::Volume" => "AwsEc2Volume",
        "AWS::KMS::Key" => "AwsKmsKey",
        "AWS::S3::Bucket" => "AwsS3Bucket",
        "AWS::RDS::DBInstance" => "AwsRdsDbInstance",
        "AWS::RDS::DBCluster" => "AwsRdsDbCluster",
        "AWS::RDS::DBSnapshot" => "AwsRdsDbSnapshot",
        "AWS::RDS::DBClusterSnapshot" => "AwsRdsDbClusterSnapshot",
        "AWS::DynamoDB::Table" => "AwsDynamoDbTable",
        "AWS::SNS::Topic" => "AwsSnsTopic",
        "AWS::SQS::Queue" => "AwsSqsQueue",
        "AWS::Lambda::Function" => "AwsLambdaFunction",
        "AWS::SecretsManager::Secret" => "AwsSecretsManagerSecret",
        "AWS::CloudTrail::Trail" => "AwsCloudTrailTrail",
        "AWS::Kinesis::Stream" => "AwsKinesisStream",
        "AWS::ECR::Repository" => "AwsEcrRepository",
        "AWS::Backup::BackupVault" => "AwsBackupBackupVault",
        "AWS::IAM::Role" => "AwsIamRole",
        "AWS::IAM::Policy" => "AwsIamPolicy",
        "AWS::IAM::User" => "AwsIamUser",
        _ => "Other",
    }
}

/// At most `max` characters of `text` (the last one an ellipsis when cut).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The report's findings as ASFF, then what it could not assess, or the
/// first finding ASFF cannot hold.
pub fn findings<'a>(report: &'a Report<'_>) -> Result<Vec<AsffFinding<'a>>, CliError> {
    let mut out = report
        .findings
        .iter()
        .map(|f| finding(report, f))
        .collect::<Result<Vec<_>, _>>()?;
    out.extend(report.errors.iter().flat_map(|e| not_assessed(report, e)));
    Ok(out)
}

fn finding<'a>(report: &'a Report<'_>, f: &'a Finding) -> Result<AsffFinding<'a>, CliError> {
    let missing = |what: &str| {
        CliError::Usage(format!(
            "--format asff needs each finding's {what}: {} {} ({}) has none",
            f.resource_type, f.resource_id, f.rule
        ))
    };
    let account = f.account_id.as_deref().ok_or_else(|| missing("account"))?;
    let region = f.region.as_deref().ok_or_else(|| missing("region"))?;
    let spec = report.rules.iter().copied().find(|s| s.id == f.rule);
    let (status, severity) = match f.compliance {
        Compliance::Compliant => ("PASSED", "INFORMATIONAL"),
        Compliance::NonCompliant => ("FAILED", "MEDIUM"),
        Compliance::NotApplicable => ("NOT_AVAILABLE", "INFORMATIONAL"),
    };
    let kind = resource_type(&f.resource_type);
    let description = spec.map_or(f.rule, |s| s.description);
    Ok(asff_finding(
        report,
        account,
        region,
        What {
            id: finding_uid(f),
            rule: f.rule,
            created_at: &f.ordering_timestamp,
            severity,
            title: clip(&format!("{}: {}", f.rule, f.resource_id), 256),
            description: clip(f.annotation.as_deref().unwrap_or(description), MAX_DESCRIPTION),
            status,
            resource: Resource {
                kind,
                id: Cow::Borrowed(&f.resource_id),
                partition: partition(Some(region)),
                region,
                details: (kind == "Other").then_some(ResourceDetails {
                    other: OtherDetails {
                        config_resource_type: &f.resource_type,
                    },
                }),
            },
            resource_type: &f.resource_type,
            compliance: f.compliance.as_str(),
        },
    ))
}

/// What a run could not assess, in each region it left unassessed; none
/// when ASFF cannot place it (no account, or no region).
fn not_assessed<'a>(report: &'a Report<'_>, e: &'a RunError) -> Vec<AsffFinding<'a>> {
    let Some(account) = e.account_id.as_deref() else {
        return Vec::new();
    };
    let regions = match &e.region {
        Some(region) => std::slice::from_ref(region),
        None => report.regions,
    };
    let rule = e.rule.as_deref().unwrap_or("atrest");
    regions
        .iter()
        .map(|region| {
            let place = RunError {
                region: Some(region.clone()),
                ..e.clone()
            };
            asff_finding(
                report,
                account,
                region,
                What {
                    id: not_assessed_uid(&place),
                    rule,
                    created_at: &report.generated_at,
                    severity: "INFORMATIONAL",
                    title: clip(&format!("{rule}: not assessed in {}", place.place()), 256),
                    description: clip(&e.reason, MAX_DESCRIPTION),
                    status: "NOT_AVAILABLE",
                    resource: Resource {
                        kind: "AwsAccount",
                        id: format!("AWS::::Account:{account}").into(),
                        partition: partition(Some(region)),
                        region,
                        details: None,
                    },
                    resource_type: ACCOUNT_TYPE,
                    compliance: "NOT_ASSESSED",
                },
            )
        })
        .collect()
}

/// What a finding says, apart from its place and the fields every finding
/// has.
struct What<'a> {
    id: String,
    rule: &'a str,
    created_at: &'a str,
    severity: &'static str,
    title: String,
    description: String,
    status: &'static str,
    resource: Resource<'a>,
    resource_type: &'a str,
    compliance: &'static str,
}

fn asff_finding<'a>(report: &'a Report<'_>, account: &'a str, region: &'a str, what: What<'a>) -> AsffFinding<'a> {
    let spec = report.rules.iter().copied().find(|s| s.id == what.rule);
    let (_, mut requirements) = pci_requirements(spec);
    requirements.truncate(MAX_REQUIREMENTS);
    let partition = partition(Some(region));
    AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: what.id,
        product_arn: format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default"),
        generator_id: format!("atrest/{}", what.rule),
        aws_account_id: account,
        region,
        types: ["Software and Configuration Checks/Industry and Regulatory Standards/PCI-DSS"],
        created_at: what.created_at,
        updated_at: &report.generated_at,
        severity: Severity { label: what.severity },
        title: what.title,
        description: what.description,
        compliance: AsffCompliance {
            status: what.status,
            related_requirements: requirements,
        },
        resources: [what.resource],
        product_fields: ProductFields {
            rule: what.rule,
            resource_type: what.resource_type,
            compliance: what.compliance,
            provider_name: "atrest",
            provider_version: env!("CARGO_PKG_VERSION"),
        },
        record_state: "ACTIVE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(clip("abc", 5), "abc");
        let long = "é".repeat(2000);
        let cut = clip(&long, MAX_DESCRIPTION);
        assert_eq!(cut.chars().count(), MAX_DESCRIPTION);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_finding_without_an_account_is_refused_by_name() {
        let evaluation = atrest_common::Evaluation {
            resource_type: "AWS::EC2::Volume".into(),
            resource_id: "vol-1".into(),
            compliance: Compliance::Compliant,
            annotation: None,
            ordering_timestamp: aws_smithy_types::DateTime::from_secs(0),
        };
        let found = [Finding::new(
            "ebs-volume-encrypted",
            evaluation,
            None,
            Some("eu-west-1".into()),
        )];
        let report = Report::new(&found, Vec::new(), "test".into());
        let err = findings(&report).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("account") && err.contains("vol-1"), "{err}");
    }

    #[test]
    fn what_was_not_assessed_is_not_available_in_each_region_it_left() {
        let error = |account: Option<&str>, region: Option<&str>, rule: Option<&str>| RunError {
            account_id: account.map(Into::into),
            region: region.map(Into::into),
            rule: rule.map(Into::into),
            reason: "AccessDenied".into(),
        };
        let errors = [
            // A whole account (its role could not be assumed).
            error(Some("222222222222"), None, None),
            // One rule in one region.
            error(Some("333333333333"), Some("eu-west-1"), Some("ebs-volume-encrypted")),
            // The organisation's accounts could not be listed: ASFF cannot place it.
            error(None, None, None),
        ];
        let regions = ["eu-west-1".to_owned(), "us-east-1".to_owned()];
        let rule = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let report = Report::new(&[], vec![rule], "test".into())
            .with_errors(&errors)
            .with_regions(&regions);
        let value = serde_json::to_value(findings(&report).unwrap()).unwrap();
        let list = value.as_array().unwrap();
        let places: Vec<_> = list
            .iter()
            .map(|f| (f["AwsAccountId"].as_str().unwrap(), f["Region"].as_str().unwrap()))
            .collect();
        assert_eq!(
            places,
            [
                ("222222222222", "eu-west-1"),
                ("222222222222", "us-east-1"),
                ("333333333333", "eu-west-1")
            ]
        );
        for f in list {
            assert_eq!(f["Compliance"]["Status"], "NOT_AVAILABLE");
            assert_eq!(f["Severity"]["Label"], "INFORMATIONAL");
            assert_eq!(f["Resources"][0]["Type"], "AwsAccount");
            assert_eq!(f["Description"], "AccessDenied");
        }
        assert_eq!(list[1]["Id"], "atrest/-/222222222222/us-east-1/not-assessed");
        assert_eq!(list[1]["Resources"][0]["Id"], "AWS::::Account:222222222222");
        assert_eq!(list[2]["GeneratorId"], "atrest/ebs-volume-encrypted");
        assert!(!list[2]["Compliance"]["RelatedRequirements"]
            .as_array()
            .unwrap()
            .is_empty());
        assert!(list[0]["Compliance"].get("RelatedRequirements").is_none());
    }

    #[test]
    fn config_types_map_to_asff_types_or_other() {
        assert_eq!(resource_type("AWS::EC2::Volume"), "AwsEc2Volume");
        assert_eq!(resource_type("AWS::Logs::LogGroup"), "Other");
    }
}
