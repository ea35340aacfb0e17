//! # atrest-common
//!
//! The AWS Config custom-rule contract, shared by every atrest rule:
//! everything a rule needs except its own judgement.
//!
//! Data flows one way: a Lambda event is decoded into an
//! [`Invocation`](event::Invocation); [`run`](run::run) applies the contract
//! (left scope, deleted items, out-of-scope types, oversized items, periodic
//! sweeps, stale results) around the rule's [`Rule`](rule::Rule)
//! implementation; the resulting [`Evaluation`](evaluation::Evaluation)s go
//! to a [`EvaluationSink`](report::EvaluationSink): AWS Config, or a dry run.

pub mod aws;
pub mod error;
pub mod evaluation;
pub mod event;
pub mod item;
pub mod keys;
pub mod lambda;
pub mod params;
pub mod policy;
pub mod prepare;
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
