//! What a rule concludes about one resource.

use aws_smithy_types::DateTime;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The largest annotation PutEvaluations accepts, in characters.
pub const MAX_ANNOTATION_CHARS: usize = 256;
/// The largest ComplianceResourceId PutEvaluations accepts.
pub const MAX_RESOURCE_ID_CHARS: usize = 768;
/// The largest ComplianceResourceType PutEvaluations accepts.
pub const MAX_RESOURCE_TYPE_CHARS: usize = 256;

/// The compliance a custom rule may report (INSUFFICIENT_DATA is rejected
/// by PutEvaluations for custom rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Compliant,
    NonCompliant,
    NotApplicable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl std::fmt::Display for Compliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's judgement of one resource, before it is addressed and dated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub compliance: Compliance,
    pub annotation: Option<String>,
}

impl Verdict {
    pub fn compliant(annotation: impl Into<String>) -> Self {
        Self::new(Compliance::Compliant, annotation)
    }
    pub fn non_compliant(annotation: impl Into<String>) -> Self {
        Self::new(Compliance::NonCompliant, annotation)
    }
    pub fn not_applicable(annotation: impl Into<String>) -> Self {
        Self::new(Compliance::NotApplicable, annotation)
    }
    fn new(compliance: Compliance, annotation: impl Into<String>) -> Self {
        let annotation = annotation.into();
        Verdict {
            compliance,
            annotation: (!annotation.is_empty()).then_some(annotation),
        }
    }
}

/// One evaluation, as PutEvaluations takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub resource_type: String,
    pub resource_id: String,
    pub compliance: Compliance,
    /// At most [`MAX_ANNOTATION_CHARS`] characters, never empty.
    pub annotation: Option<String>,
    pub ordering_timestamp: DateTime,
}

impl Evaluation {
    /// Addresses and dates a verdict; the annotation is truncated to the
    /// PutEvaluations limit on a character boundary.
    pub fn new(
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
        verdict: Verdict,
        ordering_timestamp: DateTime,
    ) -> Result<Self, Error> {
        let resource_type = resource_type.into();
        let resource_id = resource_id.into();
        if resource_type.is_empty() || resource_type.chars().count() > MAX_RESOURCE_TYPE_CHARS {
            return Err(Error::Evaluation(format!(
                "resource type must have 1 to {MAX_RESOURCE_TYPE_CHARS} characters: `{resource_type}`"
            )));
        }
        if resource_id.is_empty() || resource_id.chars().count() > MAX_RESOURCE_ID_CHARS {
            return Err(Error::Evaluation(format!(
                "resource id of a {resource_type} must have 1 to {MAX_RESOURCE_ID_CHARS} characters"
            )));
        }
        Ok(Evaluation {
            resource_type,
            resource_id,
            compliance: verdict.compliance,
            annotation: verdict
                .annotation
                .map(|a| if fits(&a) { a } else { truncate_annotation(&a) })
                .filter(|a| !a.is_empty()),
            ordering_timestamp,
        })
    }
}

/// Whether `text` is within [`MAX_ANNOTATION_CHARS`] UTF-16 code units
/// (never more than its UTF-8 bytes, so short text needs no count).
fn fits(text: &str) -> bool {
    text.len() <= MAX_ANNOTATION_CHARS || text.chars().map(char::len_utf16).sum::<usize>() <= MAX_ANNOTATION_CHARS
}

/// Truncates to [`MAX_ANNOTATION_CHARS`] characters on a character boundary,
/// ending with `…` when something was cut. Characters outside the Basic
/// Multilingual Plane count twice (AWS counts UTF-16 code units).
pub fn truncate_annotation(text: &str) -> String {
    if fits(text) {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        // Leave room for the ellipsis (one unit).
        if used + c.len_utf16() > MAX_ANNOTATION_CHARS - 1 {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}
