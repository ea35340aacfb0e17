//! IAM condition semantics, table-driven: every operator family on an
//! absent key, a key present with a matching value and one present with a
//! value that does not match (IAM User Guide, "Condition operators": an
//! absent key makes a condition false except for negated operators, which
//! are true, `…IfExists`, which is true, and `Null`, which tests presence;
//! "Set operators": `ForAllValues` is true on an absent key, `ForAnyValue`
//! false).

use atrest_common::policy::conditions::{evaluate, evaluate_block, Context, Holds, OutsideKind, Possible};
use atrest_common::policy::Policy;

/// (operator, policy value, request value that matches the non-negated
/// form, request value that does not, result on absent key,
/// result on the matching value, result on the other value)
const TABLE: &[(&str, &str, &str, &str, bool, bool, bool)] = &[
    ("Bool", "true", "true", "false", false, true, false),
    ("BoolIfExists", "true", "true", "false", true, true, false),
    ("Bool", "false", "false", "true", false, true, false),
    ("BoolIfExists", "false", "false", "true", true, true, false),
    // Null "true": the key is absent; "false": it is present.
    ("Null", "true", "x", "y", true, false, false),
    ("Null", "false", "x", "y", false, true, true),
    ("StringEquals", "a", "a", "b", false, true, false),
    ("StringNotEquals", "a", "b", "a", true, true, false),
    ("StringEqualsIfExists", "a", "a", "b", true, true, false),
    ("StringNotEqualsIfExists", "a", "b", "a", true, true, false),
    ("StringEqualsIgnoreCase", "ABC", "abc", "abd", false, true, false),
    ("StringNotEqualsIgnoreCase", "ABC", "abd", "abc", true, true, false),
    ("StringLike", "a*c", "abbc", "abd", false, true, false),
    ("StringLike", "A*", "Ab", "ab", false, true, false),
    ("StringNotLike", "a*c", "abd", "abc", true, true, false),
    ("StringLikeIfExists", "a?", "ab", "abc", true, true, false),
    ("NumericLessThan", "3600", "10", "3600", false, true, false),
    ("NumericLessThanEquals", "3600", "3600", "3601", false, true, false),
    ("NumericGreaterThan", "3600", "3601", "3600", false, true, false),
    ("NumericGreaterThanIfExists", "3600", "3601", "3600", true, true, false),
    ("NumericGreaterThanEquals", "3600", "3600", "3599", false, true, false),
    ("NumericEquals", "5", "5.0", "6", false, true, false),
    ("NumericNotEquals", "5", "6", "5", true, true, false),
    ("NumericLessThanIfExists", "3600", "1", "7200", true, true, false),
    (
        "DateLessThan",
        "2026-12-01T00:00:00Z",
        "2026-11-30T00:00:00Z",
        "2026-12-02T00:00:00Z",
        false,
        true,
        false,
    ),
    (
        "DateGreaterThanIfExists",
        "2026-12-01T00:00:00Z",
        "1796169600",
        "2026-01-01T00:00:00Z",
        true,
        true,
        false,
    ),
    (
        "DateNotEquals",
        "2026-12-01T00:00:00Z",
        "2026-12-02T00:00:00Z",
        "2026-12-01T00:00:00Z",
        true,
        true,
        false,
    ),
    (
        "IpAddress",
        "203.0.113.0/24",
        "203.0.113.9",
        "198.51.100.1",
        false,
        true,
        false,
    ),
    (
        "NotIpAddress",
        "203.0.113.0/24",
        "198.51.100.1",
        "203.0.113.9",
        true,
        true,
        false,
    ),
    (
        "ArnLike",
        "arn:aws:iam::*:role/Admin*",
        "arn:aws:iam::111122223333:role/Admin1",
        "arn:aws:iam::111122223333:role/App",
        false,
        true,
        false,
    ),
    (
        "ArnEquals",
        "arn:aws:iam::111122223333:role/A",
        "arn:aws:iam::111122223333:role/A",
        "arn:aws:iam::111122223333:role/B",
        false,
        true,
        false,
    ),
    (
        "ArnNotLike",
        "arn:aws:iam::*:role/BreakGlass",
        "arn:aws:iam::111122223333:role/App",
        "arn:aws:iam::111122223333:role/BreakGlass",
        true,
        true,
        false,
    ),
    (
        "ArnLikeIfExists",
        "arn:aws:sns:*:111122223333:*",
        "arn:aws:sns:eu-west-1:111122223333:t",
        "arn:aws:sns:eu-west-1:999988887777:t",
        true,
        true,
        false,
    ),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", "T3RoZXI=", false, true, false),
    ("ForAnyValue:StringEquals", "a", "a", "b", false, true, false),
    ("ForAllValues:StringEquals", "a", "a", "b", true, true, false),
    ("ForAnyValue:StringNotEquals", "a", "b", "a", false, true, false),
    ("ForAllValues:StringLike", "a*", "ab", "b", true, true, false),
];

fn one(v: &str) -> Vec<String> {
    vec![v.to_owned()]
}

#[test]
fn every_operator_on_absent_matching_and_other_values() {
    let mut failures = Vec::new();
    for &(op, policy, matching, other, on_absent, on_match, on_other) in TABLE {
        for (what, holds, want) in [
            ("absent", Holds::Absent, on_absent),
            ("matching", Holds::value(matching), on_match),
            ("other", Holds::value(other), on_other),
        ] {
            let got = evaluate(op, &one(policy), &[holds]);
            if got != if want { Possible::TRUE } else { Possible::FALSE } {
                failures.push(format!("{op} {policy:?} on {what}: got {got:?}, want {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn mfa_keys_of_each_kind_of_request() {
    // A role session without MFA carries aws:MultiFactorAuthPresent=false and
    // no aws:MultiFactorAuthAge; long-term access keys carry neither.
    let role_session = [
        ("aws:MultiFactorAuthPresent", Holds::value("false")),
        ("aws:MultiFactorAuthAge", Holds::Absent),
    ];
    let long_term = [
        ("aws:MultiFactorAuthPresent", Holds::Absent),
        ("aws:MultiFactorAuthAge", Holds::Absent),
    ];
    // (operator, key, value, applies to the role session, to long-term keys)
    let cases = [
        ("BoolIfExists", "aws:MultiFactorAuthPresent", "false", true, true),
        ("Bool", "aws:MultiFactorAuthPresent", "false", true, false),
        ("Null", "aws:MultiFactorAuthPresent", "true", false, true),
        ("NumericGreaterThan", "aws:MultiFactorAuthAge", "3600", false, false),
        (
            "NumericGreaterThanIfExists",
            "aws:MultiFactorAuthAge",
            "3600",
            true,
            true,
        ),
        ("Null", "aws:MultiFactorAuthAge", "true", true, true),
    ];
    for (op, key, value, role_applies, long_term_applies) in cases {
        for (request, want) in [(&role_session, role_applies), (&long_term, long_term_applies)] {
            let holds: Vec<Holds> = request
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, h)| h.clone())
                .collect();
            assert_eq!(
                evaluate(op, &one(value), &holds).always(),
                want,
                "{op} {key} {value} on {request:?}"
            );
        }
    }
}

#[test]
fn several_values_are_ored_and_negated_values_nored() {
    let values = vec!["a".to_owned(), "b".to_owned()];
    assert!(evaluate("StringEquals", &values, &[Holds::value("b")]).always());
    assert!(evaluate("StringNotEquals", &values, &[Holds::value("b")]).never());
    assert!(evaluate("StringNotEquals", &values, &[Holds::value("c")]).always());
    // A multivalued request key: ForAllValues needs every value in the set.
    let request = Holds::Values(vec!["a".into(), "c".into()]);
    assert!(evaluate("ForAllValues:StringEquals", &values, std::slice::from_ref(&request)).never());
    assert!(evaluate("ForAnyValue:StringEquals", &values, &[request]).always());
}

#[test]
fn unknown_and_undecidable_values_may_be_either() {
    assert_eq!(evaluate("StringEquals", &one("a"), &[Holds::Any]), Possible::EITHER);
    assert_eq!(
        evaluate("NoSuchOperator", &one("a"), &[Holds::value("a")]),
        Possible::EITHER
    );
    assert_eq!(
        evaluate("StringEquals", &one("${aws:username}"), &[Holds::value("alice")]),
        Possible::EITHER
    );
    assert_eq!(
        evaluate("StringEquals", &one("a"), &[Holds::Absent, Holds::value("a")]),
        Possible::EITHER
    );
}

#[test]
fn values_outside_a_trusted_set() {
    let outside = |kind| Holds::Outside {
        kind,
        trusted: vec!["111122223333".into(), "o-trusted123".into()],
    };
    let account = [outside(OutsideKind::Account)];
    assert!(evaluate("StringEquals", &one("111122223333"), &account).never());
    assert!(!evaluate("StringEquals", &one("999988887777"), &account).never());
    assert!(!evaluate("StringLike", &one("1111*"), &account).never());
    assert!(evaluate("StringNotEquals", &one("111122223333"), &account).always());
    let org = [outside(OutsideKind::Organization)];
    assert!(evaluate("StringEquals", &one("o-trusted123"), &org).never());
    assert!(!evaluate("StringEquals", &one("o-foreign"), &org).never());
    let arn = [outside(OutsideKind::Arn)];
    assert!(evaluate("ArnLike", &one("arn:aws:logs:*:111122223333:*"), &arn).never());
    assert!(!evaluate("ArnLike", &one("arn:aws:logs:*:*:*"), &arn).never());
    let path = [outside(OutsideKind::OrganizationPath)];
    assert!(evaluate("ForAnyValue:StringLike", &one("o-trusted123/r-ab/*"), &path).never());
    assert!(!evaluate("ForAnyValue:StringLike", &one("o-*/r-ab/*"), &path).never());
}

#[test]
fn a_block_is_the_and_of_its_entries() {
    let p = Policy::parse_str(
        r#"{"Statement": {"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Condition": {
            "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
            "StringNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Exempt"}}}}"#,
    )
    .unwrap();
    let st = &p.statements[0];
    let no_mfa = |arn: &str| {
        Context::unknown()
            .with("aws:MultiFactorAuthPresent", [Holds::value("false")])
            .with("aws:PrincipalArn", [Holds::value(arn)])
    };
    assert!(evaluate_block(&st.conditions, &no_mfa("arn:aws:iam::111122223333:role/Ops")).always());
    assert!(evaluate_block(&st.conditions, &no_mfa("arn:aws:iam::111122223333:role/Exempt")).never());
    // Who the principal is not known: the Deny may not apply.
    let unknown = Context::unknown().with("aws:MultiFactorAuthPresent", [Holds::value("false")]);
    assert_eq!(evaluate_block(&st.conditions, &unknown), Possible::EITHER);
}
