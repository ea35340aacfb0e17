//! The judgement every encryption rule shares: is this resource's key a
//! readable, customer-managed key, and one of the allowed keys?

use std::sync::Arc;

use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{Error, KeyFacts, Lookup, RuleContext, Verdict};

use crate::key_rules::key_account;

/// `kmsKeyArns`: the optional allow-list.
pub const KMS_KEY_ARNS: ParamSpec = ParamSpec {
    name: "kmsKeyArns",
    kind: ParamKind::KeyList,
    default: None,
    required: false,
    description: "Comma-separated KMS keys the resource must be encrypted with (key ARNs, alias ARNs or \
                  alias names; aliases are resolved to key ARNs before comparing). Empty: any \
                  customer-managed key.",
};

/// `allowAwsManagedKeys`.
pub const ALLOW_AWS_MANAGED_KEYS: ParamSpec = ParamSpec {
    name: "allowAwsManagedKeys",
    kind: ParamKind::Bool,
    default: Some("false"),
    required: false,
    description: "Accept AWS-managed keys (alias/aws/...) as well as customer-managed ones.",
};

/// `trustedKeyAccounts`: accounts besides the evaluated one whose keys count.
pub const TRUSTED_KEY_ACCOUNTS: ParamSpec = ParamSpec {
    name: "trustedKeyAccounts",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated account ids besides the evaluated account whose customer-managed keys may protect \
                  the data. Empty: only the evaluated account's keys.",
};

/// Who may own the key: the evaluated account (when known) and the
/// trusted ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwners<'a> {
    pub evaluated: Option<&'a str>,
    pub trusted: &'a [String],
}

impl KeyOwners<'_> {
    fn judge(&self, subject: &str, facts: &KeyFacts) -> Option<Verdict> {
        let Some(owner) = key_account(facts) else {
            return Some(Verdict::non_compliant(format!(
                "{subject} uses KMS key {}, whose owning account cannot be told: ownership cannot be verified.",
                facts.arn
            )));
        };
        if self.evaluated == Some(owner.as_str()) || self.trusted.contains(&owner) {
            return None;
        }
        Some(Verdict::non_compliant(match self.evaluated {
            Some(_) => format!(
                "{subject} is encrypted with KMS key {} of account {owner}, which is neither the evaluated account \
                 nor one of trustedKeyAccounts.",
                facts.arn
            ),
            None => format!(
                "{subject} is encrypted with KMS key {} of account {owner}; the evaluated account is unknown and \
                 {owner} is not one of trustedKeyAccounts: ownership cannot be verified.",
                facts.arn
            ),
        }))
    }
}

/// One entry of the allow-list, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Allowed {
    /// A key ARN or key id, compared as it is.
    Key(String),
    /// An alias, resolved to its key's ARN.
    Resolved { alias: String, key_arn: String },
    /// An alias that could not be resolved, and why.
    Unresolved { alias: String, reason: String },
}

/// Resolves the `kmsKeyArns` entries of the rule's parameters (aliases
/// through the key directory, cached).
pub async fn allow_list(ctx: &RuleContext<'_>) -> Result<Vec<Allowed>, Error> {
    let mut allowed = Vec::new();
    for entry in ctx.params.list(KMS_KEY_ARNS.name) {
        if !entry.contains("alias/") {
            allowed.push(Allowed::Key(entry.clone()));
            continue;
        }
        allowed.push(match ctx.keys.key(entry).await? {
            Lookup::Found(f) => Allowed::Resolved {
                alias: entry.clone(),
                key_arn: f.arn.clone(),
            },
            Lookup::NotFound(reason) | Lookup::Unreadable(reason) => Allowed::Unresolved {
                alias: entry.clone(),
                reason,
            },
        });
    }
    Ok(allowed)
}

/// Looks up `key_ref` and judges it; `subject` starts the annotation
/// ("Volume", "Bucket default encryption", ...).
pub async fn judge_key(ctx: &RuleContext<'_>, subject: &str, key_ref: &str) -> Result<Verdict, Error> {
    let lookup = ctx.keys.key(key_ref).await?;
    let allowed = allow_list(ctx).await?;
    let owners = KeyOwners {
        evaluated: ctx.account_id,
        trusted: ctx.params.list(TRUSTED_KEY_ACCOUNTS.name),
    };
    Ok(key_verdict(
        subject,
        key_ref,
        &lookup,
        &allowed,
        ctx.params.bool(ALLOW_AWS_MANAGED_KEYS.name),
        &owners,
    ))
}

/// The pure judgement of a key look-up.
pub fn key_verdict(
    subject: &str,
    key_ref: &str,
    lookup: &Lookup<Arc<KeyFacts>>,
    allowed: &[Allowed],
    allow_aws_managed: bool,
    owners: &KeyOwners<'_>,
) -> Verdict {
    let facts = match lookup {
        Lookup::Found(f) => f,
        Lookup::NotFound(reason) => {
            return Verdict::non_compliant(format!(
                "{subject} uses KMS key {key_ref}, which does not exist: {reason}."
            ))
        }
        Lookup::Unreadable(reason) => {
            return Verdict::non_compliant(format!(
                "{subject} uses KMS key {key_ref}, which could not be verified: {reason}."
            ))
        }
    };
    if !facts.is_customer_managed() && !allow_aws_managed {
        return Verdict::non_compliant(format!(
            "{subject} is encrypted with the AWS-managed key {key_ref}, not a customer-managed key."
        ));
    }
    // AWS-managed keys serve only their own account; a customer-managed key
    // of another account puts the data under someone else's key policy.
    if facts.is_customer_managed() {
        if let Some(verdict) = owners.judge(subject, facts) {
            return verdict;
        }
    }
    if !allowed.is_empty() {
        let matches = allowed.iter().any(|a| match a {
            Allowed::Key(k) => *k == facts.arn || *k == facts.key_id,
            Allowed::Resolved { key_arn, .. } => *key_arn == facts.arn,
            Allowed::Unresolved { .. } => false,
        });
        if !matches {
            let unresolved: Vec<String> = allowed
                .iter()
                .filter_map(|a| match a {
                    Allowed::Unresolved { alias, reason } => Some(format!("{alias} ({reason})")),
                    _ => None,
                })
                .collect();
            let note = if unresolved.is_empty() {
                String::new()
            } else {
                format!(" Unresolved entries: {}.", unresolved.join("; "))
            };
            return Verdict::non_compliant(format!(
                "{subject} is encrypted with KMS key {}, which is not in kmsKeyArns.{note}",
                facts.arn
            ));
        }
    }
    let kind = if facts.is_customer_managed() {
        "customer-managed"
    } else {
        "AWS-managed (allowed)"
    };
    Verdict::compliant(format!("{subject} is encrypted with {kind} KMS key {}.", facts.arn))
}
