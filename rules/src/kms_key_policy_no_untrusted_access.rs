//! # kms-key-policy-no-untrusted-access
//!
//! ## What it checks
//! A customer-managed key's policy lets no one outside the organisation's
//! known accounts use or manage the key. For each Allow statement:
//! - a statement reaching anyone (`"*"`, `{"AWS": "*"}`, a `NotPrincipal`, a
//!   web-identity provider) is NON_COMPLIANT unless its conditions cannot
//!   hold for a caller outside: one whose account (`kms:CallerAccount`,
//!   `aws:PrincipalAccount`, the account in `aws:PrincipalArn`), organisation
//!   (`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`) and, when present,
//!   source (`aws:SourceAccount`, `aws:SourceArn`, `aws:SourceOrgID`) are none
//!   of the key's account, `trustedAccountIds` and `trustedOrganizationIds`.
//!   So `StringEquals aws:PrincipalOrgID o-foreign` restricts nothing unless
//!   `o-foreign` is a trusted organisation; wildcards, `…IfExists`,
//!   `ForAllValues:` and negated operators restrict nothing;
//! - a service principal (`logs.amazonaws.com`, ...) allowed more than reading
//!   the key's metadata is NON_COMPLIANT unless its conditions cannot hold
//!   when the service acts for a resource outside (`aws:SourceAccount`,
//!   `aws:SourceArn`, `aws:SourceOrgID`, or an encryption-context ARN such as
//!   `kms:EncryptionContext:aws:logs:arn` confining it): the confused-deputy
//!   path AWS documents;
//! - a named principal of an account other than the key's own and
//!   `trustedAccountIds`, or one whose account cannot be told (such as the
//!   unique id left by a deleted role), is NON_COMPLIANT.
//!
//! Unlike KMS_KEY_POLICY_NO_PUBLIC_ACCESS, it also catches named principals
//! of foreign accounts and unconfined services.
//!
//! COMPLIANT proves: the key policy reaches only the key's account, trusted
//! accounts and organisations, and services confined to them. It does not
//! prove: anything about grants (ListGrants is not read; a grant can give a
//! foreign account use of the key), nor about IAM policies.
//!
//! ## Why
//! A key anyone can use makes its encryption decorative; a foreign account
//! in a key policy is a standing path to the data that no IAM policy of the
//! organisation can take back (AWS KMS best practices: "restrict access to
//! your account and organisation"). PCI DSS asks that access to keys be
//! restricted to the fewest necessary custodians.
//!
//! ## Parameters
//! - `trustedAccountIds` (optional): other accounts that may appear in key
//!   policies.
//! - `trustedOrganizationIds` (optional): organisations (`o-…`) whose
//!   `aws:PrincipalOrgID` / `aws:SourceOrgID` conditions confine a statement.
//!   Without it, no organisation condition counts as a restriction.
//!
//! ## NOT_APPLICABLE when
//! The key is AWS-managed, or was deleted or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::actions::is_metadata_read;
use atrest_common::policy::conditions::{Context, Holds, OutsideKind};
use atrest_common::policy::{Effect, Policy, Principal, Statement};
use atrest_common::{ConfigurationItem, Error, KeyFacts, PciDss, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_rules::{judge_key_policy, statement_name, verdict_of, KeyJudge, KeyRule, KEY};

const TRUSTED_ACCOUNT_IDS: ParamSpec = ParamSpec {
    name: "trustedAccountIds",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated account ids besides the key's own that key policies may name.",
};

const TRUSTED_ORGANIZATION_IDS: ParamSpec = ParamSpec {
    name: "trustedOrganizationIds",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated organization ids (o-...) whose aws:PrincipalOrgID or aws:SourceOrgID conditions \
                  confine a statement. Empty: no organisation condition counts.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-policy-no-untrusted-access",
    description: "Key policies allow no public principal or service without a condition confining it to trusted \
                  accounts or organisations, and name no principal of an untrusted account.",
    evidence: "COMPLIANT proves: the key policy reaches only the key's account, trusted accounts and organisations, and services confined to them. It does not prove: anything about grants (ListGrants is not read; a grant can give a foreign account use of the key), nor about IAM policies.",
    resource_types: &[KEY],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[TRUSTED_ACCOUNT_IDS, TRUSTED_ORGANIZATION_IDS],
    own_iam_actions: &["kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeys"],
    pci_dss: PciDss {
        v3_2_1: &["3.5", "3.5.2", "7.1"],
        v4_0: &["3.6.1", "7.2.1"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule's judgement of one key.
pub struct KmsKeyPolicyNoUntrustedAccess;

pub static RULE: KeyRule<KmsKeyPolicyNoUntrustedAccess> = KeyRule::new(&SPEC, KmsKeyPolicyNoUntrustedAccess);

/// The accounts and organisations a key policy may reach.
pub struct Trusted<'a> {
    pub accounts: Vec<&'a str>,
    pub organizations: Vec<&'a str>,
}

impl Trusted<'_> {
    fn outside(&self, kind: OutsideKind) -> Holds {
        let trusted = match kind {
            OutsideKind::Organization | OutsideKind::OrganizationPath => &self.organizations,
            OutsideKind::Account | OutsideKind::Arn => &self.accounts,
        };
        Holds::Outside {
            kind,
            trusted: trusted.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// A request from a principal outside: its account and organisation
    /// are untrusted (or it has no organisation); a source, if any, too.
    /// Every key may also be taken as absent, so a condition that holds
    /// when its key is missing (`…IfExists`, `ForAllValues:`) confines
    /// nothing.
    fn outside_caller(&self) -> Context {
        use OutsideKind::*;
        Context::unknown()
            .with("kms:CallerAccount", [self.outside(Account), Holds::Absent])
            .with("aws:PrincipalAccount", [self.outside(Account), Holds::Absent])
            .with("aws:PrincipalArn", [self.outside(Arn), Holds::Absent])
            .with("aws:PrincipalOrgID", [self.outside(Organization), Holds::Absent])
            .with("aws:PrincipalOrgPaths", [self.outside(OrganizationPath), Holds::Absent])
            .with("aws:SourceAccount", [self.outside(Account), Holds::Absent])
            .with("aws:SourceOwner", [self.outside(Account), Holds::Absent])
            .with("aws:SourceArn", [self.outside(Arn), Holds::Absent])
            .with("aws:SourceOrgID", [self.outside(Organization), Holds::Absent])
            .with("aws:SourceOrgPaths", [self.outside(OrganizationPath), Holds::Absent])
    }

    /// A request from a service acting for a resource outside.
    fn outside_deputy(&self, st: &Statement, service: &str) -> Context {
        use OutsideKind::*;
        let mut context = Context::unknown()
            .with("aws:PrincipalServiceName", [Holds::value(service)])
            .with("aws:SourceAccount", [self.outside(Account), Holds::Absent])
            .with("aws:SourceOwner", [self.outside(Account), Holds::Absent])
            .with("aws:SourceArn", [self.outside(Arn), Holds::Absent])
            .with("aws:SourceOrgID", [self.outside(Organization), Holds::Absent])
            .with("aws:SourceOrgPaths", [self.outside(OrganizationPath), Holds::Absent]);
        // The ARN an AWS service puts in the encryption context names the
        // resource it works for (CloudWatch Logs, CloudTrail, ...).
        for key in st.conditions.values().flat_map(|keys| keys.keys()) {
            if key.starts_with("kms:encryptioncontext:aws:") && key.ends_with(":arn") {
                context = context.with(key, [self.outside(Arn)]);
            }
        }
        context
    }
}

/// Whether a statement's Action element reaches more than metadata reads.
fn uses_or_manages(st: &Statement) -> bool {
    atrest_common::policy::actions::KMS_ACTIONS
        .iter()
        .any(|a| !is_metadata_read(a) && st.covers_action(a))
}

/// Judges a key policy; `account` is the key's own account.
pub fn judge_policy(policy: &Policy, account: &str, trusted_accounts: &[String], trusted_orgs: &[String]) -> Verdict {
    let mut accounts: Vec<&str> = trusted_accounts.iter().map(String::as_str).collect();
    accounts.push(account);
    let trusted = Trusted {
        accounts,
        organizations: trusted_orgs.iter().map(String::as_str).collect(),
    };
    let mut problems = Vec::new();
    for (i, st) in policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow)
    {
        let name = statement_name(i, st.sid.as_deref());
        for p in st.reached_principals() {
            match &p {
                Principal::Public => {
                    if st.conditions_in(&trusted.outside_caller()).can_be_true {
                        problems.push(format!(
                            "{name} allows {} without a condition confining it to trusted accounts or organisations",
                            p.describe()
                        ));
                    }
                }
                // A web-identity provider (not an IAM ARN) is anyone it signs in.
                Principal::Federated(f) if !f.starts_with("arn:") => {
                    if st.conditions_in(&trusted.outside_caller()).can_be_true {
                        problems.push(format!(
                            "{name} allows {} without a condition confining it",
                            p.describe()
                        ));
                    }
                }
                Principal::Service(service) => {
                    if uses_or_manages(st) && st.conditions_in(&trusted.outside_deputy(st, service)).can_be_true {
                        problems.push(format!(
                            "{name} allows {} without aws:SourceAccount or aws:SourceArn confining it to trusted \
                             accounts (confused deputy)",
                            p.describe()
                        ));
                    }
                }
                _ => match p.account() {
                    Some(a) if trusted.accounts.contains(&a) => {}
                    Some(a) => problems.push(format!("{name} names {} of untrusted account {a}", p.describe())),
                    None => problems.push(format!("{name} names {}, whose account cannot be told", p.describe())),
                },
            }
        }
    }
    verdict_of(
        problems,
        "The key policy reaches only the key's account, trusted accounts and organisations, and confined \
         services (grants are not judged).",
    )
}

#[async_trait]
impl KeyJudge for KmsKeyPolicyNoUntrustedAccess {
    async fn judge(
        &self,
        key: &KeyFacts,
        item: Option<&ConfigurationItem>,
        ctx: &RuleContext<'_>,
    ) -> Result<Verdict, Error> {
        judge_key_policy(key, item, ctx, |policy, account| {
            judge_policy(
                policy,
                account,
                ctx.params.list(TRUSTED_ACCOUNT_IDS.name),
                ctx.params.list(TRUSTED_ORGANIZATION_IDS.name),
            )
        })
        .await
    }
}
