//! # kms-alias-naming
//!
//! ## What it checks
//! Every customer-managed key has at least one alias, and every alias it has
//! matches `aliasPattern` — by default `alias/<Environment>-<Function>-<Team>`
//! in lower case — with, when `environments` is given, an environment from
//! that list as its first part. The aliases come from ListAliases (by key):
//! Config's key items do not record them.
//!
//! COMPLIANT proves: the key has aliases, all following the naming
//! convention. It does not prove: who may re-point those aliases.
//!
//! ## Why
//! An alias is how people and code refer to a key; a naming convention
//! tells at a glance which environment, workload and team a key serves, and
//! makes mistakes such as a production workload using a test key visible
//! (AWS KMS best practices: use aliases, with a naming scheme). PCI DSS asks
//! for an inventory of keys and of what each protects.
//!
//! ## Parameters
//! - `aliasPattern` (regular expression, case-sensitive; default
//!   `^alias/[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$`).
//! - `environments` (optional): the allowed first parts, e.g.
//!   `prod,staging,dev`.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed (AWS names its aliases `alias/aws/...`), is pending
//! deletion, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{ConfigurationItem, Error, KeyFacts, Lookup, PciDss, RuleContext, RuleSpec, Triggers, Verdict};
use regex::Regex;

use crate::key_rules::{KeyJudge, KeyRule, KEY};

const ALIAS_PATTERN: ParamSpec = ParamSpec {
    name: "aliasPattern",
    kind: ParamKind::Regex {
        case_insensitive: false,
    },
    default: Some("^alias/[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$"),
    required: false,
    description: "Regular expression (case-sensitive) every alias of a customer-managed key must match.",
};

const ENVIRONMENTS: ParamSpec = ParamSpec {
    name: "environments",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated environments allowed as the first part of an alias (alias/<env>-...).",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-alias-naming",
    description: "Customer-managed keys have at least one alias, and every alias follows the naming convention \
                  (alias/<Environment>-<Function>-<Team> by default).",
    evidence: "COMPLIANT proves: the key has aliases, all following the naming convention. It does not prove: who may re-point those aliases.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[ALIAS_PATTERN, ENVIRONMENTS],
    own_iam_actions: &["kms:DescribeKey", "kms:ListAliases", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.6", "12.3.3"],
        v4_0: &["3.6.1", "12.3.4"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule's judgement of one key.
pub struct KmsAliasNaming;

pub static RULE: KeyRule<KmsAliasNaming> = KeyRule::new(&SPEC, KmsAliasNaming);

/// Judges a key's aliases.
pub fn judge_aliases(aliases: &[String], pattern: Option<&Regex>, environments: &[String]) -> Verdict {
    if aliases.is_empty() {
        return Verdict::non_compliant("The key has no alias.");
    }
    let wrong: Vec<&str> = aliases
        .iter()
        .filter(|a| {
            let matches = pattern.is_none_or(|p| p.is_match(a));
            let environment = a
                .strip_prefix("alias/")
                .and_then(|n| n.split('-').next())
                .unwrap_or_default();
            !matches || (!environments.is_empty() && !environments.iter().any(|e| e == environment))
        })
        .map(String::as_str)
        .collect();
    if wrong.is_empty() {
        Verdict::compliant(format!("Aliases follow the convention: {}.", aliases.join(", ")))
    } else {
        Verdict::non_compliant(format!("Aliases not following the convention: {}.", wrong.join(", ")))
    }
}

#[async_trait]
impl KeyJudge for KmsAliasNaming {
    async fn judge(
        &self,
        key: &KeyFacts,
        _item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        if !key.is_customer_managed() {
            return Ok(Verdict::not_applicable("AWS-managed keys carry AWS's aliases."));
        }
        if key.state == "PendingDeletion" || key.state == "PendingReplicaDeletion" {
            return Ok(Verdict::not_applicable("The key is pending deletion."));
        }
        Ok(match ctx.keys.aliases(key).await? {
            Lookup::Found(aliases) => judge_aliases(
                &aliases,
                ctx.params.regex(ALIAS_PATTERN.name),
                ctx.params.list(ENVIRONMENTS.name),
            ),
            Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
                Verdict::non_compliant(format!("The key's aliases could not be verified: {reason}."))
            }
        })
    }
}
