//! One invocation from decoded event to delivered evaluations: the Config
//! contract (left scope, deleted items, out-of-scope types, oversized
//! items, sweeps, stale results) around a rule's judgement.

use aws_sdk_config::types::{ComplianceType, ResourceType};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use crate::aws::AwsContext;
use crate::error::{AwsError, Error};
use crate::evaluation::Verdict;
use crate::event::{Invocation, ItemSummary, Trigger};
use crate::item::ConfigurationItem;
use crate::keys::KeyDirectory;
use crate::params::Parameters;
use crate::report::{Counts, Deadline, EvaluationSink, Outbox};
use crate::rule::{Rule, RuleContext};
use crate::stale;

/// The AWS access and key facts one account is evaluated with. `aws` is
/// `None` offline (Config snapshots), where key facts come from items.
pub struct Environment {
    pub aws: Option<AwsContext>,
    pub keys: KeyDirectory,
}

impl Environment {
    /// Live AWS access, key facts from KMS.
    pub fn live(aws: AwsContext) -> Self {
        let keys = KeyDirectory::kms(aws.kms());
        Environment { aws: Some(aws), keys }
    }
}

/// What an invocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub message_type: &'static str,
    pub counts: Counts,
    /// Of the NOT_APPLICABLE results, those that retired stale results.
    pub stale: usize,
}

/// Runs `rule` on one invocation and delivers its evaluations to `sink`.
/// Nothing is reported unless the whole evaluation succeeded up to the
/// point of each push; errors leave the rest unreported for Config to retry.
pub async fn run(
    rule: &dyn Rule,
    invocation: &Invocation,
    params: &Parameters,
    env: &Environment,
    sink: &mut dyn EvaluationSink,
) -> Result<Outcome, Error> {
    run_until(rule, invocation, params, env, sink, Deadline::none()).await
}

/// [`run`], stopping a sweep with [`Error::Deadline`] when `deadline` nears
/// (after delivering what was evaluated).
pub async fn run_until(
    rule: &dyn Rule,
    invocation: &Invocation,
    params: &Parameters,
    env: &Environment,
    sink: &mut dyn EvaluationSink,
    deadline: Deadline,
) -> Result<Outcome, Error> {
    let spec = rule.spec();
    let message_type = invocation.trigger.message_type();
    let mut stale = 0;
    let counts = match &invocation.trigger {
        Trigger::Change(item) => {
            let mut out = Outbox::new(sink, item.require_capture_time()?);
            evaluate_item(rule, item, invocation, params, env, &mut out).await?;
            finish(out).await?
        }
        Trigger::Oversized(summary) => {
            if let Some(verdict) = gone(
                invocation.event_left_scope,
                summary.status.is_gone(),
                &summary.resource_type,
                spec,
            ) {
                let time = summary.capture_time.ok_or_else(|| {
                    Error::Event("configurationItemSummary has no valid configurationItemCaptureTime".into())
                })?;
                let mut out = Outbox::new(sink, time);
                out.push(&summary.resource_type, &summary.resource_id, verdict).await?;
                finish(out).await?
            } else {
                let item = fetch_item(env, summary).await?;
                let mut out = Outbox::new(sink, item.require_capture_time()?);
                evaluate_item(rule, &item, invocation, params, env, &mut out).await?;
                finish(out).await?
            }
        }
        Trigger::Scheduled {
            account_id,
            notification_creation_time,
        } => {
            if !spec.triggers.periodic {
                return Err(Error::Event(format!(
                    "rule {} is change-triggered only; it got a ScheduledNotification",
                    spec.id
                )));
            }
            let account = account_id.as_deref().or(invocation.account_id.as_deref());
            let ctx = RuleContext::new(
                params,
                &env.keys,
                env.aws.as_ref(),
                *notification_creation_time,
                account,
            );
            let mut out = Outbox::new(sink, *notification_creation_time).with_deadline(deadline);
            // In TestMode nothing is recorded, so there are no earlier results.
            let recorded = match (
                env.aws.as_ref(),
                invocation.rule_name.as_deref(),
                invocation.test_mode(),
            ) {
                (Some(aws), Some(rule_name), false) => Some((aws, rule_name)),
                _ => None,
            };
            match crate::drive::drive(rule, &ctx, &mut out).await {
                Ok(()) => {
                    if let Some((aws, rule_name)) = recorded {
                        stale = retire_stale(rule, aws, rule_name, &mut out).await?;
                    }
                }
                Err(Error::Deadline { reported, left }) => {
                    // The resources past the cut were not judged: none of
                    // their earlier COMPLIANT results may stand.
                    if let Some((aws, rule_name)) = recorded {
                        withdraw_unverified(rule, aws, rule_name, *notification_creation_time, &mut out).await?;
                        out.flush().await?;
                    }
                    return Err(Error::Deadline { reported, left });
                }
                Err(e) => return Err(e),
            }
            finish(out).await?
        }
    };
    Ok(Outcome {
        message_type,
        counts,
        stale,
    })
}

async fn finish(mut out: Outbox<'_>) -> Result<Counts, Error> {
    out.flush().await?;
    Ok(out.counts())
}

/// The NOT_APPLICABLE verdict for resources the rule must not judge.
fn gone(left_scope: bool, deleted: bool, resource_type: &str, spec: &crate::rule::RuleSpec) -> Option<Verdict> {
    if left_scope {
        Some(Verdict::not_applicable("The resource left the rule's scope."))
    } else if deleted {
        Some(Verdict::not_applicable(
            "The resource was deleted or is no longer recorded.",
        ))
    } else if !spec.covers(resource_type) {
        Some(Verdict::not_applicable(format!(
            "{resource_type} is outside the scope of rule {}.",
            spec.id
        )))
    } else {
        None
    }
}

async fn evaluate_item(
    rule: &dyn Rule,
    item: &ConfigurationItem,
    invocation: &Invocation,
    params: &Parameters,
    env: &Environment,
    out: &mut Outbox<'_>,
) -> Result<(), Error> {
    let spec = rule.spec();
    let verdict = match gone(
        invocation.event_left_scope,
        item.status.is_gone(),
        &item.resource_type,
        spec,
    ) {
        Some(v) => v,
        None if !spec.triggers.change => {
            return Err(Error::Event(format!(
                "rule {} is periodic only; it got a configuration change notification",
                spec.id
            )))
        }
        None => {
            let account = item.account_id.as_deref().or(invocation.account_id.as_deref());
            let ctx = RuleContext::new(
                params,
                &env.keys,
                env.aws.as_ref(),
                item.require_capture_time()?,
                account,
            );
            rule.evaluate_item(item, &ctx).await?
        }
    };
    out.push(&item.resource_type, &item.resource_id, verdict).await
}

/// The full item behind an oversized notification: the latest entry of
/// GetResourceConfigHistory.
async fn fetch_item(env: &Environment, summary: &ItemSummary) -> Result<ConfigurationItem, Error> {
    let aws = env.aws.as_ref().ok_or_else(|| {
        Error::Unsupported("an oversized configuration item can only be fetched with AWS access".into())
    })?;
    let out = aws
        .config()
        .get_resource_config_history()
        .resource_type(ResourceType::from(summary.resource_type.as_str()))
        .resource_id(&summary.resource_id)
        .limit(1)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("config", "GetResourceConfigHistory", &e))?;
    let item = out.configuration_items().first().ok_or_else(|| Error::Item {
        resource_type: summary.resource_type.clone(),
        resource_id: summary.resource_id.clone(),
        problem: "GetResourceConfigHistory returned no configuration item".into(),
    })?;
    ConfigurationItem::from_sdk(item)
}

async fn retire_stale(
    rule: &dyn Rule,
    aws: &AwsContext,
    rule_name: &str,
    out: &mut Outbox<'_>,
) -> Result<usize, Error> {
    let spec = rule.spec();
    let mut retired = 0;
    let types = [ComplianceType::Compliant, ComplianceType::NonCompliant];
    for (resource_type, resource_id) in stale::earlier_results(&aws.config(), rule_name, &types).await? {
        if spec.covers(&resource_type) && !out.has_reported(&resource_type, &resource_id) {
            let verdict = Verdict::not_applicable("The periodic sweep no longer finds this resource.");
            out.push(&resource_type, &resource_id, verdict).await?;
            retired += 1;
        }
    }
    Ok(retired)
}

/// After a sweep cut short by the deadline: every resource with an earlier
/// COMPLIANT result that this sweep did not reach becomes NON_COMPLIANT,
/// saying so — a result older than the rule's last sweep must not stand
/// as evidence. (Earlier NON_COMPLIANT results are left: they claim
/// nothing.) Returns how many were withdrawn.
async fn withdraw_unverified(
    rule: &dyn Rule,
    aws: &AwsContext,
    rule_name: &str,
    sweep_time: DateTime,
    out: &mut Outbox<'_>,
) -> Result<usize, Error> {
    let spec = rule.spec();
    let when = sweep_time
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| sweep_time.secs().to_string());
    let mut withdrawn = 0;
    for (resource_type, resource_id) in
        stale::earlier_results(&aws.config(), rule_name, &[ComplianceType::Compliant]).await?
    {
        if spec.covers(&resource_type) && !out.has_reported(&resource_type, &resource_id) {
            let verdict = Verdict::non_compliant(format!(
                "Not re-verified: the periodic sweep of {when} stopped at the Lambda deadline before reaching this \
                 resource, so its earlier COMPLIANT result no longer stands."
            ));
            out.push(&resource_type, &resource_id, verdict).await?;
            withdrawn += 1;
        }
    }
    Ok(withdrawn)
}
