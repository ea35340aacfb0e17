//! `atrest`: the atrest rules outside Lambda.

mod evaluate;
mod inputs;
mod output;
mod rules_cmd;

use std::process::ExitCode;

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
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules { json } => rules_cmd::run(json).map(|()| EXIT_OK),
        Command::Evaluate(args) => evaluate::run(args),
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
    #[error("{path}: {source}")]
    Rule { path: String, source: atrest_common::Error },
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}
