//! # iam-policy-no-kms-full-access
//!
//! ## What it checks
//! The organisation's own IAM policies: the default version of each
//! customer-managed policy (`AWS::IAM::Policy`) and the inline policies of
//! each role, user and group (`AWS::IAM::Role`, `AWS::IAM::User`,
//! `AWS::IAM::Group`). NON_COMPLIANT, naming the policy and the statement,
//! when an Allow whose resources may be KMS keys or aliases
//! - grants every KMS action: `kms:*`, `*`, `*:*`, `kms*`, any pattern or
//!   list reaching every KMS action, or a `NotAction` that leaves them all;
//! - or grants one of `blockedActions` on every key of the account (a
//!   `Resource` matching every key ARN of every region, such as `"*"` or
//!   `arn:aws:kms:*:ACCOUNT:key/*`, or a `NotResource` that excludes no
//!   key) — the managed `IAM_*_BLOCKED_KMS_ACTIONS` checks in one rule.
//!
//! A statement whose `Resource` cannot name a KMS resource (`arn:aws:s3:::*`)
//! gives no KMS access and is not flagged; conditions are not taken to
//! narrow a grant. Documents are read as Config records them: URL-encoded
//! (as IAM returns them) or plain JSON. A document that cannot be read, or
//! an item that does not record the documents, is NON_COMPLIANT.
//!
//! IAM is global: Config records its resources in one region, and sends
//! their changes from there. The periodic sweep
//! (GetAccountAuthorizationDetails) runs only in `iamRegion`; in every
//! other region it reports nothing, so each IAM resource is judged once.
//!
//! COMPLIANT proves: no customer-managed policy's default version and no
//! inline policy of the resource grants every KMS action, or a blocked
//! action on every key. It does not prove: anything about AWS-managed
//! policies, permission boundaries, service control policies, key
//! policies or grants.
//!
//! ## Why
//! The AWS KMS best practices ask for least privilege and separation of
//! duties in IAM policies as in key policies: "do not use `kms:*` in an IAM
//! or key policy", and do not allow decryption on every key. With the
//! default key policy, an IAM policy with `kms:*` on `"*"` reaches every
//! key of the account. PCI DSS asks that access to keys be restricted to
//! the fewest custodians and granted by job function.
//!
//! ## Parameters
//! - `blockedActions` (default `kms:Decrypt,kms:ReEncryptFrom`): actions no
//!   policy may allow on every key.
//! - `excludedPrincipals` (optional): ARN patterns (`*` and `?` wildcards)
//!   of roles, users, groups or policies not judged, e.g. break-glass roles.
//! - `iamRegion` (default `us-east-1`): the region whose periodic run
//!   sweeps IAM — the region where Config records global resource types.
//!
//! ## NOT_APPLICABLE when
//! The policy is AWS-managed (not the organisation's to change), the
//! resource matches `excludedPrincipals`, or it was deleted or left the
//! rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::policy::{wildcard_match_case, Effect, Policy, Statement};
use atrest_common::sweep::{one_page, paged};
use atrest_common::{
    AwsError, AwsErrorKind, ConfigurationItem, Error, Found, PciDss, Rule, RuleContext, RuleSpec, Sweep, Triggers,
    Verdict,
};
use aws_sdk_iam::types::EntityType;
use serde_json::Value;

use crate::key_rules::{statement_name, verdict_of};

pub const POLICY: &str = "AWS::IAM::Policy";
pub const ROLE: &str = "AWS::IAM::Role";
pub const USER: &str = "AWS::IAM::User";
pub const GROUP: &str = "AWS::IAM::Group";

const BLOCKED_ACTIONS: ParamSpec = ParamSpec {
    name: "blockedActions",
    kind: ParamKind::List,
    default: Some("kms:Decrypt,kms:ReEncryptFrom"),
    required: false,
    description: "Comma-separated KMS actions no IAM policy may allow on every key of the account.",
};

const EXCLUDED_PRINCIPALS: ParamSpec = ParamSpec {
    name: "excludedPrincipals",
    kind: ParamKind::List,
    default: None,
    required: false,
    description: "Comma-separated ARN patterns (* and ? wildcards) of roles, users, groups or policies not \
                  judged, e.g. break-glass roles.",
};

const IAM_REGION: ParamSpec = ParamSpec {
    name: "iamRegion",
    kind: ParamKind::Region,
    default: Some("us-east-1"),
    required: false,
    description: "The region whose periodic run sweeps IAM (global): where Config records global resource \
                  types. Elsewhere the sweep reports nothing.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "iam-policy-no-kms-full-access",
    description: "Customer-managed IAM policies and inline policies of roles, users and groups grant no one every \
                  KMS action, nor a blocked action (kms:Decrypt, kms:ReEncryptFrom) on every key.",
    evidence: "COMPLIANT proves: no customer-managed policy's default version and no inline policy of the resource grants every KMS action, or a blocked action on every key. It does not prove: anything about AWS-managed policies, permission boundaries, service control policies, key policies or grants.",
    resource_types: &[POLICY, ROLE, USER, GROUP],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[BLOCKED_ACTIONS, EXCLUDED_PRINCIPALS, IAM_REGION],
    own_iam_actions: &["iam:GetAccountAuthorizationDetails"],
    pci_dss: PciDss {
        v3_2_1: &["3.5", "3.5.2", "7.1.2"],
        v4_0: &["3.6.1", "7.2.1", "7.2.2"],
    },
    timeout_seconds: 300,
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub struct IamPolicyNoKmsFullAccess;

pub static RULE: IamPolicyNoKmsFullAccess = IamPolicyNoKmsFullAccess;

/// One policy document, with how annotations name it.
pub struct Document {
    pub name: String,
    pub text: Value,
}

/// What is judged of one IAM resource: its ARN, and its documents (or why
/// they could not be read).
pub struct Subject {
    pub arn: Option<String>,
    pub documents: Result<Vec<Document>, String>,
}

/// Whether `arn` names an AWS-managed policy (`arn:aws:iam::aws:policy/…`).
fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// The fields of an ARN: (partition, account), where it reads as one.
fn partition_and_account(arn: &str) -> Option<(&str, &str)> {
    let mut fields = arn.strip_prefix("arn:")?.split(':');
    let partition = fields.next()?;
    let account = fields.nth(2)?;
    Some((partition, account))
}

/// Key and alias ARNs standing for "every KMS resource of `account`": a
/// pattern matching them all matches any key there, in any region.
fn sample_kms_arns(partition: &str, account: &str) -> Vec<String> {
    let mut out = Vec::new();
    for region in ["us-east-1", "zz-sample-9"] {
        for resource in [
            "key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1",
            "key/mrk-0123456789abcdef0123456789abcdef",
        ] {
            out.push(format!("arn:{partition}:kms:{region}:{account}:{resource}"));
        }
    }
    out
}

/// Whether a `Resource` pattern may match some KMS key or alias ARN: `*`,
/// or a service field that may be `kms` (a wildcard before it may span
/// colons, so it may too).
fn may_match_kms(pattern: &str) -> bool {
    for (i, field) in pattern.split(':').enumerate() {
        if i == 2 {
            return wildcard_match_case(field, "kms", true) || field.contains('*');
        }
        if field.contains('*') {
            return true;
        }
    }
    false
}

/// Whether the statement's resources may include KMS keys or aliases.
fn reaches_kms(st: &Statement, partition: &str, account: &str) -> bool {
    match (&st.resources, &st.not_resources) {
        (Some(patterns), _) => patterns.iter().any(|p| may_match_kms(p)),
        // NotResource reaches KMS unless it excludes every key.
        (None, Some(excluded)) => !sample_kms_arns(partition, account)
            .iter()
            .all(|arn| excluded.iter().any(|p| wildcard_match_case(p, arn, true))),
        // An identity policy statement needs a resource: read as anything.
        (None, None) => true,
    }
}

/// Whether the statement's resources include every key of the account.
fn covers_every_key(st: &Statement, partition: &str, account: &str) -> bool {
    let samples = sample_kms_arns(partition, account);
    match (&st.resources, &st.not_resources) {
        (Some(patterns), _) => samples
            .iter()
            .all(|arn| patterns.iter().any(|p| wildcard_match_case(p, arn, true))),
        (None, Some(excluded)) => !samples
            .iter()
            .any(|arn| excluded.iter().any(|p| wildcard_match_case(p, arn, true))),
        (None, None) => true,
    }
}

/// Judges one IAM resource's documents. `partition` and `account` locate
/// "every key" when the subject's ARN does not say.
pub fn judge(subject: &Subject, blocked: &[String], excluded: &[String], fallback_account: &str) -> Verdict {
    if let Some(arn) = subject.arn.as_deref() {
        if is_aws_managed(arn) {
            return Verdict::not_applicable("AWS-managed policy: not the organisation's to change.");
        }
        if let Some(pattern) = excluded.iter().find(|p| wildcard_match_case(p, arn, true)) {
            return Verdict::not_applicable(format!("Excluded by excludedPrincipals ({pattern})."));
        }
    }
    let documents = match &subject.documents {
        Ok(documents) => documents,
        Err(reason) => return Verdict::non_compliant(format!("The policies could not be verified: {reason}.")),
    };
    let (partition, account) = subject
        .arn
        .as_deref()
        .and_then(partition_and_account)
        .unwrap_or(("aws", fallback_account));
    let mut problems = Vec::new();
    for document in documents {
        let policy = match Policy::parse_recorded(&document.text) {
            Ok(policy) => policy,
            Err(e) => {
                problems.push(format!("{} could not be read: {}", document.name, e.0));
                continue;
            }
        };
        for (i, st) in policy.statements.iter().enumerate() {
            if st.effect != Effect::Allow || !reaches_kms(st, partition, account) {
                continue;
            }
            let name = format!("{}, {}", document.name, statement_name(i, st.sid.as_deref()));
            if st.covers_all_kms_actions() {
                problems.push(format!("{name} allows every KMS action"));
                continue;
            }
            let hits: Vec<&str> = blocked
                .iter()
                .filter(|a| st.covers_action(a))
                .map(String::as_str)
                .collect();
            if !hits.is_empty() && covers_every_key(st, partition, account) {
                problems.push(format!("{name} allows {} on every key", hits.join(", ")));
            }
        }
    }
    let ok = if documents.is_empty() {
        "No inline policies (attached customer-managed policies are judged as AWS::IAM::Policy)."
    } else {
        "No statement grants every KMS action, or a blocked action on every key."
    };
    verdict_of(problems, ok)
}

/// The documents a configuration item records.
pub fn subject_of_item(item: &ConfigurationItem) -> Subject {
    let arn = item.arn.clone().or_else(|| item.str_field(&["arn"]).map(str::to_owned));
    let documents = match item.resource_type.as_str() {
        POLICY => default_version(item).map(|d| vec![d]),
        ROLE => inline(item, "rolePolicyList"),
        USER => inline(item, "userPolicyList"),
        GROUP => inline(item, "groupPolicyList"),
        other => Err(format!("{other} is not an IAM principal or policy")),
    };
    Subject { arn, documents }
}

/// A managed policy's default version, from `policyVersionList`.
fn default_version(item: &ConfigurationItem) -> Result<Document, String> {
    let Some(Value::Array(versions)) = item.field(&["policyVersionList"]) else {
        return Err("the item does not record the policy's versions (policyVersionList)".into());
    };
    let default_id = item.str_field(&["defaultVersionId"]);
    let version = versions
        .iter()
        .find(|v| v.get("isDefaultVersion").and_then(Value::as_bool) == Some(true))
        .or_else(|| {
            let id = default_id?;
            versions
                .iter()
                .find(|v| v.get("versionId").and_then(Value::as_str) == Some(id))
        })
        .ok_or("the item records no default version")?;
    let text = version
        .get("document")
        .cloned()
        .ok_or("the default version records no document")?;
    let id = version.get("versionId").and_then(Value::as_str).unwrap_or("?");
    Ok(Document {
        name: format!("default version {id}"),
        text,
    })
}

/// Inline policies from `field` (`rolePolicyList`, …).
fn inline(item: &ConfigurationItem, field: &str) -> Result<Vec<Document>, String> {
    let Some(Value::Array(list)) = item.field(&[field]) else {
        return Err(format!("the item does not record the inline policies ({field})"));
    };
    Ok(list
        .iter()
        .map(|entry| Document {
            name: format!(
                "inline policy \"{}\"",
                entry.get("policyName").and_then(Value::as_str).unwrap_or("?")
            ),
            text: entry.get("policyDocument").cloned().unwrap_or(Value::Null),
        })
        .collect())
}

fn verdict_in(subject: &Subject, ctx: &RuleContext<'_>) -> Verdict {
    judge(
        subject,
        ctx.params.list(BLOCKED_ACTIONS.name),
        ctx.params.list(EXCLUDED_PRINCIPALS.name),
        ctx.account_id.unwrap_or("*"),
    )
}

/// Inline policies as IAM lists them.
fn inline_documents(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<Document> {
    list.iter()
        .map(|p| Document {
            name: format!("inline policy \"{}\"", p.policy_name().unwrap_or("?")),
            text: p.policy_document().map_or(Value::Null, |d| Value::String(d.to_owned())),
        })
        .collect()
}

/// One resource found by the sweep, judged at once (its documents came
/// with the listing). A resource listed without its id cannot be reported,
/// and is never left out silently: the sweep fails (Config retries).
fn found<'a>(
    resource_type: &'static str,
    id: Option<&str>,
    subject: Subject,
    ctx: &'a RuleContext<'a>,
) -> Result<Found<'a>, Error> {
    let Some(id) = id else {
        return Err(AwsError {
            service: "iam",
            operation: "GetAccountAuthorizationDetails",
            kind: AwsErrorKind::Transient,
            code: None,
            message: format!(
                "the answer lists a {resource_type} without its id ({})",
                subject.arn.as_deref().unwrap_or("no ARN either")
            ),
        }
        .into());
    };
    let verdict = verdict_in(&subject, ctx);
    Ok(Found::new(resource_type, id, async move { Ok(Some(verdict)) }))
}

#[async_trait]
impl Rule for IamPolicyNoKmsFullAccess {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        Ok(verdict_in(&subject_of_item(item), ctx))
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let aws = ctx.aws()?;
        let iam_region = ctx.params.text(IAM_REGION.name).unwrap_or("us-east-1");
        if aws.region() != Some(iam_region) {
            tracing::info!(iam_region, "IAM is swept from iamRegion only: nothing to report here");
            return Ok(Box::new(one_page(Vec::new())));
        }
        let iam = atrest_common::aws_client!(aws, aws_sdk_iam);
        let pages = iam
            .get_account_authorization_details()
            .set_filter(Some(vec![
                EntityType::Role,
                EntityType::User,
                EntityType::Group,
                EntityType::LocalManagedPolicy,
            ]))
            .into_paginator()
            .send();
        Ok(Box::new(paged(pages, move |page| {
            let page = page.map_err(|e| AwsError::from_sdk("iam", "GetAccountAuthorizationDetails", &e))?;
            let mut out = Vec::new();
            for role in page.role_detail_list() {
                let subject = Subject {
                    arn: role.arn().map(str::to_owned),
                    documents: Ok(inline_documents(role.role_policy_list())),
                };
                out.push(found(ROLE, role.role_id(), subject, ctx)?);
            }
            for user in page.user_detail_list() {
                let subject = Subject {
                    arn: user.arn().map(str::to_owned),
                    documents: Ok(inline_documents(user.user_policy_list())),
                };
                out.push(found(USER, user.user_id(), subject, ctx)?);
            }
            for group in page.group_detail_list() {
                let subject = Subject {
                    arn: group.arn().map(str::to_owned),
                    documents: Ok(inline_documents(group.group_policy_list())),
                };
                out.push(found(GROUP, group.group_id(), subject, ctx)?);
            }
            for policy in page.policies() {
                let version = policy.policy_version_list().iter().find(|v| v.is_default_version());
                let documents = match version.and_then(|v| v.document()) {
                    Some(text) => Ok(vec![Document {
                        name: format!(
                            "default version {}",
                            version.and_then(|v| v.version_id()).unwrap_or("?")
                        ),
                        text: Value::String(text.to_owned()),
                    }]),
                    None => Err("IAM listed no default version document".to_owned()),
                };
                let subject = Subject {
                    arn: policy.arn().map(str::to_owned),
                    documents,
                };
                out.push(found(POLICY, policy.policy_id(), subject, ctx)?);
            }
            Ok(out)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrest_common::Compliance;

    const ACCOUNT: &str = "111122223333";
    const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/App";

    fn verdict(statement: &str) -> Verdict {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        let subject = Subject {
            arn: Some(ROLE_ARN.into()),
            documents: Ok(vec![Document {
                name: "inline policy \"p\"".into(),
                text: Value::String(text),
            }]),
        };
        let blocked = vec!["kms:Decrypt".to_owned(), "kms:ReEncryptFrom".to_owned()];
        judge(&subject, &blocked, &[], ACCOUNT)
    }

    fn compliance(statement: &str) -> Compliance {
        verdict(statement).compliance
    }

    #[test]
    fn every_wildcard_form_of_full_access_is_flagged() {
        for action in [
            r#""kms:*""#,
            r#""*""#,
            r#""*:*""#,
            r#""kms*""#,
            r#""KMS:*""#,
            r#"["kms:A*","kms:C*","kms:D*","kms:E*","kms:G*","kms:I*","kms:L*","kms:P*","kms:R*","kms:S*","kms:T*","kms:U*","kms:V*"]"#,
        ] {
            let st = format!(r#"{{"Effect":"Allow","Action":{action},"Resource":"*"}}"#);
            assert_eq!(compliance(&st), Compliance::NonCompliant, "{action}");
        }
        let not_action = r#"{"Effect":"Allow","NotAction":["iam:*","s3:*"],"Resource":"*"}"#;
        assert_eq!(compliance(not_action), Compliance::NonCompliant);
        let not_action_kms = r#"{"Effect":"Allow","NotAction":"kms:ScheduleKeyDeletion","Resource":"*"}"#;
        // Not every action, but kms:Decrypt on every key: the blocked-actions check.
        assert!(verdict(not_action_kms)
            .annotation
            .unwrap_or_default()
            .contains("allows kms:Decrypt, kms:ReEncryptFrom on every key"));
    }

    #[test]
    fn resources_decide_whether_kms_is_reached() {
        let st = |resource: &str| format!(r#"{{"Effect":"Allow","Action":"*","Resource":{resource}}}"#);
        assert_eq!(compliance(&st(r#""arn:aws:s3:::bucket/*""#)), Compliance::Compliant);
        assert_eq!(
            compliance(&st(r#"["arn:aws:dynamodb:*:*:table/x"]"#)),
            Compliance::Compliant
        );
        for reaching in [
            r#""*""#,
            r#""arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1""#,
            r#""arn:aws:*""#,
            r#""arn:*:kms:*:*:*""#,
            r#""arn:aws:k*:*:*:*""#,
        ] {
            assert_eq!(compliance(&st(reaching)), Compliance::NonCompliant, "{reaching}");
        }
        let not_resource =
            |excluded: &str| format!(r#"{{"Effect":"Allow","Action":"kms:*","NotResource":{excluded}}}"#);
        assert_eq!(
            compliance(&not_resource(r#""arn:aws:kms:*:*:*""#)),
            Compliance::Compliant
        );
        assert_eq!(
            compliance(&not_resource(r#""arn:aws:kms:eu-west-1:*:key/*""#)),
            Compliance::NonCompliant
        );
    }

    #[test]
    fn blocked_actions_only_on_every_key() {
        let st = |resource: &str| {
            format!(r#"{{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":{resource}}}"#)
        };
        assert_eq!(compliance(&st(r#""*""#)), Compliance::NonCompliant);
        assert_eq!(
            compliance(&st(r#""arn:aws:kms:*:111122223333:key/*""#)),
            Compliance::NonCompliant
        );
        assert_eq!(compliance(&st(r#""arn:aws:kms:*:*:*""#)), Compliance::NonCompliant);
        // One region, or named keys: not every key.
        assert_eq!(
            compliance(&st(r#""arn:aws:kms:eu-west-1:111122223333:key/*""#)),
            Compliance::Compliant
        );
        assert_eq!(
            compliance(&st(
                r#""arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1""#
            )),
            Compliance::Compliant
        );
        // Encrypt alone is not blocked.
        let encrypt = r#"{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}"#;
        assert_eq!(compliance(encrypt), Compliance::Compliant);
        // A Deny never flags.
        assert_eq!(
            compliance(r#"{"Effect":"Deny","Action":"kms:*","Resource":"*"}"#),
            Compliance::Compliant
        );
    }

    #[test]
    fn aws_managed_and_excluded_are_not_judged_and_unreadable_is_not_compliant() {
        let subject = |arn: &str, documents| Subject {
            arn: Some(arn.into()),
            documents,
        };
        let managed = judge(
            &subject("arn:aws:iam::aws:policy/AdministratorAccess", Ok(vec![])),
            &[],
            &[],
            ACCOUNT,
        );
        assert_eq!(managed.compliance, Compliance::NotApplicable);
        let excluded = judge(
            &subject("arn:aws:iam::111122223333:role/break-glass/Emergency", Err("x".into())),
            &[],
            &["arn:aws:iam::*:role/break-glass/*".into()],
            ACCOUNT,
        );
        assert_eq!(excluded.compliance, Compliance::NotApplicable);
        let unread = judge(&subject(ROLE_ARN, Err("no list".into())), &[], &[], ACCOUNT);
        assert_eq!(unread.compliance, Compliance::NonCompliant);
        let garbage = judge(
            &subject(
                ROLE_ARN,
                Ok(vec![Document {
                    name: "inline policy \"x\"".into(),
                    text: Value::String("%7Bnot json".into()),
                }]),
            ),
            &[],
            &[],
            ACCOUNT,
        );
        assert_eq!(garbage.compliance, Compliance::NonCompliant);
        assert!(garbage
            .annotation
            .unwrap_or_default()
            .contains("inline policy \"x\" could not be read"));
    }
}
