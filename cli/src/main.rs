//! `atrest`: the atrest rules outside Lambda.

mod evaluate;
mod html;
mod inputs;
mod output;
mod pack;
mod params_arg;
mod rules_cmd;
mod scan;
mod snapshot;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use atrest_common::Compliance;
use clap::{Parser, Subcommand, ValueEnum};

/// Exit code when every evaluated resource is compliant or not applicable.
const EXIT_OK: u8 = 0;
/// Exit code when some resource is NON_COMPLIANT.
const EXIT_NON_COMPLIANT: u8 = 1;
/// Exit code on any error.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "atrest",
    version,
    about = "AWS Config rules proving data at rest is protected by customer-managed KMS keys"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the rules: id, resource types, triggers, parameters, IAM actions, PCI DSS references.
    Rules {
        /// The catalogue as JSON (the rule manifest).
        #[arg(long)]
        json: bool,
    },
    /// Run a rule's Lambda handler path on Config rule event files (dry run by default).
    Evaluate(evaluate::Args),
    /// Sweep a live account, read-only, through the rules' periodic paths.
    Scan(scan::Args),
    /// Evaluate AWS Config snapshot or history files offline (no AWS call).
    Snapshot(snapshot::Args),
    /// Write an AWS Config conformance pack template (YAML) for the deployed rule functions.
    Pack(pack::Args),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Junit,
    Sarif,
    Html,
}

/// Where and how a command writes its report.
#[derive(clap::Args)]
pub struct OutputArgs {
    /// Output format (default: table on a terminal, JSON otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the report to this file (whole, or not at all) instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        self.format
            .unwrap_or(if std::io::stdout().is_terminal() && self.output.is_none() {
                Format::Table
            } else {
                Format::Json
            })
    }
}

/// 1 when something is NON_COMPLIANT, else 0.
pub fn exit_code(findings: &[output::Finding]) -> u8 {
    if findings.iter().any(|f| f.compliance == Compliance::NonCompliant) {
        EXIT_NON_COMPLIANT
    } else {
        EXIT_OK
    }
}

/// The current time, ISO 8601.
pub fn now_text() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules { json } => rules_cmd::run(json).map(|()| EXIT_OK),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Pack(args) => pack::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("atrest: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Everything that makes a command fail (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} is not valid JSON: {source}")]
    Json { path: String, source: serde_json::Error },
    #[error("{path}: {problem}")]
    Input { path: String, problem: String },
    #[error("unknown rule `{0}` (see `atrest rules`)")]
    UnknownRule(String),
    #[error("--param {0}")]
    Param(String),
    #[error("{path}: {source}")]
    Rule { path: String, source: atrest_common::Error },
    #[error("{0}")]
    Aws(String),
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
