//! `atrest`: the atrest rules outside Lambda.

mod aggregator;
mod asff;
mod diff;
mod error;
mod evaluate;
mod html;
mod inputs;
mod inventory;
mod item_batches;
mod item_stream;
mod junit;
mod ocsf;
mod output;
mod pack;
mod params_arg;
mod report;
mod rules_cmd;
mod sarif;
mod scan;
mod snapshot;
mod sources;
mod spill;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{EXIT_ERROR, EXIT_OK};

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
    /// Evaluate AWS Config snapshot or history files offline: files, directories, or s3://BUCKET/PREFIX/ (the latest snapshot per account and region).
    Snapshot(snapshot::Args),
    /// The compliance AWS Config recorded for the atrest rules, org-wide, from a Config aggregator (nothing re-evaluated).
    Report(aggregator::Args),
    /// What changed between two JSON reports: newly NON_COMPLIANT, fixed, gone (exit 1 when something is newly non-compliant).
    Diff(diff::Args),
    /// Write an AWS Config conformance pack template (YAML) for the deployed rule functions.
    Pack(pack::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules { json } => rules_cmd::run(json).map(|()| EXIT_OK),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Pack(args) => pack::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Report(args) => aggregator::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("atrest: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
