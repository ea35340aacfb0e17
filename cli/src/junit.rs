//! The JUnit XML report: one test suite per rule, one test case per rule ×
//! resource (failures for NON_COMPLIANT, skipped for NOT_APPLICABLE),
//! written with quick-xml (which escapes every attribute and text). What
//! could not be assessed is a last suite, `not-assessed`, of test cases in
//! error (JUnit's `<error>`: the test could not run), never left out.

use std::io::Write;

use atrest_common::Compliance;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use crate::report::{Finding, Report, RunError};

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let failures = |id: &str| {
        report
            .findings
            .iter()
            .filter(|f| f.rule == id && f.compliance == Compliance::NonCompliant)
            .count()
    };
    let total_failures: usize = report.rules.iter().map(|s| failures(s.id)).sum();
    let tests = (report.findings.len() + report.errors.len()).to_string();
    let errors = report.errors.len().to_string();
    let mut suites = w
        .create_element("testsuites")
        .with_attribute(("name", "atrest"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", total_failures.to_string().as_str()));
    if !report.errors.is_empty() {
        suites = suites.with_attribute(("errors", errors.as_str()));
    }
    suites.write_inner_content(|w| {
        for spec in &report.rules {
            let cases: Vec<&Finding> = report.findings.iter().filter(|f| f.rule == spec.id).collect();
            let skipped = cases
                .iter()
                .filter(|f| f.compliance == Compliance::NotApplicable)
                .count();
            w.create_element("testsuite")
                .with_attribute(("name", spec.id))
                .with_attribute(("tests", cases.len().to_string().as_str()))
                .with_attribute(("failures", failures(spec.id).to_string().as_str()))
                .with_attribute(("skipped", skipped.to_string().as_str()))
                .write_inner_content(|w| {
                    for f in cases {
                        test_case(w, spec.id, f)?;
                    }
                    Ok::<_, std::io::Error>(())
                })?;
        }
        if !report.errors.is_empty() {
            w.create_element("testsuite")
                .with_attribute(("name", "not-assessed"))
                .with_attribute(("tests", errors.as_str()))
                .with_attribute(("failures", "0"))
                .with_attribute(("errors", errors.as_str()))
                .write_inner_content(|w| {
                    for e in report.errors {
                        not_assessed(w, e)?;
                    }
                    Ok::<_, std::io::Error>(())
                })?;
        }
        Ok::<_, std::io::Error>(())
    })?;
    w.into_inner().write_all(b"\n")
}

/// What could not be assessed, as a test case that could not run.
fn not_assessed<W: Write>(w: &mut Writer<W>, e: &RunError) -> std::io::Result<()> {
    let name = e.place();
    w.create_element("testcase")
        .with_attribute(("classname", e.rule.as_deref().unwrap_or("atrest")))
        .with_attribute(("name", name.as_str()))
        .write_inner_content(|w| {
            w.create_element("error")
                .with_attribute(("type", "NOT_ASSESSED"))
                .with_attribute(("message", e.reason.as_str()))
                .write_text_content(BytesText::new(&e.reason))?;
            Ok::<_, std::io::Error>(())
        })?;
    Ok(())
}

fn test_case<W: Write>(w: &mut Writer<W>, rule: &str, f: &Finding) -> std::io::Result<()> {
    let name = format!("{} {}", f.resource_type, f.resource_id);
    let annotation = f.annotation.as_deref().unwrap_or("");
    let case = w
        .create_element("testcase")
        .with_attribute(("classname", rule))
        .with_attribute(("name", name.as_str()));
    match f.compliance {
        Compliance::Compliant => {
            case.write_empty()?;
        }
        Compliance::NonCompliant => {
            case.write_inner_content(|w| {
                w.create_element("failure")
                    .with_attribute(("type", "NON_COMPLIANT"))
                    .with_attribute(("message", annotation))
                    .write_text_content(BytesText::new(annotation))?;
                Ok::<_, std::io::Error>(())
            })?;
        }
        Compliance::NotApplicable => {
            let message = format!("NOT_APPLICABLE: {annotation}");
            case.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
                Ok::<_, std::io::Error>(())
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use atrest_common::{Evaluation, Verdict};
    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::*;

    /// Markup in a resource id or an annotation is text, not XML: the
    /// report parses, and gives back exactly what was written.
    #[test]
    fn markup_in_findings_is_escaped_and_read_back_unchanged() {
        let hostile = r#"a<b>&"c'd</testcase>"#;
        let evaluation = Evaluation::new(
            "AWS::S3::Bucket",
            hostile,
            Verdict::non_compliant(hostile),
            aws_smithy_types::DateTime::from_secs(0),
        )
        .unwrap();
        let findings = [Finding::new("s3-bucket-encrypted", evaluation, None, None)];
        let rule = atrest_rules::find("s3-bucket-encrypted").unwrap().spec();
        let report = Report::new(&findings, vec![rule], "test".into());
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();

        let text = String::from_utf8(out).unwrap();
        let mut reader = Reader::from_str(&text);
        let (mut names, mut messages, mut texts) = (Vec::new(), Vec::new(), Vec::new());
        let mut text = String::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Eof => break,
                Event::Start(e) | Event::Empty(e) => {
                    text.clear();
                    for a in e.attributes() {
                        let a = a.unwrap();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned();
                        match a.key.0 {
                            "name" if e.name().0 == "testcase" => names.push(value),
                            "message" => messages.push(value),
                            _ => {}
                        }
                    }
                }
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => text.push(match r.as_ref() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unexpected entity &{other};"),
                }),
                Event::End(e) if e.name().0 == "failure" => texts.push(std::mem::take(&mut text)),
                Event::End(_) => text.clear(),
                _ => {}
            }
        }
        assert_eq!(names, [format!("AWS::S3::Bucket {hostile}")]);
        assert_eq!(messages, [hostile]);
        assert_eq!(texts, [hostile]);
    }

    /// An account that could not be read is a test case in error, counted
    /// at the top, not a suite that silently passes.
    #[test]
    fn what_could_not_be_assessed_is_a_test_case_in_error() {
        let evaluation = Evaluation::new(
            "AWS::EC2::Volume",
            "vol-1",
            Verdict::compliant("vol-1 is encrypted"),
            aws_smithy_types::DateTime::from_secs(0),
        )
        .unwrap();
        let findings = [Finding::new("ebs-volume-encrypted", evaluation, None, None)];
        let errors = [RunError {
            account_id: Some("222222222222".into()),
            region: None,
            rule: None,
            reason: "AssumeRole: AccessDenied".into(),
        }];
        let rule = atrest_rules::find("ebs-volume-encrypted").unwrap().spec();
        let report = Report::new(&findings, vec![rule], "test".into()).with_errors(&errors);
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#"<testsuites name="atrest" tests="2" failures="0" errors="1">"#),
            "{text}"
        );
        assert!(
            text.contains(r#"<testsuite name="not-assessed" tests="1" failures="0" errors="1">"#),
            "{text}"
        );
        assert!(
            text.contains(r#"<testcase classname="atrest" name="account 222222222222">"#),
            "{text}"
        );
        assert!(
            text.contains(r#"<error type="NOT_ASSESSED" message="AssumeRole: AccessDenied">"#),
            "{text}"
        );
    }
}
