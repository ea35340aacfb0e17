//! Rule parameters: typed from the rule's declarations, errors that name
//! the parameter and what was expected.

use std::collections::BTreeMap;

use atrest_common::params::{is_key_reference, split_list, ParamKind, ParamSpec, Parameters};
use atrest_common::Error;

const SPECS: &[ParamSpec] = &[
    ParamSpec {
        name: "kmsKeyArns",
        kind: ParamKind::KeyList,
        default: None,
        required: false,
        description: "",
    },
    ParamSpec {
        name: "allowAwsManagedKeys",
        kind: ParamKind::Bool,
        default: Some("false"),
        required: false,
        description: "",
    },
    ParamSpec {
        name: "maxRotationPeriodInDays",
        kind: ParamKind::Integer { min: 90, max: 2560 },
        default: None,
        required: false,
        description: "",
    },
    ParamSpec {
        name: "tagKeys",
        kind: ParamKind::List,
        default: None,
        required: true,
        description: "",
    },
    ParamSpec {
        name: "iamRegion",
        kind: ParamKind::Region,
        default: Some("us-east-1"),
        required: false,
        description: "",
    },
];

fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn refused(pairs: &[(&str, &str)]) -> (String, String) {
    match Parameters::parse(SPECS, &raw(pairs)) {
        Err(Error::Parameter { name, problem }) => (name, problem),
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn values_are_typed_and_defaults_apply() {
    let p = Parameters::parse(
        SPECS,
        &raw(&[
            ("tagKeys", " CostCenter, ,Application ,"),
            ("maxRotationPeriodInDays", "365"),
            ("allowAwsManagedKeys", ""),
        ]),
    )
    .unwrap();
    assert_eq!(p.list("tagKeys"), ["CostCenter", "Application"]);
    assert_eq!(p.integer("maxRotationPeriodInDays"), Some(365));
    // Empty means "not given": the default applies.
    assert!(!p.bool("allowAwsManagedKeys"));
    assert!(p.list("kmsKeyArns").is_empty());
    // The common parameter is always present with its default.
    assert!(!p.bool("assumeExecutionRole"));

    let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A"), ("allowAwsManagedKeys", "TRUE")])).unwrap();
    assert!(p.bool("allowAwsManagedKeys"));
}

#[test]
fn unknown_parameter_is_named_with_the_accepted_ones() {
    let (name, problem) = refused(&[("tagKeys", "A"), ("kmsKeyArn", "x")]);
    assert_eq!(name, "kmsKeyArn");
    assert!(problem.contains("unknown parameter"), "{problem}");
    assert!(
        problem.contains("kmsKeyArns") && problem.contains("assumeExecutionRole"),
        "{problem}"
    );
}

#[test]
fn malformed_boolean_says_what_was_expected() {
    let (name, problem) = refused(&[("tagKeys", "A"), ("allowAwsManagedKeys", "yes")]);
    assert_eq!(name, "allowAwsManagedKeys");
    assert!(
        problem.contains("`true` or `false`") && problem.contains("`yes`"),
        "{problem}"
    );
}

#[test]
fn integers_out_of_bounds_are_refused() {
    for bad in ["30", "9999", "ninety", "1.5"] {
        let (name, problem) = refused(&[("tagKeys", "A"), ("maxRotationPeriodInDays", bad)]);
        assert_eq!(name, "maxRotationPeriodInDays");
        assert!(problem.contains("from 90 to 2560"), "{problem}");
    }
}

#[test]
fn required_parameter_missing_is_named() {
    let (name, problem) = refused(&[]);
    assert_eq!(name, "tagKeys");
    assert!(problem.starts_with("required"), "{problem}");
    let (name, _) = refused(&[("tagKeys", " , ")]);
    assert_eq!(name, "tagKeys");
}

#[test]
fn key_lists_accept_every_key_reference_and_refuse_the_rest() {
    let good = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab, \
                arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/payments-prod, alias/team-key, \
                mrk-1234abcd12ab34cd56ef1234567890ab, 1234abcd-12ab-34cd-56ef-1234567890ab";
    let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A"), ("kmsKeyArns", good)])).unwrap();
    assert_eq!(p.list("kmsKeyArns").len(), 5);

    for bad in [
        "arn:aws:s3:::bucket",
        "arn:aws:kms:eu-west-1:1234:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:123456789012:key/not-a-uuid",
        "alias/",
        "my key",
    ] {
        let (name, problem) = refused(&[("tagKeys", "A"), ("kmsKeyArns", bad)]);
        assert_eq!(name, "kmsKeyArns");
        assert!(problem.contains(&format!("`{bad}`")), "{problem}");
        assert!(!is_key_reference(bad), "{bad}");
    }
}

#[test]
fn lists_are_trimmed_and_empties_dropped() {
    assert_eq!(split_list(" a,,b , c ,"), ["a", "b", "c"]);
    assert!(split_list(" , ").is_empty());
}

#[test]
fn execution_role_name_takes_iam_role_names_with_or_without_a_path() {
    for good in ["atrest-execution", "atrest/atrest-execution", "a/b/c+=,.@_-d"] {
        let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A"), ("executionRoleName", good)])).unwrap();
        assert_eq!(p.text("executionRoleName"), Some(good));
    }
    let too_long = "r".repeat(65);
    for bad in [
        "arn:aws:iam::111122223333:role/x",
        "/leading",
        "trailing/",
        "a//b",
        "spa ce",
        too_long.as_str(),
    ] {
        let (name, problem) = refused(&[("tagKeys", "A"), ("executionRoleName", bad)]);
        assert_eq!(name, "executionRoleName", "{bad}");
        assert!(problem.contains("IAM role name"), "{bad}: {problem}");
    }
    let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A")])).unwrap();
    assert_eq!(p.text("executionRoleName"), None);
}

#[test]
fn regions_are_region_codes() {
    let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A")])).unwrap();
    assert_eq!(p.text("iamRegion"), Some("us-east-1"));
    for good in [
        "eu-west-1",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-5",
        "eu-central-2",
    ] {
        let p = Parameters::parse(SPECS, &raw(&[("tagKeys", "A"), ("iamRegion", good)])).unwrap();
        assert_eq!(p.text("iamRegion"), Some(good));
    }
    for bad in [
        "global",
        "EU-WEST-1",
        "eu-west",
        "eu-west-123",
        "-west-1",
        "eu--1",
        "us-east-1a",
    ] {
        let (name, problem) = refused(&[("tagKeys", "A"), ("iamRegion", bad)]);
        assert_eq!(name, "iamRegion", "{bad}");
        assert!(problem.contains("region code"), "{bad}: {problem}");
    }
}
