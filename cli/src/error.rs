//! Everything that makes a command fail, and the exit codes.

/// Exit code when every evaluated resource is compliant or not applicable.
pub const EXIT_OK: u8 = 0;
/// Exit code when some resource is NON_COMPLIANT.
pub const EXIT_NON_COMPLIANT: u8 = 1;
/// Exit code on any error.
pub const EXIT_ERROR: u8 = 2;

/// Everything that makes a command fail (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid JSON: {source}")]
    Json { path: String, source: serde_json::Error },
    /// Bad JSON in a file read a piece at a time: where, as a byte offset.
    #[error("{path} is not valid JSON: {problem}")]
    Syntax { path: String, problem: String },
    #[error("{path}: {problem}")]
    Input { path: String, problem: String },
    #[error("unknown rule `{0}` (see `atrest rules`)")]
    UnknownRule(String),
    #[error("--param {0}")]
    Param(String),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Rule { path: String, source: atrest_common::Error },
    #[error("{0}")]
    Aws(String),
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
