//! `atrest pack`: an AWS Config conformance pack template (YAML) holding
//! every selected rule as a CUSTOM_LAMBDA Config rule that calls the deployed
//! functions (`<function-arn-prefix><rule-id>`), with its triggers, scope and
//! input parameters — the same rules the CDK app deploys (cdk/lib/config-rule.ts).

use std::collections::BTreeMap;
use std::path::PathBuf;

use atrest_common::remediation::RunbookValue;
use atrest_common::RuleSpec;
use serde::Serialize;

use crate::error::{CliError, EXIT_OK};
use crate::params_arg;

#[derive(clap::Args)]
pub struct Args {
    /// The functions' ARN up to the rule id, e.g.
    /// `arn:aws:lambda:eu-west-1:111122223333:function:atrest-`. `${AWS::AccountId}`,
    /// `${AWS::Region}` and `${AWS::Partition}` make it an Fn::Sub resolved in each
    /// account (functions deployed in every account).
    #[arg(long)]
    function_arn_prefix: String,
    /// Prefix of each Config rule's name (the CDK app's atrest:namePrefix).
    #[arg(long, default_value = "atrest-")]
    name_prefix: String,
    /// Only these rules (repeatable; default: every rule whose required parameters are given).
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// A rule parameter, RULE.NAME=VALUE (repeatable).
    #[arg(long = "param")]
    params: Vec<String>,
    /// How often periodic rules run.
    #[arg(long, default_value = "TwentyFour_Hours", value_parser = clap::builder::PossibleValuesParser::new(atrest_common::rule::SCHEDULE_FREQUENCIES))]
    schedule_frequency: String,
    /// Add each selected rule's AWS-owned remediation runbook
    /// (AWS::Config::RemediationConfiguration): run by hand from the Config
    /// console (`manual`, the default), or on every NON_COMPLIANT result
    /// (`automatic`, at most 5 attempts a minute apart).
    #[arg(long, num_args = 0..=1, default_missing_value = "manual", value_enum)]
    remediation: Option<RemediationMode>,
    /// The automation roles' ARN up to the role name (the CDK app makes
    /// them: `atrest-remediation-<runbook>`); placeholders as for the functions.
    #[arg(long, default_value = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/atrest/")]
    remediation_role_prefix: String,
    /// The customer-managed key runbooks encrypt with (AWSConfigRemediation-EncryptSNSTopic);
    /// without it, those rules get no remediation.
    #[arg(long)]
    remediation_key_arn: Option<String>,
    /// Write the template to this file (whole, or not at all) instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// When a remediation runs.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RemediationMode {
    Manual,
    Automatic,
}

/// Attempts of an automatic remediation, and the seconds between them.
const REMEDIATION_ATTEMPTS: u32 = 5;
const REMEDIATION_RETRY_SECONDS: u32 = 60;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    resources: BTreeMap<String, Resource>,
}

#[derive(Serialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "DependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<String>,
    #[serde(rename = "Properties")]
    properties: Properties,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Properties {
    Rule(ConfigRule),
    Remediation(RemediationConfiguration),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RemediationConfiguration {
    config_rule_name: String,
    target_type: &'static str,
    target_id: &'static str,
    parameters: BTreeMap<&'static str, RunbookParameter>,
    automatic: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum_automatic_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_attempt_seconds: Option<u32>,
}

/// A runbook parameter: `{StaticValue: {Values: [...]}}` or
/// `{ResourceValue: {Value: RESOURCE_ID}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RunbookParameter {
    #[serde(skip_serializing_if = "Option::is_none")]
    static_value: Option<StaticValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_value: Option<ResourceValue>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StaticValue {
    values: Vec<FunctionArn>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceValue {
    value: &'static str,
}

impl RunbookParameter {
    fn fixed(value: String) -> Self {
        RunbookParameter {
            static_value: Some(StaticValue {
                values: vec![FunctionArn::of(value)],
            }),
            resource_value: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigRule {
    config_rule_name: String,
    description: &'static str,
    source: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    input_parameters: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Source {
    owner: &'static str,
    source_identifier: FunctionArn,
    source_details: Vec<SourceDetail>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum FunctionArn {
    Literal(String),
    Sub {
        #[serde(rename = "Fn::Sub")]
        template: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SourceDetail {
    event_source: &'static str,
    message_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    maximum_execution_frequency: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Scope {
    compliance_resource_types: Vec<&'static str>,
}

impl FunctionArn {
    /// A literal ARN, or an Fn::Sub when it holds `${AWS::…}` placeholders.
    fn of(arn: String) -> Self {
        if arn.contains("${") {
            FunctionArn::Sub { template: arn }
        } else {
            FunctionArn::Literal(arn)
        }
    }
}

/// The remediation of a rule, when it has a runbook and everything the
/// runbook needs was given (else a note saying what is missing).
fn remediation(
    spec: &RuleSpec,
    args: &Args,
    mode: RemediationMode,
) -> Result<Option<RemediationConfiguration>, String> {
    let Some(r) = spec.remediation else {
        return Ok(None);
    };
    let mut parameters = BTreeMap::new();
    for (name, value) in r.parameters {
        let parameter = match value {
            RunbookValue::AutomationRole => {
                RunbookParameter::fixed(format!("{}{}", args.remediation_role_prefix, r.role_name()))
            }
            RunbookValue::ResourceId => RunbookParameter {
                static_value: None,
                resource_value: Some(ResourceValue { value: "RESOURCE_ID" }),
            },
            RunbookValue::KeyArn => match &args.remediation_key_arn {
                Some(key) => RunbookParameter::fixed(key.clone()),
                None => {
                    return Err(format!(
                        "{}: no remediation ({} needs --remediation-key-arn)",
                        spec.id, r.runbook
                    ))
                }
            },
        };
        parameters.insert(*name, parameter);
    }
    let automatic = mode == RemediationMode::Automatic;
    Ok(Some(RemediationConfiguration {
        config_rule_name: format!("{}{}", args.name_prefix, spec.id),
        target_type: "SSM_DOCUMENT",
        target_id: r.runbook,
        parameters,
        automatic,
        maximum_automatic_attempts: automatic.then_some(REMEDIATION_ATTEMPTS),
        retry_attempt_seconds: automatic.then_some(REMEDIATION_RETRY_SECONDS),
    }))
}

/// An ARN with its `${AWS::…}` placeholders replaced by sample values, to
/// check its shape.
fn with_sample_values(arn: &str) -> String {
    arn.replace("${AWS::AccountId}", "111122223333")
        .replace("${AWS::Region}", "us-east-1")
        .replace("${AWS::Partition}", "aws")
}

fn check_key_arn(arn: &str) -> Result<(), CliError> {
    let plain = with_sample_values(arn);
    let parts: Vec<&str> = plain.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && parts[5]
            .strip_prefix("key/")
            .is_some_and(atrest_common::params::is_key_id);
    if valid {
        Ok(())
    } else {
        Err(CliError::Input {
            path: "--remediation-key-arn".into(),
            problem: format!("`{arn}` is not a KMS key ARN like arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"),
        })
    }
}

/// The rule id in PascalCase: its logical id in the template.
fn logical_id(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn config_rule(spec: &RuleSpec, args: &Args, raw: &BTreeMap<String, String>) -> ConfigRule {
    let scope = spec.scope();
    let change = spec.is_change_triggered();
    let mut details = Vec::new();
    if change {
        for message_type in [
            "ConfigurationItemChangeNotification",
            "OversizedConfigurationItemChangeNotification",
        ] {
            details.push(SourceDetail {
                event_source: "aws.config",
                message_type,
                maximum_execution_frequency: None,
            });
        }
    }
    if spec.triggers.periodic {
        details.push(SourceDetail {
            event_source: "aws.config",
            message_type: "ScheduledNotification",
            maximum_execution_frequency: Some(args.schedule_frequency.clone()),
        });
    }
    ConfigRule {
        config_rule_name: format!("{}{}", args.name_prefix, spec.id),
        description: spec.description,
        source: Source {
            owner: "CUSTOM_LAMBDA",
            source_identifier: FunctionArn::of(format!("{}{}", args.function_arn_prefix, spec.id)),
            source_details: details,
        },
        scope: change.then_some(Scope {
            compliance_resource_types: scope,
        }),
        input_parameters: raw.iter().map(|(k, v)| (k.clone(), v.trim().to_owned())).collect(),
    }
}

fn check_prefix(prefix: &str) -> Result<(), CliError> {
    let plain = with_sample_values(prefix);
    let parts: Vec<&str> = plain.splitn(7, ':').collect();
    let valid = parts.len() == 7
        && parts[0] == "arn"
        && parts[2] == "lambda"
        && parts[5] == "function"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !plain.contains("${");
    if valid {
        Ok(())
    } else {
        Err(CliError::Input {
            path: "--function-arn-prefix".into(),
            problem: format!(
                "`{prefix}` is not a Lambda function ARN prefix like arn:aws:lambda:REGION:ACCOUNT:function:atrest- \
                 (placeholders: ${{AWS::AccountId}}, ${{AWS::Region}}, ${{AWS::Partition}})"
            ),
        })
    }
}

pub fn run(args: Args) -> Result<u8, CliError> {
    check_prefix(&args.function_arn_prefix)?;
    if let Some(key) = &args.remediation_key_arn {
        check_key_arn(key)?;
    }
    let (selected, mut notes) = params_arg::select(&args.rules, &args.params)?;
    let mut resources = BTreeMap::new();
    for s in &selected {
        let spec = s.rule.spec();
        let rule_id = logical_id(spec.id);
        if let Some(mode) = args.remediation {
            match remediation(spec, &args, mode) {
                Ok(Some(properties)) => {
                    resources.insert(
                        format!("{rule_id}Remediation"),
                        Resource {
                            kind: "AWS::Config::RemediationConfiguration",
                            depends_on: Some(rule_id.clone()),
                            properties: Properties::Remediation(properties),
                        },
                    );
                }
                Ok(None) => {}
                Err(note) => notes.push(note),
            }
        }
        resources.insert(
            rule_id,
            Resource {
                kind: "AWS::Config::ConfigRule",
                depends_on: None,
                properties: Properties::Rule(config_rule(spec, &args, &s.raw)),
            },
        );
    }
    for note in &notes {
        eprintln!("{note}");
    }
    let yaml = serde_yaml_ng::to_string(&Template { resources })
        .map_err(|e| CliError::Write(std::io::Error::other(e.to_string())))?;
    let text = format!("# AWS Config conformance pack: the atrest rules (generated by `atrest pack`).\n{yaml}");
    crate::output::emit(text.as_bytes(), args.output.as_deref())?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_pascal_case() {
        assert_eq!(
            logical_id("kms-key-policy-mfa-critical-actions"),
            "KmsKeyPolicyMfaCriticalActions"
        );
        assert_eq!(logical_id("ebs-volume-encrypted"), "EbsVolumeEncrypted");
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("arn:aws:lambda:eu-west-1:111122223333:function:atrest-").is_ok());
        assert!(check_prefix("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:atrest-").is_ok());
        for bad in [
            "atrest-",
            "arn:aws:lambda:eu-west-1:1111:function:atrest-",
            "arn:aws:s3:eu-west-1:111122223333:function:atrest-",
            "arn:aws:lambda:eu-west-1:111122223333:layer:atrest-",
            "arn:aws:lambda:${Region}:111122223333:function:atrest-",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad} accepted");
        }
    }
}
