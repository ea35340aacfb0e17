//! `atrest pack`: an AWS Config conformance pack template (YAML) holding
//! every selected rule as a CUSTOM_LAMBDA Config rule that calls the deployed
//! functions (`<function-arn-prefix><rule-id>`), with its triggers, scope and
//! input parameters — the same rules the CDK app deploys (cdk/lib/config-rule.ts).

use std::collections::BTreeMap;
use std::path::PathBuf;

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
    /// Write the template to this file (whole, or not at all) instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Template {
    resources: BTreeMap<String, Resource>,
}

#[derive(Serialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "Properties")]
    properties: ConfigRule,
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
    let arn = format!("{}{}", args.function_arn_prefix, spec.id);
    ConfigRule {
        config_rule_name: format!("{}{}", args.name_prefix, spec.id),
        description: spec.description,
        source: Source {
            owner: "CUSTOM_LAMBDA",
            source_identifier: if arn.contains("${") {
                FunctionArn::Sub { template: arn }
            } else {
                FunctionArn::Literal(arn)
            },
            source_details: details,
        },
        scope: change.then_some(Scope {
            compliance_resource_types: scope,
        }),
        input_parameters: raw.iter().map(|(k, v)| (k.clone(), v.trim().to_owned())).collect(),
    }
}

fn check_prefix(prefix: &str) -> Result<(), CliError> {
    let plain = prefix
        .replace("${AWS::AccountId}", "111122223333")
        .replace("${AWS::Region}", "us-east-1")
        .replace("${AWS::Partition}", "aws");
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
    let (selected, notes) = params_arg::select(&args.rules, &args.params)?;
    for note in &notes {
        eprintln!("{note}");
    }
    let resources = selected
        .iter()
        .map(|s| {
            let spec = s.rule.spec();
            (
                logical_id(spec.id),
                Resource {
                    kind: "AWS::Config::ConfigRule",
                    properties: config_rule(spec, &args, &s.raw),
                },
            )
        })
        .collect();
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
