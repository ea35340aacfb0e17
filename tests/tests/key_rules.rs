//! The key policy, alias, lifecycle and account rules end to end on moto:
//! keys made with the Rust SDK, each rule's PutEvaluations read back.

use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::{
    annotation_of, compliance_by_id, count_operations, evaluations, events, put_evaluations, sweep_recorded, Moto,
    ACCOUNT,
};
use serde_json::{json, Value};

fn policy(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Id": "e2e", "Statement": statements}).to_string()
}

fn root_statement() -> Value {
    json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
           "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"})
}

async fn key_with_policy(moto: &Moto, statements: Value) -> String {
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let out = kms.create_key().policy(policy(statements)).send().await.unwrap();
    out.key_metadata().unwrap().key_id().to_owned()
}

async fn deleted_key_is_not_applicable(moto: &Moto, rule: &dyn Rule) {
    let handler = Handler::new(moto.aws());
    let item = events::deleted(events::item("AWS::KMS::Key", "gone-key", json!({}), json!({})));
    moto.start_recording();
    handler
        .handle(rule, events::change(rule.spec().id, item, json!({})))
        .await
        .unwrap();
    assert_eq!(compliance_by_id(&moto.recording())["gone-key"], "NOT_APPLICABLE");
}

#[tokio::test]
async fn separation_of_duties_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let good = key_with_policy(&moto, json!([root_statement()])).await;
    let admin = format!("arn:aws:iam::{ACCOUNT}:role/Admin");
    let bad = key_with_policy(
        &moto,
        json!([root_statement(), {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*", "Resource": "*"}]),
    )
    .await;
    let rule = &atrest_rules::kms_key_policy_separation_of_duties::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&good], "COMPLIANT");
    assert_eq!(got[&bad], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &bad).contains("grants every KMS action to arn:aws:iam::123456789012:role/Admin"));
    assert_eq!(count_operations(&recorded).get("kms:GetKeyPolicy"), Some(&2));
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn no_untrusted_access_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let good = key_with_policy(&moto, json!([root_statement()])).await;
    let bad = key_with_policy(
        &moto,
        json!([root_statement(), {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:role/Partner"},
                                  "Action": "kms:Decrypt", "Resource": "*"}]),
    )
    .await;
    let public = key_with_policy(
        &moto,
        json!([root_statement(), {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]),
    )
    .await;
    let rule = &atrest_rules::kms_key_policy_no_untrusted_access::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&good], "COMPLIANT");
    assert_eq!(got[&bad], "NON_COMPLIANT");
    assert_eq!(got[&public], "NON_COMPLIANT");
    // Trusting the partner's account clears that key.
    let recorded = sweep_recorded(&moto, rule, json!({"trustedAccountIds": "999988887777"})).await;
    assert_eq!(compliance_by_id(&recorded)[&bad], "COMPLIANT");
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn delegation_constrained_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let app = format!("arn:aws:iam::{ACCOUNT}:role/App");
    let grants = json!(["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]);
    let good = key_with_policy(
        &moto,
        json!([root_statement(), {"Effect": "Allow", "Principal": {"AWS": app}, "Action": grants, "Resource": "*",
                                  "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}}]),
    )
    .await;
    let free_grants = key_with_policy(
        &moto,
        json!([root_statement(), {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": app}, "Action": grants,
                                  "Resource": "*"}]),
    )
    .await;
    let no_root = key_with_policy(
        &moto,
        json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/Admin")},
                "Action": ["kms:Describe*", "kms:PutKeyPolicy"], "Resource": "*"}]),
    )
    .await;
    let rule = &atrest_rules::kms_key_policy_delegation_constrained::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&good], "COMPLIANT");
    assert_eq!(got[&free_grants], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &free_grants)
        .contains("statement \"Grants\" gives arn:aws:iam::123456789012:role/App"));
    assert_eq!(got[&no_root], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &no_root).contains("the account's IAM policies cannot be given"));
    // Administrators named in the policy instead of IAM: allowed when asked.
    let recorded = sweep_recorded(&moto, rule, json!({"requireIamDelegation": "false"})).await;
    assert_eq!(compliance_by_id(&recorded)[&no_root], "COMPLIANT");
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn mfa_on_critical_actions_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let admin = format!("arn:aws:iam::{ACCOUNT}:role/KeyAdmin");
    let statement = |condition: Option<Value>| {
        let mut s = json!({"Effect": "Allow", "Principal": {"AWS": admin}, "Resource": "*",
                           "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Describe*"]});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        s
    };
    // The root keeps everything but the critical actions, so the role's
    // own statement decides.
    let root_without_critical = json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Resource": "*", "NotAction": atrest_rules::kms_key_policy_mfa_critical_actions::CRITICAL_ACTIONS});
    let guarded = key_with_policy(
        &moto,
        json!([
            root_without_critical,
            statement(Some(json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})))
        ]),
    )
    .await;
    let open = key_with_policy(&moto, json!([root_without_critical, statement(None)])).await;
    // The default policy leaves MFA to IAM policies: not enforced.
    let delegated = key_with_policy(&moto, json!([root_statement()])).await;
    let rule = &atrest_rules::kms_key_policy_mfa_critical_actions::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&guarded], "COMPLIANT");
    assert_eq!(got[&open], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &open).contains("may kms:PutKeyPolicy, kms:ScheduleKeyDeletion without MFA"));
    assert_eq!(got[&delegated], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &delegated).contains("(root delegation) may kms:PutKeyPolicy"));
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn alias_naming_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let named = key_with_policy(&moto, json!([root_statement()])).await;
    kms.create_alias()
        .alias_name("alias/prod-payments-platform")
        .target_key_id(&named)
        .send()
        .await
        .unwrap();
    let badly = key_with_policy(&moto, json!([root_statement()])).await;
    kms.create_alias()
        .alias_name("alias/MyKey")
        .target_key_id(&badly)
        .send()
        .await
        .unwrap();
    let unnamed = key_with_policy(&moto, json!([root_statement()])).await;
    let rule = &atrest_rules::kms_alias_naming::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&named], "COMPLIANT");
    assert_eq!(got[&badly], "NON_COMPLIANT");
    assert_eq!(got[&unnamed], "NON_COMPLIANT");
    assert_eq!(annotation_of(&recorded, &unnamed), "The key has no alias.");
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn key_usable_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config());
    let kept = key_with_policy(&moto, json!([root_statement()])).await;
    let doomed = key_with_policy(&moto, json!([root_statement()])).await;
    let disabled = key_with_policy(&moto, json!([root_statement()])).await;
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    kms.disable_key().key_id(&disabled).send().await.unwrap();
    let rule = &atrest_rules::kms_key_usable::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&kept], "COMPLIANT");
    assert_eq!(got[&doomed], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &doomed).contains("scheduled for deletion on"));
    assert_eq!(got[&disabled], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &disabled).contains("The key is disabled"));
    deleted_key_is_not_applicable(&moto, rule).await;
}

#[tokio::test]
async fn ebs_encryption_by_default_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let rule = &atrest_rules::ebs_encryption_by_default::RULE;
    let recorded = sweep_recorded(&moto, rule, json!({})).await;
    assert_eq!(
        evaluations(&recorded),
        [("AWS::::Account".into(), ACCOUNT.into(), "NON_COMPLIANT".into())]
    );
    assert_eq!(annotation_of(&recorded, ACCOUNT), "EBS encryption by default is off.");

    // moto turns encryption by default on, but cannot tell the default key
    // (GetEbsDefaultKmsKeyId answers 500): the rule must fail, retryably,
    // and report nothing rather than pass an unread key.
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config());
    ec2.enable_ebs_encryption_by_default().send().await.unwrap();
    let handler = Handler::new(moto.aws());
    moto.start_recording();
    let err = handler
        .handle(rule, events::scheduled(rule.spec().id, json!({})))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.to_string().contains("GetEbsDefaultKmsKeyId"), "{err}");
    let recorded = moto.recording();
    assert!(put_evaluations(&recorded).is_empty());
    assert_eq!(
        count_operations(&recorded).get("ec2:GetEbsEncryptionByDefault"),
        Some(&1)
    );
}
