//! What the rules that judge KMS keys themselves share: the key's facts
//! from its configuration item (or KMS when the item lacks them), its policy
//! (the item's `supplementaryConfiguration.Policy`, else GetKeyPolicy), and
//! the periodic sweep over ListKeys.

use async_trait::async_trait;
use atrest_common::keys::{policy_from_item, records_key_manager};
use atrest_common::policy::Policy;
use atrest_common::sweep::paged;
use atrest_common::{
    AwsError, ConfigurationItem, Error, Found, KeyFacts, Lookup, Rule, RuleContext, RuleSpec, Sweep, Verdict,
};

/// The Config resource type of a KMS key.
pub const KEY: &str = "AWS::KMS::Key";

/// A rule's judgement of one key whose facts are known.
#[async_trait]
pub trait KeyJudge: Send + Sync {
    /// `item` is the key's configuration item when a change brought one.
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error>;
}

/// A rule over KMS keys: its spec and its [`KeyJudge`]; items and sweeps of
/// keys are read alike for every such rule.
pub struct KeyRule<J> {
    spec: &'static RuleSpec,
    judge: J,
}

impl<J> KeyRule<J> {
    pub const fn new(spec: &'static RuleSpec, judge: J) -> Self {
        KeyRule { spec, judge }
    }
}

#[async_trait]
impl<J: KeyJudge> Rule for KeyRule<J> {
    fn spec(&self) -> &'static RuleSpec {
        self.spec
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        evaluate_key_item(&self.judge, item, ctx).await
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        sweep_keys(&self.judge, ctx)
    }
}

/// Judges the key a configuration item records.
async fn evaluate_key_item(
    judge: &dyn KeyJudge,
    item: &ConfigurationItem,
    ctx: &RuleContext<'_>,
) -> Result<Verdict, Error> {
    let recorded = records_key_manager(item).then(|| KeyFacts::from_item(item)).flatten();
    let facts = if let Some(facts) = recorded {
        facts
    } else {
        let reference = item.arn.as_deref().unwrap_or(&item.resource_id);
        match ctx.keys.key_since(reference, item.require_capture_time()?).await? {
            Lookup::Found(f) => (*f).clone(),
            Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
                return Ok(Verdict::non_compliant(format!(
                    "The item does not record the key's manager and state, and they could not be read: {reason}."
                )))
            }
        }
    };
    judge.judge(&facts, Some(item), ctx).await
}

/// Sweeps every key of the account and region (ListKeys, then each key's
/// facts through the key directory).
fn sweep_keys<'a>(judge: &'a dyn KeyJudge, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
    let kms = ctx.aws()?.kms();
    let pages = kms.list_keys().into_paginator().page_size(1000).send();
    Ok(Box::new(paged(pages, move |page| {
        let page = page.map_err(|e| AwsError::from_sdk("kms", "ListKeys", &e))?;
        Ok(page
            .keys()
            .iter()
            .filter_map(|entry| {
                let (id, arn) = (entry.key_id()?, entry.key_arn()?.to_owned());
                Some(Found::new(KEY, id, async move {
                    Ok(match ctx.keys.key(&arn).await? {
                        Lookup::Found(facts) => Some(judge.judge(&facts, None, ctx).await?),
                        Lookup::NotFound(_) => None, // deleted since it was listed
                        Lookup::Unreadable(reason) => {
                            Some(Verdict::non_compliant(format!("The key could not be read: {reason}.")))
                        }
                    })
                }))
            })
            .collect())
    })))
}

/// The key's policy: the item's record, else GetKeyPolicy. `Err(reason)`
/// when it cannot be read or parsed.
pub async fn key_policy(
    key: &KeyFacts,
    item: Option<&ConfigurationItem>,
    ctx: &RuleContext<'_>,
) -> Result<Result<Policy, String>, Error> {
    let text = match item.and_then(policy_from_item) {
        Some(text) => text,
        None => {
            let lookup = match item {
                // For the item under evaluation, nothing cached before it was recorded.
                Some(i) => ctx.keys.policy_since(key, i.require_capture_time()?).await?,
                None => ctx.keys.policy(key).await?,
            };
            match lookup {
                Lookup::Found(text) => (*text).clone(),
                Lookup::NotFound(reason) | Lookup::Unreadable(reason) => return Ok(Err(reason)),
            }
        }
    };
    Ok(Policy::parse_str(&text).map_err(|e| e.0))
}

/// The verdict of a key-policy rule: AWS-managed keys are NOT_APPLICABLE
/// (AWS writes their policies); a policy that cannot be read, or a key whose
/// account is unknown, is NON_COMPLIANT; else `judge(policy, key account)`.
pub async fn judge_key_policy(
    key: &KeyFacts,
    item: Option<&ConfigurationItem>,
    ctx: &RuleContext<'_>,
    judge: impl FnOnce(&Policy, &str) -> Verdict,
) -> Result<Verdict, Error> {
    if !key.is_customer_managed() {
        return Ok(Verdict::not_applicable("AWS-managed keys have policies AWS writes."));
    }
    let Some(account) = key_account(key) else {
        return Ok(Verdict::non_compliant(
            "The key's account is unknown: its policy cannot be judged.",
        ));
    };
    Ok(match key_policy(key, item, ctx).await? {
        Ok(policy) => judge(&policy, &account),
        Err(reason) => Verdict::non_compliant(format!("The key policy could not be verified: {reason}.")),
    })
}

/// The account that owns a key: its facts, else its ARN.
pub fn key_account(key: &KeyFacts) -> Option<String> {
    key.account_id.clone().or_else(|| {
        let account = key.arn.strip_prefix("arn:")?.split(':').nth(3)?;
        (!account.is_empty()).then(|| account.to_owned())
    })
}

/// How a statement is named in annotations.
pub fn statement_name(index: usize, sid: Option<&str>) -> String {
    match sid {
        Some(s) if !s.is_empty() => format!("statement \"{s}\""),
        _ => format!("statement #{}", index + 1),
    }
}

/// The verdict for a list of problems found in a policy.
pub fn verdict_of(problems: Vec<String>, ok: &str) -> Verdict {
    if problems.is_empty() {
        Verdict::compliant(ok)
    } else {
        Verdict::non_compliant(problems.join("; "))
    }
}
