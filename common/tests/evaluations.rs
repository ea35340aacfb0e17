//! Evaluations: annotation limits and resource id limits of PutEvaluations.

use atrest_common::evaluation::{truncate_annotation, MAX_ANNOTATION_CHARS};
use atrest_common::{Compliance, Evaluation, Verdict};
use aws_smithy_types::DateTime;

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[test]
fn long_multibyte_annotation_is_cut_on_a_character_boundary() {
    let text = "clé chiffrée é".repeat(40); // 2-byte characters throughout
    let cut = truncate_annotation(&text);
    assert!(utf16_len(&cut) <= MAX_ANNOTATION_CHARS);
    assert_eq!(cut.chars().count(), MAX_ANNOTATION_CHARS);
    assert!(cut.ends_with('…'));
    assert!(text.starts_with(cut.trim_end_matches('…')));

    // Characters outside the BMP count twice, as AWS counts them.
    let emoji = "🔐".repeat(300);
    let cut = truncate_annotation(&emoji);
    assert!(utf16_len(&cut) <= MAX_ANNOTATION_CHARS, "{}", utf16_len(&cut));
    assert_eq!(cut.chars().filter(|c| *c == '🔐').count(), 127);
}

#[test]
fn short_annotation_is_kept_and_empty_is_dropped() {
    let exact = "x".repeat(MAX_ANNOTATION_CHARS);
    assert_eq!(truncate_annotation(&exact), exact);
    let e = Evaluation::new(
        "AWS::EC2::Volume",
        "vol-1",
        Verdict::compliant(""),
        DateTime::from_secs(0),
    )
    .unwrap();
    assert_eq!(e.annotation, None);
    assert_eq!(e.compliance, Compliance::Compliant);
    let e = Evaluation::new(
        "AWS::EC2::Volume",
        "vol-1",
        Verdict::non_compliant("é".repeat(300)),
        DateTime::from_secs(0),
    )
    .unwrap();
    assert_eq!(e.annotation.unwrap().chars().count(), MAX_ANNOTATION_CHARS);
}

#[test]
fn resource_ids_beyond_the_limit_are_refused() {
    let long = "v".repeat(769);
    let err = Evaluation::new(
        "AWS::EC2::Volume",
        long,
        Verdict::compliant("ok"),
        DateTime::from_secs(0),
    )
    .unwrap_err();
    assert!(err.to_string().contains("1 to 768"), "{err}");
    let err = Evaluation::new("", "vol-1", Verdict::compliant("ok"), DateTime::from_secs(0)).unwrap_err();
    assert!(err.to_string().contains("resource type"), "{err}");
}

#[test]
fn compliance_names_are_configs() {
    assert_eq!(Compliance::NonCompliant.to_string(), "NON_COMPLIANT");
    assert_eq!(
        serde_json::to_string(&Compliance::NotApplicable).unwrap(),
        "\"NOT_APPLICABLE\""
    );
}
