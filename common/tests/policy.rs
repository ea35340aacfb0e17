//! Key policy parsing with IAM's semantics.

use atrest_common::policy::{Effect, Policy, Principal};
use serde_json::json;

#[test]
fn every_principal_form_is_read() {
    let p = Policy::parse(&json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"]},
        {"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/App"],
                                          "Service": "logs.amazonaws.com",
                                          "Federated": "arn:aws:iam::111122223333:saml-provider/Okta",
                                          "CanonicalUser": "79a59df900b949e55d96a1e698fbaced"},
         "Action": "kms:*"}
    ]}))
    .unwrap();
    assert_eq!(p.statements[0].principals, Some(vec![Principal::Public]));
    assert_eq!(p.statements[1].principals, Some(vec![Principal::Public]));
    let ps = p.statements[2].principals.clone().unwrap();
    assert!(ps.contains(&Principal::Aws("111122223333".into())));
    assert!(ps.contains(&Principal::Service("logs.amazonaws.com".into())));
    assert!(ps.contains(&Principal::Federated(
        "arn:aws:iam::111122223333:saml-provider/Okta".into()
    )));
    assert!(ps.contains(&Principal::Canonical("79a59df900b949e55d96a1e698fbaced".into())));
}

#[test]
fn accounts_and_roots_are_told_apart() {
    let root = Principal::Aws("arn:aws:iam::111122223333:root".into());
    let short = Principal::Aws("111122223333".into());
    let role = Principal::Aws("arn:aws:iam::111122223333:role/root".into());
    assert!(root.is_root_of("111122223333") && short.is_root_of("111122223333"));
    assert!(!role.is_root_of("111122223333"), "a role named root is not the root");
    assert!(!root.is_root_of("999988887777"));
    assert_eq!(role.account(), Some("111122223333"));
    assert_eq!(Principal::Aws("AROAJ2EXAMPLEUNIQUEID1".into()).account(), None);
    assert_eq!(Principal::Service("ec2.amazonaws.com".into()).account(), None);
}

#[test]
fn actions_and_not_actions_follow_iam() {
    let p = Policy::parse_str(
        r#"{"Statement": {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "NotAction": ["kms:Decrypt", "kms:Encrypt"]}}"#,
    )
    .unwrap();
    let st = &p.statements[0];
    assert_eq!(st.effect, Effect::Allow);
    assert!(!st.covers_action("kms:Decrypt"));
    assert!(st.covers_action("kms:PutKeyPolicy"));
    assert!(!st.covers_all_kms_actions());
    let all =
        Policy::parse_str(r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:*"}]}"#).unwrap();
    assert!(all.statements[0].covers_all_kms_actions());
    let star =
        Policy::parse_str(r#"{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "KMS:*"}]}"#).unwrap();
    assert!(star.statements[0].covers_all_kms_actions());
    assert!(star.statements[0].covers_action("kms:ScheduleKeyDeletion"));
}

#[test]
fn conditions_are_read_case_insensitively_with_string_or_list_values() {
    let p = Policy::parse(
        &json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:CallerAccount": ["111122223333", "444455556666"]},
                      "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                      "Bool": {"aws:MultiFactorAuthPresent": true}}}]}),
    )
    .unwrap();
    let st = &p.statements[0];
    assert_eq!(
        st.condition("stringequals", "KMS:CALLERACCOUNT").unwrap(),
        ["111122223333", "444455556666"]
    );
    assert_eq!(
        st.condition("NumericLessThan", "aws:MultiFactorAuthAge").unwrap(),
        ["3600"]
    );
    assert_eq!(st.condition("Bool", "aws:MultiFactorAuthPresent").unwrap(), ["true"]);
    assert!(st.condition("StringLike", "kms:CallerAccount").is_none());
}

#[test]
fn allow_with_not_principal_reaches_everyone() {
    let p = Policy::parse_str(
        r#"{"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/X"}, "Action": "kms:*"}]}"#,
    )
    .unwrap();
    assert_eq!(p.statements[0].reached_principals(), vec![Principal::Public]);
}

#[test]
fn malformed_policies_say_what_is_wrong() {
    let cases = [
        ("{", "not JSON"),
        (r#"{"Version": "2012-10-17"}"#, "no Statement"),
        (
            r#"{"Statement": [{"Principal": "*", "Action": "kms:*"}]}"#,
            "statement 1: Effect must be Allow or Deny",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*"}]}"#,
            "neither Action nor NotAction",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "someone", "Action": "kms:*"}]}"#,
            "neither \"*\" nor a typed map",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"Robot": "x"}, "Action": "kms:*"}]}"#,
            "unknown principal type `Robot`",
        ),
        (
            r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": {"a": 1}}]}"#,
            "Action: expected a string or a list",
        ),
    ];
    for (text, expected) in cases {
        let err = Policy::parse_str(text).unwrap_err();
        assert!(err.0.contains(expected), "{text}: {}", err.0);
    }
}
