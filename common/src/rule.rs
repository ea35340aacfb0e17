//! What a rule is: its specification, and the two ways it judges resources.

use async_trait::async_trait;
use aws_smithy_types::DateTime;

use crate::aws::AwsContext;
use crate::error::Error;
use crate::evaluation::Verdict;
use crate::item::ConfigurationItem;
use crate::keys::KeyDirectory;
use crate::params::{ParamSpec, Parameters, COMMON};
use crate::sweep::Sweep;

/// Config's periodic frequencies (MaximumExecutionFrequency), as the
/// AWS SDK models them.
pub const SCHEDULE_FREQUENCIES: &[&str] = aws_sdk_config::types::MaximumExecutionFrequency::values();

/// When Config invokes the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Triggers {
    /// On configuration changes (and oversized changes) of in-scope resources.
    pub change: bool,
    /// On a schedule: the rule sweeps the account itself.
    pub periodic: bool,
}

/// The PCI DSS requirements a rule's results evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciDss {
    pub v3_2_1: &'static [&'static str],
    pub v4_0: &'static [&'static str],
}

/// Everything about a rule except its judgement: the single source of the
/// Lambda function, the Config rule, the IAM role and the documentation.
#[derive(Debug)]
pub struct RuleSpec {
    /// Kebab-case, the state that is wanted (`ebs-volume-encrypted`).
    pub id: &'static str,
    pub description: &'static str,
    /// One line an auditor reads beside the counts: what a COMPLIANT of
    /// this rule proves, and what it does not ("COMPLIANT proves: …
    /// It does not prove: …"); the rule's doc says the same.
    pub evidence: &'static str,
    /// The resource types of the rule's scope (and of its evaluations).
    pub resource_types: &'static [&'static str],
    pub triggers: Triggers,
    /// The rule's own parameters; [`COMMON`] ones are added by the crate.
    pub parameters: &'static [ParamSpec],
    /// The IAM actions of the rule's own AWS calls (see
    /// [`RuleSpec::iam_actions`] for the full set).
    pub own_iam_actions: &'static [&'static str],
    pub pci_dss: PciDss,
    /// The Lambda time-out.
    pub timeout_seconds: u32,
    /// The Lambda memory, in MB (which also sets its share of a vCPU:
    /// 1769 MB is one). 128 is enough for every rule so far, measured (the
    /// README's "What a function needs"): a sweep spends about 30 µs of CPU
    /// per resource, so at 128 MB's share the CPU of a 300 s sweep covers
    /// some 700 000 resources, and its peak RSS stays under 40 MiB.
    pub memory_mb: u32,
    /// The AWS-owned runbook that fixes a NON_COMPLIANT resource, when one
    /// exists (opt-in: `atrest pack --remediation`, `atrest:remediation`).
    pub remediation: Option<&'static crate::remediation::Remediation>,
}

impl RuleSpec {
    /// Every parameter the rule accepts: its own, then the common ones.
    pub fn all_parameters(&self) -> impl Iterator<Item = &ParamSpec> {
        self.parameters.iter().chain(COMMON.iter())
    }

    /// Every IAM action the rule's function needs: its own calls plus the
    /// Config contract's (PutEvaluations; GetResourceConfigHistory for
    /// oversized changes; GetComplianceDetailsByConfigRule for stale
    /// results of periodic sweeps). Sorted, without duplicates.
    pub fn iam_actions(&self) -> Vec<&'static str> {
        let mut actions: Vec<&'static str> = self.own_iam_actions.to_vec();
        actions.push("config:PutEvaluations");
        if self.triggers.change {
            actions.push("config:GetResourceConfigHistory");
        }
        if self.triggers.periodic {
            actions.push("config:GetComplianceDetailsByConfigRule");
        }
        actions.sort_unstable();
        actions.dedup();
        actions
    }

    /// The Config rule's scope: the resource types of the rule that AWS
    /// Config records (see [`crate::iam::is_recorded`]).
    pub fn scope(&self) -> Vec<&'static str> {
        self.resource_types
            .iter()
            .copied()
            .filter(|t| crate::iam::is_recorded(t))
            .collect()
    }

    /// Whether Config calls the rule on configuration changes: it is
    /// change-triggered and has a recorded type to watch.
    pub fn is_change_triggered(&self) -> bool {
        self.triggers.change && !self.scope().is_empty()
    }

    /// Whether `resource_type` is in the rule's scope.
    pub fn covers(&self, resource_type: &str) -> bool {
        self.resource_types.contains(&resource_type)
    }
}

/// What a rule may use while judging.
pub struct RuleContext<'a> {
    pub params: &'a Parameters,
    pub keys: &'a KeyDirectory,
    aws: Option<&'a AwsContext>,
    /// The OrderingTimestamp of what is reported now.
    pub timestamp: DateTime,
    /// The account under evaluation, where known.
    pub account_id: Option<&'a str>,
}

impl<'a> RuleContext<'a> {
    pub fn new(
        params: &'a Parameters,
        keys: &'a KeyDirectory,
        aws: Option<&'a AwsContext>,
        timestamp: DateTime,
        account_id: Option<&'a str>,
    ) -> Self {
        RuleContext {
            params,
            keys,
            aws,
            timestamp,
            account_id,
        }
    }

    /// AWS access, for rules that list resources themselves; offline
    /// (snapshot) runs have none.
    pub fn aws(&self) -> Result<&'a AwsContext, Error> {
        self.aws
            .ok_or_else(|| Error::Unsupported("this evaluation needs AWS access, and runs offline".into()))
    }
}

/// One Config rule.
#[async_trait]
pub trait Rule: Send + Sync {
    fn spec(&self) -> &'static RuleSpec;

    /// Judges one configuration item of a type in the rule's scope. The item
    /// is the source of truth for its own resource; AWS calls (through
    /// `ctx`) only fill in what it lacks, such as the facts of its key.
    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let _ = (item, ctx);
        Err(Error::Unsupported(format!(
            "rule {} has no change-triggered evaluation",
            self.spec().id
        )))
    }

    /// Sweeps the account (periodic trigger): the resources it finds, page
    /// by page, each with its judgement still to run. The caller decides
    /// when (and whether) each judgement runs and delivers the verdicts.
    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let _ = ctx;
        Err(Error::Unsupported(format!(
            "rule {} has no periodic sweep",
            self.spec().id
        )))
    }
}
