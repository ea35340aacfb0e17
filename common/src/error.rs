//! The one error type of the shared crate, and how AWS SDK errors are sorted
//! into what a rule must do about them.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Everything that can stop an invocation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Lambda event is not a usable AWS Config rule event.
    #[error("malformed Config event: {0}")]
    Event(String),
    /// A rule parameter is unknown, missing or malformed.
    #[error("rule parameter `{name}`: {problem}")]
    Parameter { name: String, problem: String },
    /// A configuration item lacks a field the contract needs.
    #[error("configuration item {resource_type} {resource_id}: {problem}")]
    Item {
        resource_type: String,
        resource_id: String,
        problem: String,
    },
    /// An AWS call failed in a way the rule cannot turn into a verdict.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Some evaluations could not be delivered to AWS Config.
    #[error("PutEvaluations: {failed} evaluation(s) still rejected after {attempts} attempt(s): {detail}")]
    Delivery {
        failed: usize,
        attempts: u32,
        detail: String,
    },
    /// An evaluation breaks a PutEvaluations limit.
    #[error("invalid evaluation: {0}")]
    Evaluation(String),
    /// The invocation's time ran short during a sweep.
    #[error(
        "the invocation's time runs out: {reported} evaluation(s) reported, {left} resource(s) of the current \
         listing page and any further pages left unevaluated; raise the function's timeout"
    )]
    Deadline { reported: usize, left: usize },
    /// The rule cannot do this kind of work (for instance a periodic sweep
    /// without AWS access).
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    pub fn parameter(name: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Parameter {
            name: name.into(),
            problem: problem.into(),
        }
    }

    /// Whether running the same invocation again may succeed (throttling,
    /// 5xx, time-outs, undelivered evaluations): Config retries those.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Aws(e) => e.kind.is_retryable(),
            Error::Delivery { .. } => true,
            _ => false,
        }
    }

    /// A short, stable name for the kind of failure, used as the Lambda
    /// error type.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Error::Event(_) => "BadEvent",
            Error::Parameter { .. } => "BadParameter",
            Error::Item { .. } => "BadConfigurationItem",
            Error::Aws(e) => match e.kind {
                AwsErrorKind::AccessDenied => "AccessDenied",
                AwsErrorKind::NotFound => "NotFound",
                AwsErrorKind::Throttling => "Throttling",
                AwsErrorKind::Transient => "Transient",
                AwsErrorKind::Other => "AwsError",
            },
            Error::Delivery { .. } => "DeliveryFailed",
            Error::Evaluation(_) => "InvalidEvaluation",
            Error::Unsupported(_) => "Unsupported",
            Error::Deadline { .. } => "DeadlineExceeded",
        }
    }
}

/// What a failed AWS call means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The caller may not read this (AccessDenied, UnauthorizedOperation).
    AccessDenied,
    /// The resource does not exist.
    NotFound,
    /// The service throttled the caller beyond the SDK's retries.
    Throttling,
    /// 5xx, time-outs, connection failures, unreadable responses.
    Transient,
    /// Anything else (validation errors, bad credentials, ...).
    Other,
}

impl AwsErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, AwsErrorKind::Throttling | AwsErrorKind::Transient)
    }
}

/// A failed AWS call, with the service and operation that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service}:{operation} failed ({kind:?}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    /// Sorts an SDK error by its error code and HTTP status.
    pub fn from_sdk<E>(service: &'static str, operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (kind, code, message) = match err {
            SdkError::ServiceError(ctx) => {
                let e = ctx.err();
                let code = e.code().map(str::to_owned);
                let message = e.message().unwrap_or("no message").to_owned();
                let kind = match classify_code(code.as_deref()) {
                    // Without a recognised code, the HTTP status still tells.
                    AwsErrorKind::Other => classify_status(ctx.raw().status().as_u16()),
                    kind => kind,
                };
                (kind, code, message)
            }
            SdkError::TimeoutError(_) => (AwsErrorKind::Transient, None, "timed out".to_owned()),
            SdkError::DispatchFailure(f) => (
                AwsErrorKind::Transient,
                None,
                format!(
                    "request could not be sent: {}",
                    error_chain(f.as_connector_error().map(|c| c as &(dyn std::error::Error + 'static)))
                ),
            ),
            SdkError::ResponseError(_) => (
                AwsErrorKind::Transient,
                None,
                format!("unreadable response: {}", error_chain(Some(err))),
            ),
            SdkError::ConstructionFailure(_) => (
                AwsErrorKind::Other,
                None,
                format!("request could not be built: {}", error_chain(Some(err))),
            ),
            _ => (AwsErrorKind::Other, None, error_chain(Some(err))),
        };
        AwsError {
            service,
            operation,
            kind,
            code,
            message,
        }
    }
}

fn error_chain(err: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut parts = Vec::new();
    let mut next = err;
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    if parts.is_empty() {
        "unknown error".to_owned()
    } else {
        parts.join(": ")
    }
}

/// Sorts an HTTP status of an error response.
pub fn classify_status(status: u16) -> AwsErrorKind {
    match status {
        403 => AwsErrorKind::AccessDenied,
        404 => AwsErrorKind::NotFound,
        429 => AwsErrorKind::Throttling,
        500..=599 => AwsErrorKind::Transient,
        _ => AwsErrorKind::Other,
    }
}

/// Sorts an AWS error code (JSON, query, EC2 and S3 protocols alike).
pub fn classify_code(code: Option<&str>) -> AwsErrorKind {
    let Some(code) = code else {
        return AwsErrorKind::Other;
    };
    const THROTTLING: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceededException",
        "PriorRequestNotComplete",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
    ];
    const TRANSIENT: &[&str] = &[
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "RequestTimeout",
        "RequestTimeoutException",
        "Unavailable",
    ];
    if THROTTLING.contains(&code) {
        AwsErrorKind::Throttling
    } else if TRANSIENT.contains(&code) {
        AwsErrorKind::Transient
    } else if code.starts_with("AccessDenied")
        || code == "UnauthorizedOperation"
        || code == "AuthorizationError"
        || code == "Forbidden"
    {
        AwsErrorKind::AccessDenied
    } else if code.ends_with("NotFoundException")
        || code.ends_with("NotFound")
        || code.ends_with(".NotFound")
        || code.starts_with("NoSuch")
        // SQS (query and JSON protocols).
        || code == "AWS.SimpleQueueService.NonExistentQueue"
        || code == "QueueDoesNotExist"
    {
        AwsErrorKind::NotFound
    } else {
        AwsErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_every_protocol_are_sorted() {
        for c in ["ThrottlingException", "Throttling", "RequestLimitExceeded", "SlowDown"] {
            assert_eq!(classify_code(Some(c)), AwsErrorKind::Throttling, "{c}");
        }
        for c in ["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"] {
            assert_eq!(classify_code(Some(c)), AwsErrorKind::AccessDenied, "{c}");
        }
        for c in [
            "NotFoundException",
            "InvalidVolume.NotFound",
            "NoSuchBucket",
            "DBInstanceNotFound",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "ResourceNotFoundException",
            "RepositoryNotFoundException",
            "TrailNotFoundException",
            "FileSystemNotFound",
        ] {
            assert_eq!(classify_code(Some(c)), AwsErrorKind::NotFound, "{c}");
        }
        assert_eq!(classify_code(Some("KMSInternalException")), AwsErrorKind::Transient);
        assert_eq!(classify_code(Some("ValidationException")), AwsErrorKind::Other);
        assert_eq!(classify_code(None), AwsErrorKind::Other);
        assert_eq!(classify_status(403), AwsErrorKind::AccessDenied);
        assert_eq!(classify_status(404), AwsErrorKind::NotFound);
        assert_eq!(classify_status(429), AwsErrorKind::Throttling);
        assert_eq!(classify_status(503), AwsErrorKind::Transient);
        assert_eq!(classify_status(400), AwsErrorKind::Other);
        assert!(AwsErrorKind::Throttling.is_retryable());
        assert!(!AwsErrorKind::AccessDenied.is_retryable());
    }
}
