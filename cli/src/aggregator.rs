//! `atrest report --aggregator NAME`: the compliance AWS Config itself
//! recorded for the deployed atrest rules, org-wide, read from a Config
//! aggregator — nothing is re-evaluated. The aggregator's rules with
//! results (DescribeAggregateComplianceByConfigRules) are matched to the
//! atrest rules by name (`<prefix><rule-id>`, as the CDK app names them,
//! with what conformance packs and organization rules add around it); each
//! one's results per account and region are read
//! (GetAggregateComplianceDetailsByConfigRule, every page), with the time
//! Config recorded them. The accounts and regions the aggregator collects
//! from (DescribeConfigurationAggregatorSourcesStatus; an organization
//! source through Organizations ListAccounts) that hold no atrest rule with
//! results, and the sources whose last update failed, are errors of the
//! report: its evidence does not cover them.

use std::collections::{BTreeMap, BTreeSet};

use atrest_common::aws::{retry_config, AwsContext};
use atrest_common::{AwsError, Compliance};
use aws_config::BehaviorVersion;
use aws_sdk_config::types::{AggregatedSourceStatusType, AggregatedSourceType, ComplianceType};
use aws_smithy_types::date_time::Format as DateFormat;
use futures_util::stream::{self, StreamExt};

use crate::error::CliError;
use crate::output::{emit_report, OutputArgs};
use crate::report::{exit_code, Finding, Report, RunError};

#[derive(clap::Args)]
pub struct Args {
    /// The Config aggregator to read (in the configured account and region).
    #[arg(long)]
    aggregator: String,
    /// Only these rules (repeatable; all by default).
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Only these source regions of the aggregated accounts (repeatable).
    #[arg(long = "source-region")]
    source_regions: Vec<String>,
    /// The prefix of the deployed rules' names (the CDK app's `atrest:namePrefix`).
    #[arg(long, default_value = "atrest-")]
    name_prefix: String,
    /// How many rules' results are read at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    concurrency: u16,
    #[command(flatten)]
    output: OutputArgs,
}

/// What a read of the aggregator asks for.
pub struct Query<'a> {
    pub aggregator: &'a str,
    pub rule_ids: Vec<&'static str>,
    pub source_regions: &'a [String],
    pub name_prefix: &'a str,
    pub concurrency: usize,
}

/// What the aggregator holds for the atrest rules.
#[derive(Debug, Default)]
pub struct Aggregated {
    pub findings: Vec<Finding>,
    pub errors: Vec<RunError>,
    /// The earliest and latest time Config recorded a result.
    pub recorded: Option<(aws_smithy_types::DateTime, aws_smithy_types::DateTime)>,
}

pub fn run(args: Args) -> Result<u8, CliError> {
    // Every rule: an aggregator holds results whatever parameters they ran with.
    let selected: Vec<&'static dyn atrest_common::Rule> = if args.rules.is_empty() {
        atrest_rules::ALL.to_vec()
    } else {
        args.rules
            .iter()
            .map(|id| atrest_rules::find(id).ok_or_else(|| CliError::UnknownRule(id.clone())))
            .collect::<Result<_, _>>()?
    };
    let specs: Vec<_> = selected.iter().map(|r| r.spec()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let read = runtime.block_on(async {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .load()
            .await;
        let query = Query {
            aggregator: &args.aggregator,
            rule_ids: specs.iter().map(|s| s.id).collect(),
            source_regions: &args.source_regions,
            name_prefix: &args.name_prefix,
            concurrency: usize::from(args.concurrency),
        };
        read(&AwsContext::new(sdk), &query).await
    })?;
    for e in &read.errors {
        eprintln!("atrest: {} not assessed: {}", e.place(), e.reason);
    }
    let source = match read.recorded {
        Some((oldest, newest)) => format!(
            "Config aggregator {}: results recorded from {} to {} (the oldest {} old)",
            args.aggregator,
            text(oldest),
            text(newest),
            age(oldest)
        ),
        None => format!("Config aggregator {}: no atrest rule results", args.aggregator),
    };
    let report = Report::new(&read.findings, specs, source).with_errors(&read.errors);
    emit_report(&report, &args.output, false)?;
    Ok(exit_code(&report))
}

fn text(t: aws_smithy_types::DateTime) -> String {
    t.fmt(DateFormat::DateTime).unwrap_or_else(|_| t.secs().to_string())
}

/// How long ago `t` was, roughly: "3 d 4 h", "5 h 2 min", "40 s".
pub fn age(t: aws_smithy_types::DateTime) -> String {
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs();
    let s = (now - t.secs()).max(0);
    match s {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The age of a time written as ISO 8601, or "an unknown time".
pub fn age_of(at: &str) -> String {
    aws_smithy_types::DateTime::from_str(at, DateFormat::DateTime).map_or_else(|_| "an unknown time".into(), age)
}

/// The atrest rule a deployed Config rule is, by its name: `<prefix><id>`,
/// with "OrgConfigRule-" before it or "-<suffix>" after it (organization
/// rules, conformance packs); the longest id that fits.
pub fn rule_of(name: &str, prefix: &str, ids: &[&'static str]) -> Option<&'static str> {
    let name = name.strip_prefix("OrgConfigRule-").unwrap_or(name);
    let rest = name.strip_prefix(prefix)?;
    ids.iter()
        .copied()
        .filter(|id| {
            rest.strip_prefix(id)
                .is_some_and(|tail| tail.is_empty() || tail.starts_with('-'))
        })
        .max_by_key(|id| id.len())
}

/// One deployed atrest rule in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Deployed {
    account: String,
    region: String,
    name: String,
    rule: &'static str,
}

/// Reads the aggregator: the atrest rules' results, and what they do not cover.
pub async fn read(aws: &AwsContext, q: &Query<'_>) -> Result<Aggregated, CliError> {
    let config = aws.config();
    let in_scope = |region: &str| q.source_regions.is_empty() || q.source_regions.iter().any(|r| r == region);

    // The rules with results, and which of them are atrest's.
    let mut pages = config
        .describe_aggregate_compliance_by_config_rules()
        .configuration_aggregator_name(q.aggregator)
        .into_paginator()
        .send();
    let mut deployed = BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            CliError::Aws(AwsError::from_sdk("config", "DescribeAggregateComplianceByConfigRules", &e).to_string())
        })?;
        for c in page.aggregate_compliance_by_config_rules() {
            let (Some(name), Some(account), Some(region)) = (c.config_rule_name(), c.account_id(), c.aws_region())
            else {
                continue;
            };
            if let (Some(rule), true) = (rule_of(name, q.name_prefix, &q.rule_ids), in_scope(region)) {
                deployed.insert(Deployed {
                    account: account.to_owned(),
                    region: region.to_owned(),
                    name: name.to_owned(),
                    rule,
                });
            }
        }
    }

    let mut out = Aggregated::default();
    // Each rule's results, a few rules at a time.
    let results = stream::iter(deployed.iter())
        .map(|d| results_of(aws, q.aggregator, d))
        .buffer_unordered(q.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for result in results {
        match result {
            Ok((findings, recorded)) => {
                out.findings.extend(findings);
                for t in recorded {
                    out.recorded = Some(match out.recorded {
                        None => (t, t),
                        Some((lo, hi)) => (
                            if t.secs() < lo.secs() { t } else { lo },
                            if t.secs() > hi.secs() { t } else { hi },
                        ),
                    });
                }
            }
            Err(e) => out.errors.push(e),
        }
    }

    // What the aggregator collects from, against where atrest rules are.
    let covered: BTreeSet<(&str, &str)> = deployed
        .iter()
        .map(|d| (d.account.as_str(), d.region.as_str()))
        .collect();
    for (account, region) in sources(aws, q, &mut out.errors).await? {
        if in_scope(&region) && !covered.contains(&(account.as_str(), region.as_str())) {
            out.errors.push(RunError {
                account_id: Some(account),
                region: Some(region),
                rule: None,
                reason: "the aggregator collects from it, but no atrest rule there has results \
                         (none is deployed, or none has evaluated yet)"
                    .into(),
            });
        }
    }
    out.findings.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    out.errors
        .sort_by(|a, b| (&a.account_id, &a.region, &a.rule).cmp(&(&b.account_id, &b.region, &b.rule)));
    Ok(out)
}

/// One deployed rule's results in its account and region, with the times
/// Config recorded them.
async fn results_of(
    aws: &AwsContext,
    aggregator: &str,
    d: &Deployed,
) -> Result<(Vec<Finding>, Vec<aws_smithy_types::DateTime>), RunError> {
    let failed = |reason: String| RunError {
        account_id: Some(d.account.clone()),
        region: Some(d.region.clone()),
        rule: Some(d.rule.to_owned()),
        reason,
    };
    let mut pages = aws
        .config()
        .get_aggregate_compliance_details_by_config_rule()
        .configuration_aggregator_name(aggregator)
        .config_rule_name(&d.name)
        .account_id(&d.account)
        .aws_region(&d.region)
        .limit(100)
        .into_paginator()
        .send();
    let mut findings = Vec::new();
    let mut recorded = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            failed(AwsError::from_sdk("config", "GetAggregateComplianceDetailsByConfigRule", &e).to_string())
        })?;
        for r in page.aggregate_evaluation_results() {
            let qualifier = r
                .evaluation_result_identifier()
                .and_then(|i| i.evaluation_result_qualifier());
            let (Some(resource_type), Some(resource_id)) = (
                qualifier.and_then(|q| q.resource_type()),
                qualifier.and_then(|q| q.resource_id()),
            ) else {
                return Err(failed(format!("a result of {} names no resource", d.name)));
            };
            let compliance = match r.compliance_type() {
                Some(ComplianceType::Compliant) => Compliance::Compliant,
                Some(ComplianceType::NonCompliant) => Compliance::NonCompliant,
                Some(ComplianceType::NotApplicable) => Compliance::NotApplicable,
                other => {
                    return Err(failed(format!(
                        "{resource_type} {resource_id}: compliance {}",
                        other.map_or("missing", |c| c.as_str())
                    )))
                }
            };
            let ordering = r
                .evaluation_result_identifier()
                .and_then(|i| i.ordering_timestamp())
                .copied();
            if let Some(t) = r.result_recorded_time() {
                recorded.push(*t);
            }
            findings.push(Finding {
                rule: d.rule,
                resource_type: resource_type.to_owned(),
                resource_id: resource_id.to_owned(),
                compliance,
                annotation: r.annotation().map(str::to_owned),
                ordering_timestamp: ordering.map(text).unwrap_or_default(),
                account_id: Some(d.account.clone()),
                region: Some(d.region.clone()),
                recorded_at: r.result_recorded_time().copied().map(text),
            });
        }
    }
    Ok((findings, recorded))
}

/// The accounts and regions the aggregator collects from; sources whose
/// last update failed are errors. An organization source stands for every
/// ACTIVE account of the organization (ListAccounts).
async fn sources(
    aws: &AwsContext,
    q: &Query<'_>,
    errors: &mut Vec<RunError>,
) -> Result<BTreeSet<(String, String)>, CliError> {
    let mut pages = aws
        .config()
        .describe_configuration_aggregator_sources_status()
        .configuration_aggregator_name(q.aggregator)
        .into_paginator()
        .send();
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut organization_regions = BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            CliError::Aws(AwsError::from_sdk("config", "DescribeConfigurationAggregatorSourcesStatus", &e).to_string())
        })?;
        for s in page.aggregated_source_status_list() {
            let (Some(id), Some(region)) = (s.source_id(), s.aws_region()) else {
                continue;
            };
            if s.last_update_status() == Some(&AggregatedSourceStatusType::Failed)
                && (q.source_regions.is_empty() || q.source_regions.iter().any(|r| r == region))
            {
                errors.push(RunError {
                    account_id: (s.source_type() == Some(&AggregatedSourceType::Account)).then(|| id.to_owned()),
                    region: Some(region.to_owned()),
                    rule: None,
                    reason: format!(
                        "the aggregator's last update from {id} failed ({}: {}): its results may be stale",
                        s.last_error_code().unwrap_or("no code"),
                        s.last_error_message().unwrap_or("no message")
                    ),
                });
            }
            match s.source_type() {
                Some(AggregatedSourceType::Organization) => {
                    organization_regions.insert(region.to_owned());
                }
                _ => {
                    accounts.entry(id.to_owned()).or_default().insert(region.to_owned());
                }
            }
        }
    }
    if !organization_regions.is_empty() {
        match crate::scan::organization_accounts(aws).await {
            Ok(members) => {
                for account in members {
                    accounts
                        .entry(account)
                        .or_default()
                        .extend(organization_regions.iter().cloned());
                }
            }
            Err(e) => errors.push(RunError {
                account_id: None,
                region: None,
                rule: None,
                reason: format!("the aggregator collects from the organization, whose accounts cannot be listed: {e}"),
            }),
        }
    }
    Ok(accounts
        .into_iter()
        .flat_map(|(account, regions)| regions.into_iter().map(move |r| (account.clone(), r)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrest_common::testing::mock_aws;
    use aws_sdk_config::operation::describe_aggregate_compliance_by_config_rules::DescribeAggregateComplianceByConfigRulesOutput;
    use aws_sdk_config::operation::describe_configuration_aggregator_sources_status::DescribeConfigurationAggregatorSourcesStatusOutput;
    use aws_sdk_config::operation::get_aggregate_compliance_details_by_config_rule::GetAggregateComplianceDetailsByConfigRuleOutput;
    use aws_sdk_config::types::{
        AggregateComplianceByConfigRule, AggregateEvaluationResult, AggregatedSourceStatus, EvaluationResultIdentifier,
        EvaluationResultQualifier,
    };
    use aws_sdk_config::Client;
    use aws_smithy_mocks::{mock, RuleMode};
    use aws_smithy_types::DateTime;

    const IDS: &[&str] = &["ebs-volume-encrypted", "kms-key-rotation-enabled", "kms-key-usable"];

    #[test]
    fn deployed_rules_are_known_by_name_with_what_packs_add() {
        assert_eq!(
            rule_of("atrest-ebs-volume-encrypted", "atrest-", IDS),
            Some("ebs-volume-encrypted")
        );
        assert_eq!(
            rule_of("atrest-kms-key-usable-conformance-pack-a1b2c3", "atrest-", IDS),
            Some("kms-key-usable")
        );
        assert_eq!(
            rule_of("OrgConfigRule-atrest-kms-key-rotation-enabled-x9y8", "atrest-", IDS),
            Some("kms-key-rotation-enabled")
        );
        assert_eq!(rule_of("ebs-volume-encrypted", "atrest-", IDS), None);
        assert_eq!(rule_of("atrest-ebs-volume-encryptedness", "atrest-", IDS), None);
        assert_eq!(
            rule_of("pci-ebs-volume-encrypted", "pci-", IDS),
            Some("ebs-volume-encrypted")
        );
    }

    fn compliance(rule: &str, account: &str) -> AggregateComplianceByConfigRule {
        AggregateComplianceByConfigRule::builder()
            .config_rule_name(rule)
            .account_id(account)
            .aws_region("eu-west-1")
            .build()
    }

    fn result(id: &str, compliance: ComplianceType, recorded: i64) -> AggregateEvaluationResult {
        AggregateEvaluationResult::builder()
            .evaluation_result_identifier(
                EvaluationResultIdentifier::builder()
                    .evaluation_result_qualifier(
                        EvaluationResultQualifier::builder()
                            .resource_type("AWS::EC2::Volume")
                            .resource_id(id)
                            .build(),
                    )
                    .ordering_timestamp(DateTime::from_secs(recorded - 60))
                    .build(),
            )
            .compliance_type(compliance)
            .annotation(format!("{id} judged"))
            .result_recorded_time(DateTime::from_secs(recorded))
            .build()
    }

    fn source(id: &str, kind: AggregatedSourceType, status: AggregatedSourceStatusType) -> AggregatedSourceStatus {
        AggregatedSourceStatus::builder()
            .source_id(id)
            .source_type(kind)
            .aws_region("eu-west-1")
            .last_update_status(status)
            .last_error_code("AccessDenied")
            .last_error_message("not authorized")
            .build()
    }

    fn query() -> Query<'static> {
        Query {
            aggregator: "org",
            rule_ids: IDS.to_vec(),
            source_regions: &[],
            name_prefix: "atrest-",
            concurrency: 2,
        }
    }

    #[tokio::test]
    async fn every_page_of_every_atrest_rule_is_read_with_what_it_does_not_cover() {
        let rules_1 = mock!(Client::describe_aggregate_compliance_by_config_rules)
            .match_requests(|r| r.next_token().is_none() && r.configuration_aggregator_name() == Some("org"))
            .then_output(|| {
                DescribeAggregateComplianceByConfigRulesOutput::builder()
                    .aggregate_compliance_by_config_rules(compliance("atrest-ebs-volume-encrypted", "111111111111"))
                    .aggregate_compliance_by_config_rules(compliance("someone-elses-rule", "222222222222"))
                    .next_token("r2")
                    .build()
            });
        let rules_2 = mock!(Client::describe_aggregate_compliance_by_config_rules)
            .match_requests(|r| r.next_token() == Some("r2"))
            .then_output(|| {
                DescribeAggregateComplianceByConfigRulesOutput::builder()
                    .aggregate_compliance_by_config_rules(compliance(
                        "atrest-kms-key-usable-conformance-pack-a1b2",
                        "111111111111",
                    ))
                    .build()
            });
        let ebs_1 = mock!(Client::get_aggregate_compliance_details_by_config_rule)
            .match_requests(|r| {
                r.config_rule_name() == Some("atrest-ebs-volume-encrypted")
                    && r.account_id() == Some("111111111111")
                    && r.next_token().is_none()
            })
            .then_output(|| {
                GetAggregateComplianceDetailsByConfigRuleOutput::builder()
                    .aggregate_evaluation_results(result("vol-1", ComplianceType::Compliant, 1_000_000))
                    .next_token("e2")
                    .build()
            });
        let ebs_2 = mock!(Client::get_aggregate_compliance_details_by_config_rule)
            .match_requests(|r| r.next_token() == Some("e2"))
            .then_output(|| {
                GetAggregateComplianceDetailsByConfigRuleOutput::builder()
                    .aggregate_evaluation_results(result("vol-2", ComplianceType::NonCompliant, 2_000_000))
                    .build()
            });
        let usable = mock!(Client::get_aggregate_compliance_details_by_config_rule)
            .match_requests(|r| r.config_rule_name() == Some("atrest-kms-key-usable-conformance-pack-a1b2"))
            .then_output(|| {
                GetAggregateComplianceDetailsByConfigRuleOutput::builder()
                    .aggregate_evaluation_results(result("key-1", ComplianceType::InsufficientData, 1_500_000))
                    .build()
            });
        let sources = mock!(Client::describe_configuration_aggregator_sources_status).then_output(|| {
            DescribeConfigurationAggregatorSourcesStatusOutput::builder()
                .aggregated_source_status_list(source(
                    "111111111111",
                    AggregatedSourceType::Account,
                    AggregatedSourceStatusType::Succeeded,
                ))
                .aggregated_source_status_list(source(
                    "222222222222",
                    AggregatedSourceType::Account,
                    AggregatedSourceStatusType::Succeeded,
                ))
                .aggregated_source_status_list(source(
                    "333333333333",
                    AggregatedSourceType::Account,
                    AggregatedSourceStatusType::Failed,
                ))
                .build()
        });
        let aws = mock_aws(
            RuleMode::MatchAny,
            &[&rules_1, &rules_2, &ebs_1, &ebs_2, &usable, &sources],
        );
        let read = read(&aws, &query()).await.unwrap();
        let found: Vec<(&str, &str, Compliance)> = read
            .findings
            .iter()
            .map(|f| (f.rule, f.resource_id.as_str(), f.compliance))
            .collect();
        assert_eq!(
            found,
            [
                ("ebs-volume-encrypted", "vol-1", Compliance::Compliant),
                ("ebs-volume-encrypted", "vol-2", Compliance::NonCompliant),
            ]
        );
        assert_eq!(read.findings[1].account_id.as_deref(), Some("111111111111"));
        assert_eq!(read.findings[1].recorded_at.as_deref(), Some("1970-01-24T03:33:20Z"));
        assert_eq!(read.findings[1].annotation.as_deref(), Some("vol-2 judged"));
        assert_eq!(
            read.recorded.map(|(lo, hi)| (lo.secs(), hi.secs())),
            Some((1_000_000, 2_000_000))
        );
        // A result that is not a verdict fails its rule, never counts as one;
        // an account without atrest rules and a failed source are named.
        let errors: Vec<(Option<&str>, Option<&str>, &str)> = read
            .errors
            .iter()
            .map(|e| (e.account_id.as_deref(), e.rule.as_deref(), e.reason.as_str()))
            .collect();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].0 == Some("111111111111")
                && errors[0].1 == Some("kms-key-usable")
                && errors[0].2.contains("INSUFFICIENT_DATA"),
            "{errors:?}"
        );
        assert!(
            errors[1].0 == Some("222222222222") && errors[1].2.contains("no atrest rule"),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.0 == Some("333333333333") && e.2.contains("failed (AccessDenied")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.0 == Some("333333333333") && e.2.contains("no atrest rule")),
            "{errors:?}"
        );
    }

    #[tokio::test]
    async fn an_organization_source_stands_for_its_active_accounts() {
        use aws_sdk_organizations::operation::list_accounts::ListAccountsOutput;
        use aws_sdk_organizations::types::{Account, AccountState};
        let rules = mock!(Client::describe_aggregate_compliance_by_config_rules).then_output(|| {
            DescribeAggregateComplianceByConfigRulesOutput::builder()
                .aggregate_compliance_by_config_rules(compliance("atrest-ebs-volume-encrypted", "111111111111"))
                .build()
        });
        let details = mock!(Client::get_aggregate_compliance_details_by_config_rule).then_output(|| {
            GetAggregateComplianceDetailsByConfigRuleOutput::builder()
                .aggregate_evaluation_results(result("vol-1", ComplianceType::Compliant, 1_000_000))
                .build()
        });
        let sources = mock!(Client::describe_configuration_aggregator_sources_status).then_output(|| {
            DescribeConfigurationAggregatorSourcesStatusOutput::builder()
                .aggregated_source_status_list(source(
                    "o-abc123",
                    AggregatedSourceType::Organization,
                    AggregatedSourceStatusType::Succeeded,
                ))
                .build()
        });
        let accounts = mock!(aws_sdk_organizations::Client::list_accounts).then_output(|| {
            let account = |id: &str, state: AccountState| Account::builder().id(id).state(state).build();
            ListAccountsOutput::builder()
                .accounts(account("111111111111", AccountState::Active))
                .accounts(account("444444444444", AccountState::Active))
                .accounts(account("555555555555", AccountState::Suspended))
                .build()
        });
        let aws = mock_aws(RuleMode::MatchAny, &[&rules, &details, &sources, &accounts]);
        let read = read(&aws, &query()).await.unwrap();
        assert_eq!(read.findings.len(), 1);
        let uncovered: Vec<&str> = read.errors.iter().filter_map(|e| e.account_id.as_deref()).collect();
        assert_eq!(uncovered, ["444444444444"]);
    }

    #[test]
    fn the_recorded_time_and_what_is_not_covered_reach_the_rendered_report() {
        let recorded = DateTime::from(std::time::SystemTime::now()).secs() - 3 * 3600 - 120;
        let finding = Finding {
            rule: "ebs-volume-encrypted",
            resource_type: "AWS::EC2::Volume".into(),
            resource_id: "vol-2".into(),
            compliance: Compliance::NonCompliant,
            annotation: Some("vol-2 is not encrypted".into()),
            ordering_timestamp: text(DateTime::from_secs(recorded - 60)),
            account_id: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
            recorded_at: Some(text(DateTime::from_secs(recorded))),
        };
        let errors = [RunError {
            account_id: Some("222222222222".into()),
            region: Some("eu-west-1".into()),
            rule: None,
            reason: "no atrest rule there has results".into(),
        }];
        let findings = [finding];
        let spec = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let report = Report::new(&findings, vec![spec], "Config aggregator org".into()).with_errors(&errors);
        let rendered = |format| {
            let mut out = Vec::new();
            crate::output::render(&report, format, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let table = rendered(crate::output::Format::Table);
        assert!(table.contains("(3 h 2 min ago)"), "{table}");
        assert!(
            table.contains("222222222222") && table.contains("no atrest rule"),
            "{table}"
        );
        let json: serde_json::Value = serde_json::from_str(&rendered(crate::output::Format::Json)).unwrap();
        assert_eq!(
            json["findings"][0]["recordedAt"],
            findings[0].recorded_at.as_deref().unwrap()
        );
        assert_eq!(json["errors"][0]["accountId"], "222222222222");
        let html = rendered(crate::output::Format::Html);
        assert!(
            html.contains("recorded by AWS Config"),
            "could not find the recorded time"
        );
    }
}
