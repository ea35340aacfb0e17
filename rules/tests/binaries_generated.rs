//! The Lambda binaries come from the registry: each rule of
//! `atrest_rules::ALL` has `src/bin/<rule-id>.rs` (which only calls
//! `serve`) and a `[[bin]]` entry in `rules/Cargo.toml` whose
//! `required-features` are the SDK features of the services its IAM actions
//! name; there is no other binary. Both are generated — after adding a rule
//! to the registry, run
//! `ATREST_BLESS=1 cargo test -p atrest-rules --test binaries_generated` —
//! and this test refuses any drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use atrest_common::RuleSpec;

const BINS_START: &str = "# Generated from the registry by rules/tests/binaries_generated.rs: do not edit by hand.\n";

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The services whose calls need no feature (the Config contract and key
/// look-ups every rule makes).
const ALWAYS_LINKED: [&str; 2] = ["config", "kms"];

/// The cargo features a rule's binary needs: one per service of its IAM
/// actions beyond [`ALWAYS_LINKED`].
fn features(spec: &RuleSpec) -> BTreeSet<&'static str> {
    spec.own_iam_actions
        .iter()
        .filter_map(|a| a.split(':').next())
        .filter(|service| !ALWAYS_LINKED.contains(service))
        .collect()
}

fn bin_file(spec: &RuleSpec) -> String {
    format!(
        "//! Lambda function of the `{id}` Config rule.\n\nfn main() -> Result<(), atrest_common::lambda::LambdaError> {{\n    \
         atrest_common::lambda::serve(&atrest_rules::{module}::RULE)\n}}\n",
        id = spec.id,
        module = spec.id.replace('-', "_")
    )
}

fn bin_entries() -> String {
    let mut text = String::from(BINS_START);
    for rule in atrest_rules::ALL {
        let spec = rule.spec();
        let features: Vec<String> = features(spec).iter().map(|f| format!("\"{f}\"")).collect();
        text.push_str(&format!(
            "\n[[bin]]\nname = \"{id}\"\npath = \"src/bin/{id}.rs\"\nrequired-features = [{}]\n",
            features.join(", "),
            id = spec.id
        ));
    }
    text
}

fn bless() -> bool {
    std::env::var_os("ATREST_BLESS").is_some()
}

#[test]
fn every_rule_has_its_generated_binary_and_no_other_binary_exists() {
    let dir = crate_dir().join("src/bin");
    let mut expected = BTreeSet::new();
    for rule in atrest_rules::ALL {
        let spec = rule.spec();
        let path = dir.join(format!("{}.rs", spec.id));
        let want = bin_file(spec);
        if bless() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            have, want,
            "{} is not the generated binary of {}: run `ATREST_BLESS=1 cargo test -p atrest-rules --test binaries_generated`",
            path.display(),
            spec.id
        );
        expected.insert(format!("{}.rs", spec.id));
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let extra: Vec<&String> = present.difference(&expected).collect();
    assert!(extra.is_empty(), "binaries of no registered rule: {extra:?}");
}

#[test]
fn the_bin_entries_of_the_manifest_are_generated_from_the_registry() {
    let path = crate_dir().join("Cargo.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let head = manifest.split(BINS_START).next().unwrap_or_default();
    assert!(
        !head.contains("[[bin]]"),
        "rules/Cargo.toml has [[bin]] entries outside the generated section"
    );
    // Every feature a binary requires is one the crate declares.
    let declared: BTreeSet<&str> = head
        .split("[features]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    for rule in atrest_rules::ALL {
        for feature in features(rule.spec()) {
            assert!(
                declared.contains(feature),
                "{} calls {feature}, for which rules/Cargo.toml has no feature",
                rule.spec().id
            );
        }
    }
    let want = format!("{}{}", head.trim_end_matches('\n').to_owned() + "\n\n", bin_entries());
    if bless() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        have, want,
        "rules/Cargo.toml's [[bin]] entries are stale: run `ATREST_BLESS=1 cargo test -p atrest-rules --test binaries_generated`"
    );
}
