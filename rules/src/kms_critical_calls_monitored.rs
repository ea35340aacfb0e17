//! # kms-critical-calls-monitored
//!
//! ## What it checks
//! In the rule's region, the account would learn of each of the critical KMS
//! calls (`criticalActions`: by default `ScheduleKeyDeletion`, `DisableKey`,
//! `PutKeyPolicy`, `DeleteAlias`, `DeleteImportedKeyMaterial`). A call is
//! heard when
//! - a **multi-region CloudTrail trail is logging** and records KMS
//!   management write events (basic event selectors with management events
//!   read-write or write-only and `kms.amazonaws.com` not excluded, or an
//!   advanced selector on `eventCategory = Management` that atrest can read
//!   to include them), and
//! - an **enabled EventBridge rule** of the region's default bus whose
//!   pattern matches **every** event of the call has at least one target,
//!   **or** the trail delivers to a CloudWatch Logs log group with a
//!   **metric filter** matching every record of the call whose metric has an
//!   **alarm with actions enabled** and at least one action.
//!
//! "Every event" is decided field by field: a pattern that also filters on
//! what differs from one call to the next (the caller, the key, the source
//! address) does not catch every call and is not counted, and neither is a
//! pattern atrest cannot read (a CloudWatch Logs text pattern, a regular
//! expression, `&&` and `||` mixed without parentheses). NON_COMPLIANT names
//! each call nobody would hear of and why: no trail, a trail not logging or
//! not recording them, no matching rule, a matching rule disabled or without
//! a target, a matching metric filter without an alarm. Reported for the
//! account (`AWS::::Account`), per region: EventBridge rules see the calls of
//! their own region.
//!
//! COMPLIANT proves: each critical call made in the region reaches an enabled
//! notification or alarm with somewhere to go. It does not prove: that the
//! target delivers (an SNS topic's subscriptions, a Lambda function's code),
//! or that anyone reads it.
//!
//! ## Why
//! The AWS KMS best practices ask for detective controls on the calls that
//! can make data unreadable or a key reachable by others: deleting and
//! disabling keys, rewriting their policies, removing aliases or imported
//! material. A scheduled deletion can still be cancelled — if someone hears
//! of it in time. PCI DSS asks for administrative actions and the deletion
//! of system-level objects to be logged and the logs reviewed by automated
//! mechanisms.
//!
//! ## Parameters
//! - `criticalActions` (default `kms:ScheduleKeyDeletion,kms:DisableKey,kms:PutKeyPolicy,kms:DeleteAlias,kms:DeleteImportedKeyMaterial`):
//!   the KMS API calls that must be heard (with or without `kms:`).
//!
//! ## NOT_APPLICABLE when
//! Never: every account and region can monitor its KMS calls.

use std::collections::{BTreeMap, BTreeSet};

use crate::monitoring::facts::{
    AdvancedSelector, AlarmFacts, BasicSelector, EventRuleFacts, Facts, FieldSelector, FilterFacts, MetricFacts,
    TrailFacts,
};
use crate::monitoring::{event_pattern, log_filter, Call, Truth};
use async_trait::async_trait;
use atrest_common::aws::AwsContext;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::sweep::one_page;
use atrest_common::{
    AwsError, AwsErrorKind, ConfigurationItem, Error, Found, PciDss, Rule, RuleContext, RuleSpec, Sweep, Triggers,
    Verdict,
};

const ACCOUNT: &str = "AWS::::Account";

const CRITICAL_ACTIONS: ParamSpec = ParamSpec {
    name: "criticalActions",
    kind: ParamKind::List,
    default: Some(
        "kms:ScheduleKeyDeletion,kms:DisableKey,kms:PutKeyPolicy,kms:DeleteAlias,kms:DeleteImportedKeyMaterial",
    ),
    required: false,
    description: "Comma-separated KMS API calls the account must hear of (with or without `kms:`).",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-critical-calls-monitored",
    description: "Each critical KMS call in the region would be heard of: a multi-region CloudTrail trail logs it, \
                  and an enabled EventBridge rule with a target, or a metric filter with an alarm, matches every \
                  such call.",
    evidence: "COMPLIANT proves: each critical call made in the region reaches an enabled notification or alarm with somewhere to go. It does not prove: that the target delivers (an SNS topic's subscriptions, a Lambda function's code), or that anyone reads it.",
    resource_types: &[ACCOUNT],
    triggers: Triggers {
        change: false,
        periodic: true,
    },
    parameters: &[CRITICAL_ACTIONS],
    own_iam_actions: &[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
        "cloudwatch:DescribeAlarmsForMetric",
        "events:ListRules",
        "events:ListTargetsByRule",
        "logs:DescribeMetricFilters",
    ],
    pci_dss: PciDss {
        v3_2_1: &["10.2.2", "10.2.7", "10.6.1"],
        v4_0: &["10.2.1.2", "10.2.1.7", "10.4.1.1"],
    },
    timeout_seconds: 60,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub struct KmsCriticalCallsMonitored;

pub static RULE: KmsCriticalCallsMonitored = KmsCriticalCallsMonitored;

/// The API names of `criticalActions`, without `kms:`.
pub fn critical_calls(actions: &[String]) -> Vec<String> {
    let calls: BTreeSet<String> = actions
        .iter()
        .map(|a| a.strip_prefix("kms:").unwrap_or(a).to_owned())
        .collect();
    calls.into_iter().collect()
}

/// How the calls are heard, or why not, call by call.
#[derive(Debug, Default)]
pub struct Hearing {
    /// Call → what hears it.
    pub heard: BTreeMap<String, String>,
    /// Call → why what matched it does not count.
    pub why_not: BTreeMap<String, Vec<String>>,
}

impl Hearing {
    fn new() -> Self {
        Self::default()
    }

    fn hear(&mut self, call: &str, by: String) {
        self.heard.entry(call.to_owned()).or_insert(by);
    }

    fn note(&mut self, call: &str, why: String) {
        let notes = self.why_not.entry(call.to_owned()).or_default();
        if !notes.contains(&why) {
            notes.push(why);
        }
    }

    /// The verdict over `calls`, once every source was asked.
    pub fn verdict(&self, calls: &[String], trails: &[String]) -> Verdict {
        let unheard: Vec<&String> = calls.iter().filter(|c| !self.heard.contains_key(*c)).collect();
        if unheard.is_empty() {
            let by: BTreeSet<&str> = self.heard.values().map(String::as_str).collect();
            return Verdict::compliant(format!(
                "Trail {} logs the critical KMS calls; heard by {}.",
                trails.join(", "),
                by.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        // Calls with the same reasons are named together.
        let mut by_reason: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for call in unheard {
            let why = self
                .why_not
                .get(call)
                .map(|w| w.join("; "))
                .unwrap_or_else(|| "no enabled EventBridge rule or metric filter matches every such call".into());
            by_reason.entry(why).or_default().push(call);
        }
        let parts: Vec<String> = by_reason
            .into_iter()
            .map(|(why, calls)| format!("kms:{} ({why})", calls.join(", kms:")))
            .collect();
        Verdict::non_compliant(format!("Nobody would hear of {}.", parts.join("; ")))
    }
}

/// What reading something gave: the value, or a sentence on why it could
/// not be read (access denied); other failures are errors (Config retries).
fn readable<T>(result: Result<T, AwsError>, what: &str) -> Result<Result<T, String>, Error> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) if e.kind == AwsErrorKind::AccessDenied => Ok(Err(format!("{what} could not be read: access denied"))),
        Err(e) => Err(e.into()),
    }
}

/// The trails, live: every trail of the account (shadow trails of other
/// regions included), with the status and selectors of the multi-region ones.
async fn read_trails(aws: &AwsContext, facts: &mut Facts) -> Result<(), Error> {
    let cloudtrail = atrest_common::aws_client!(aws, aws_sdk_cloudtrail);
    let listed = cloudtrail
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("cloudtrail", "DescribeTrails", &e));
    let trails = match readable(listed, "the trails")? {
        Ok(out) => out.trail_list.unwrap_or_default(),
        Err(why) => {
            facts.trails_unreadable = Some(why);
            return Ok(());
        }
    };
    for trail in trails {
        let name = trail.name().unwrap_or_default().to_owned();
        let mut read = TrailFacts {
            name: name.clone(),
            multi_region: trail.is_multi_region_trail().unwrap_or(false),
            log_group_arn: trail.cloud_watch_logs_log_group_arn().map(str::to_owned),
            ..TrailFacts::default()
        };
        let Some(arn) = trail.trail_arn().filter(|_| read.multi_region) else {
            facts.trails.push(read);
            continue;
        };
        let status = cloudtrail
            .get_trail_status()
            .name(arn)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail", "GetTrailStatus", &e));
        match status {
            // Deleted since it was listed.
            Err(e) if e.kind == AwsErrorKind::NotFound => continue,
            status => match readable(status, &format!("the status of trail {name}"))? {
                Ok(s) => read.logging = s.is_logging(),
                Err(why) => read.status_unreadable = Some(why),
            },
        }
        if read.logging == Some(true) {
            let selectors = cloudtrail
                .get_event_selectors()
                .trail_name(arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudtrail", "GetEventSelectors", &e));
            match readable(selectors, &format!("the event selectors of trail {name}"))? {
                Ok(s) => {
                    read.event_selectors = s.event_selectors().iter().map(basic_selector).collect();
                    read.advanced_event_selectors =
                        s.advanced_event_selectors().iter().map(advanced_selector).collect();
                }
                Err(why) => read.selectors_unreadable = Some(why),
            }
        }
        facts.trails.push(read);
    }
    Ok(())
}

fn basic_selector(s: &aws_sdk_cloudtrail::types::EventSelector) -> BasicSelector {
    BasicSelector {
        read_write_type: s.read_write_type().map(|t| t.as_str().to_owned()),
        include_management_events: s.include_management_events(),
        exclude_management_event_sources: s.exclude_management_event_sources().to_vec(),
    }
}

fn advanced_selector(s: &aws_sdk_cloudtrail::types::AdvancedEventSelector) -> AdvancedSelector {
    AdvancedSelector {
        field_selectors: s
            .field_selectors()
            .iter()
            .map(|f| FieldSelector {
                field: f.field().to_owned(),
                equals: f.equals().to_vec(),
                not_equals: f.not_equals().to_vec(),
                starts_with: f.starts_with().to_vec(),
                not_starts_with: f.not_starts_with().to_vec(),
                ends_with: f.ends_with().to_vec(),
                not_ends_with: f.not_ends_with().to_vec(),
            })
            .collect(),
    }
}

/// The calls of `calls` that `pattern` catches every event of.
fn caught_by_rule<'c>(pattern: &str, calls: &'c [Call<'c>]) -> Vec<&'c Call<'c>> {
    calls
        .iter()
        .filter(|c| event_pattern::matches_every(pattern, c) == Ok(Truth::True))
        .collect()
}

/// The calls of `calls` that the metric filter `pattern` catches every record of.
fn caught_by_filter<'c>(pattern: &str, calls: &'c [Call<'c>]) -> Vec<&'c Call<'c>> {
    calls
        .iter()
        .filter(|c| log_filter::matches_every(pattern, c) == Ok(Truth::True))
        .collect()
}

/// The rules of the region's default bus, live, with the targets of those
/// that catch a call.
async fn read_event_rules(aws: &AwsContext, calls: &[Call<'_>], facts: &mut Facts) -> Result<(), Error> {
    let events = atrest_common::aws_client!(aws, aws_sdk_eventbridge);
    let mut token = None;
    loop {
        let page = events
            .list_rules()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("events", "ListRules", &e));
        let page = match readable(page, "the EventBridge rules")? {
            Ok(p) => p,
            Err(why) => {
                facts.event_rules_unreadable = Some(why);
                return Ok(());
            }
        };
        for rule in page.rules() {
            let mut read = EventRuleFacts {
                name: rule.name().unwrap_or_default().to_owned(),
                event_pattern: rule.event_pattern().map(str::to_owned),
                state: rule.state().map(|s| s.as_str().to_owned()),
                ..EventRuleFacts::default()
            };
            let catches = read
                .event_pattern
                .as_deref()
                .is_some_and(|p| !caught_by_rule(p, calls).is_empty());
            if catches {
                let targets = events
                    .list_targets_by_rule()
                    .rule(&read.name)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("events", "ListTargetsByRule", &e));
                match readable(targets, &format!("the targets of rule {}", read.name))? {
                    Ok(t) => read.targets = Some(t.targets().len()),
                    Err(why) => read.targets_unreadable = Some(why),
                }
            }
            facts.event_rules.push(read);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(());
        }
    }
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*` as (region, name).
pub fn log_group_of(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_), Some("logs"), Some(region), Some(_), Some("log-group"), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((region, rest.strip_suffix(":*").unwrap_or(rest)))
}

/// The metric filters of a recording trail's log group (in its own
/// region), with the alarms on the metrics of those that catch a call.
async fn read_metric_filters(
    aws: &AwsContext,
    trail: &TrailFacts,
    calls: &[Call<'_>],
    facts: &mut Facts,
) -> Result<(), Error> {
    let Some(arn) = &trail.log_group_arn else {
        return Ok(());
    };
    let Some((region, group)) = log_group_of(arn) else {
        facts.metric_filters_unreadable.push(format!(
            "log group {arn} of trail {} is not a log group ARN",
            trail.name
        ));
        return Ok(());
    };
    let there = aws.in_region(region);
    let logs = atrest_common::aws_client!(&there, aws_sdk_cloudwatchlogs);
    let cloudwatch = atrest_common::aws_client!(&there, aws_sdk_cloudwatch);
    let mut token = None;
    loop {
        let page = logs
            .describe_metric_filters()
            .log_group_name(group)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("logs", "DescribeMetricFilters", &e));
        let page = match page {
            Err(e) if e.kind == AwsErrorKind::NotFound => return Ok(()),
            page => match readable(page, &format!("the metric filters of log group {group}"))? {
                Ok(p) => p,
                Err(why) => {
                    facts.metric_filters_unreadable.push(why);
                    return Ok(());
                }
            },
        };
        for filter in page.metric_filters() {
            let mut read = FilterFacts {
                trail: trail.name.clone(),
                name: filter.filter_name().unwrap_or_default().to_owned(),
                pattern: filter.filter_pattern().map(str::to_owned),
                metrics: Vec::new(),
            };
            let catches = read
                .pattern
                .as_deref()
                .is_some_and(|p| !caught_by_filter(p, calls).is_empty());
            for metric in filter.metric_transformations() {
                let mut m = MetricFacts {
                    name: metric.metric_name().to_owned(),
                    namespace: metric.metric_namespace().to_owned(),
                    ..MetricFacts::default()
                };
                if catches {
                    let alarms = cloudwatch
                        .describe_alarms_for_metric()
                        .metric_name(&m.name)
                        .namespace(&m.namespace)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("cloudwatch", "DescribeAlarmsForMetric", &e));
                    match readable(alarms, &format!("the alarms of metric {}", m.name))? {
                        Ok(a) => {
                            m.alarms = a
                                .metric_alarms()
                                .iter()
                                .map(|a| AlarmFacts {
                                    name: a.alarm_name().unwrap_or_default().to_owned(),
                                    actions_enabled: a.actions_enabled().unwrap_or(false),
                                    actions: a.alarm_actions().len(),
                                })
                                .collect();
                        }
                        Err(why) => m.alarms_unreadable = Some(why),
                    }
                }
                read.metrics.push(m);
            }
            facts.metric_filters.push(read);
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(());
        }
    }
}

/// Everything the judgement needs, live, in the context's region.
async fn read_facts(aws: &AwsContext, calls: &[Call<'_>]) -> Result<Facts, Error> {
    let mut facts = Facts::default();
    read_trails(aws, &mut facts).await?;
    let recording: Vec<TrailFacts> = facts
        .trails
        .iter()
        .filter(|t| t.why_not_recording().is_none())
        .cloned()
        .collect();
    if recording.is_empty() {
        // Nothing is heard without a trail: the rest need not be read.
        return Ok(facts);
    }
    read_event_rules(aws, calls, &mut facts).await?;
    for trail in &recording {
        read_metric_filters(aws, trail, calls, &mut facts).await?;
    }
    Ok(facts)
}

/// Judges `calls` on what `facts` say.
pub fn judge_facts(facts: &Facts, calls: &[Call<'_>]) -> Verdict {
    let names: Vec<String> = calls.iter().map(|c| c.name.to_owned()).collect();
    let mut hearing = Hearing::new();
    let mut why_none: Vec<String> = facts.trails_unreadable.iter().cloned().collect();
    let mut recording = Vec::new();
    for trail in &facts.trails {
        match trail.why_not_recording() {
            None => recording.push(trail.name.clone()),
            Some(why) => why_none.push(why),
        }
    }
    if recording.is_empty() {
        if why_none.is_empty() {
            why_none.push("no CloudTrail trail".into());
        }
        let why = format!("no multi-region trail records them: {}", why_none.join(", "));
        for name in &names {
            hearing.note(name, why.clone());
        }
        return hearing.verdict(&names, &[]);
    }
    if let Some(why) = &facts.event_rules_unreadable {
        for name in &names {
            hearing.note(name, why.clone());
        }
    }
    for rule in &facts.event_rules {
        let Some(pattern) = &rule.event_pattern else { continue };
        let name = &rule.name;
        let enabled = rule.state.as_deref().is_some_and(|s| s.starts_with("ENABLED"));
        let why = if !enabled {
            Some(format!("rule {name} is disabled"))
        } else if let Some(why) = &rule.targets_unreadable {
            Some(why.clone())
        } else if rule.targets.unwrap_or(0) == 0 {
            Some(format!("rule {name} has no target"))
        } else {
            None
        };
        for call in caught_by_rule(pattern, calls) {
            match &why {
                None => hearing.hear(call.name, format!("EventBridge rule {name}")),
                Some(w) => hearing.note(call.name, w.clone()),
            }
        }
    }
    for why in &facts.metric_filters_unreadable {
        for name in &names {
            hearing.note(name, why.clone());
        }
    }
    for filter in facts.metric_filters.iter().filter(|f| recording.contains(&f.trail)) {
        let Some(pattern) = &filter.pattern else { continue };
        let alarm = filter
            .metrics
            .iter()
            .flat_map(|m| &m.alarms)
            .find(|a| a.actions_enabled && a.actions > 0);
        let unreadable = filter.metrics.iter().find_map(|m| m.alarms_unreadable.clone());
        for call in caught_by_filter(pattern, calls) {
            match (alarm, &unreadable) {
                (Some(a), _) => hearing.hear(call.name, format!("metric filter {} and alarm {}", filter.name, a.name)),
                (None, Some(why)) => hearing.note(call.name, why.clone()),
                (None, None) => hearing.note(
                    call.name,
                    format!(
                        "metric filter {} has no alarm with actions enabled and an action",
                        filter.name
                    ),
                ),
            }
        }
    }
    hearing.verdict(&names, &recording)
}

/// The calls of the parameters, in the context's account and region.
fn calls_of<'a>(names: &'a [String], ctx: &RuleContext<'a>, region: Option<&'a str>) -> Vec<Call<'a>> {
    names
        .iter()
        .map(|name| Call {
            name,
            account: ctx.account_id,
            region,
        })
        .collect()
}

#[async_trait]
impl Rule for KmsCriticalCallsMonitored {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    /// Judges a recorded account: an item of type AWS::::Account whose
    /// configuration holds `kmsCallMonitoring` (the [`Facts`], as the CLI
    /// records them; Config sends this periodic rule no items).
    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let Some(recorded) = item.configuration.get("kmsCallMonitoring") else {
            return Ok(Verdict::non_compliant(
                "The record does not say how the account monitors its KMS calls: cannot be verified.",
            ));
        };
        let facts: Facts = serde_json::from_value(recorded.clone())
            .map_err(|e| item.problem(format!("kmsCallMonitoring is not readable: {e}")))?;
        let names = critical_calls(ctx.params.list(CRITICAL_ACTIONS.name));
        Ok(judge_facts(&facts, &calls_of(&names, ctx, item.aws_region.as_deref())))
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let account = ctx
            .account_id
            .ok_or_else(|| Error::Event("the scheduled notification names no account".into()))?;
        let found = Found::new(ACCOUNT, account, async move {
            let aws = ctx.aws()?;
            let names = critical_calls(ctx.params.list(CRITICAL_ACTIONS.name));
            let calls = calls_of(&names, ctx, aws.region());
            let facts = read_facts(aws, &calls).await?;
            Ok(Some(judge_facts(&facts, &calls)))
        });
        Ok(Box::new(one_page(vec![found])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_calls_are_named_without_their_prefix_once() {
        let got = critical_calls(&["kms:DisableKey".into(), "DisableKey".into(), "kms:DeleteAlias".into()]);
        assert_eq!(got, ["DeleteAlias", "DisableKey"]);
    }

    #[test]
    fn log_group_arns() {
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs:*"),
            Some(("us-east-1", "aws-cloudtrail-logs"))
        );
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:111122223333:log-group:/a/b"),
            Some(("us-east-1", "/a/b"))
        );
        assert_eq!(log_group_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn unheard_calls_are_named_with_their_reasons_grouped() {
        let mut hearing = Hearing::new();
        let calls: Vec<String> = ["DeleteAlias", "DisableKey", "PutKeyPolicy"].map(String::from).into();
        hearing.hear("DisableKey", "EventBridge rule kms".into());
        hearing.note("DeleteAlias", "rule r is disabled".into());
        hearing.note("PutKeyPolicy", "rule r is disabled".into());
        let v = hearing.verdict(&calls, &["org".into()]);
        assert_eq!(v.compliance, atrest_common::Compliance::NonCompliant);
        assert_eq!(
            v.annotation.as_deref(),
            Some("Nobody would hear of kms:DeleteAlias, kms:PutKeyPolicy (rule r is disabled).")
        );
        hearing.hear("DeleteAlias", "EventBridge rule kms".into());
        hearing.hear("PutKeyPolicy", "metric filter f and alarm a".into());
        let v = hearing.verdict(&calls, &["org".into()]);
        assert_eq!(v.compliance, atrest_common::Compliance::Compliant);
        assert_eq!(
            v.annotation.as_deref(),
            Some("Trail org logs the critical KMS calls; heard by EventBridge rule kms, metric filter f and alarm a.")
        );
    }
}
