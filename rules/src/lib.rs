//! # atrest-rules
//!
//! The atrest AWS Config rules. [`ALL`] is the registry: the single source
//! of the Lambda binaries, the rule manifest, the CDK stack and the README
//! catalogue. Each rule is a module (its spec, doc comment and judgement)
//! and a binary `src/bin/<rule-id>.rs` that only calls `serve`.

use atrest_common::Rule;

pub mod key_check;

#[cfg(feature = "ec2")]
pub mod ebs_volume_encrypted;

/// Every rule built into this crate (per its SDK features).
pub static ALL: &[&dyn Rule] = &[
    #[cfg(feature = "ec2")]
    &ebs_volume_encrypted::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    ALL.iter().copied().find(|r| r.spec().id == id)
}
