//! # atrest-common
//!
//! The AWS Config custom-rule contract, shared by every atrest rule:
//! everything a rule needs except its own judgement.
//!
//! ## One event, from binary to PutEvaluations
//!
//! `rules/src/bin/<rule-id>.rs` calls [`lambda::serve`] with the rule from
//! the registry. For each event, [`lambda::Handler`] decodes it
//! ([`event`]: the Config event into an [`Invocation`]), checks it against
//! the rule's spec ([`prepare`]: parameters, result token, execution role),
//! finds the account's AWS access and cached key facts ([`aws`], [`keys`])
//! and calls [`run()`](run::run): a change is judged by the rule's
//! `evaluate_item` ([`rule`]) unless the contract decides it first (left
//! scope, deleted, out of scope; an oversized item is fetched first); a
//! scheduled event drives the rule's sweep ([`sweep`]: pages of resources,
//! each judged only while time is left), then retires stale results
//! ([`stale`]). Every verdict becomes an [`Evaluation`] ([`evaluation`]) in
//! the [`Outbox`] ([`report`]), which de-duplicates, dates and counts them,
//! and the [`ConfigReporter`] sends them in batches of 100 with
//! PutEvaluations. `atrest evaluate`, `scan` and `snapshot` take the same
//! path from [`prepare`] or [`run`](run::run) on, into a dry run.

pub mod aws;
pub mod drive;
pub mod error;
pub mod evaluation;
pub mod event;
pub mod iam;
pub mod item;
pub mod keys;
pub mod lambda;
pub mod params;
pub mod policy;
pub mod prepare;
pub mod remediation;
pub mod report;
pub mod rule;
pub mod run;
pub mod stale;
pub mod sweep;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{AwsError, AwsErrorKind, Error};
pub use evaluation::{Compliance, Evaluation, Verdict};
pub use event::{Invocation, Trigger};
pub use item::ConfigurationItem;
pub use keys::{KeyDirectory, KeyFacts, KeyManager, Lookup};
pub use params::{ParamKind, ParamSpec, Parameters};
pub use prepare::Prepared;
pub use report::{ConfigReporter, Deadline, DryRun, EvaluationSink, Outbox};
pub use rule::{PciDss, Rule, RuleContext, RuleSpec, Triggers};
pub use run::{run, run_until, Environment, Outcome};
pub use sweep::{Found, Sweep};
