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

use atrest_common::Compliance;
use serde::Serialize;

use crate::error::CliError;
use crate::ocsf::{finding_uid, partition, pci_requirements};
use crate::report::{Finding, Report};

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
    id: &'a str,
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

/// The report's findings as ASFF, or the first finding ASFF cannot hold.
pub fn findings<'a>(report: &'a Report<'_>) -> Result<Vec<AsffFinding<'a>>, CliError> {
    report.findings.iter().map(|f| finding(report, f)).collect()
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
    let (_, mut requirements) = pci_requirements(spec);
    requirements.truncate(MAX_REQUIREMENTS);
    let partition = partition(Some(region));
    let (status, label) = match f.compliance {
        Compliance::Compliant => ("PASSED", "INFORMATIONAL"),
        Compliance::NonCompliant => ("FAILED", "MEDIUM"),
        Compliance::NotApplicable => ("NOT_AVAILABLE", "INFORMATIONAL"),
    };
    let kind = resource_type(&f.resource_type);
    let description = spec.map_or(f.rule, |s| s.description);
    Ok(AsffFinding {
        schema_version: SCHEMA_VERSION,
        id: finding_uid(f),
        product_arn: format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default"),
        generator_id: format!("atrest/{}", f.rule),
        aws_account_id: account,
        region,
        types: ["Software and Configuration Checks/Industry and Regulatory Standards/PCI-DSS"],
        created_at: &f.ordering_timestamp,
        updated_at: &report.generated_at,
        severity: Severity { label },
        title: clip(&format!("{}: {}", f.rule, f.resource_id), 256),
        description: clip(f.annotation.as_deref().unwrap_or(description), MAX_DESCRIPTION),
        compliance: AsffCompliance {
            status,
            related_requirements: requirements,
        },
        resources: [Resource {
            kind,
            id: &f.resource_id,
            partition,
            region,
            details: (kind == "Other").then_some(ResourceDetails {
                other: OtherDetails {
                    config_resource_type: &f.resource_type,
                },
            }),
        }],
        product_fields: ProductFields {
            rule: f.rule,
            resource_type: &f.resource_type,
            compliance: f.compliance.as_str(),
            provider_name: "atrest",
            provider_version: env!("CARGO_PKG_VERSION"),
        },
        record_state: "ACTIVE",
    })
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
    fn config_types_map_to_asff_types_or_other() {
        assert_eq!(resource_type("AWS::EC2::Volume"), "AwsEc2Volume");
        assert_eq!(resource_type("AWS::Logs::LogGroup"), "Other");
    }
}
