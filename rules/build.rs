//! Sets `cfg(all_stores)` when every store's SDK feature is on: the
//! features `kms-key-tags-aligned` needs, which judges every store (one list
//! here, instead of one per `cfg` in `src/lib.rs`).

/// The features of the stores' SDKs (rules/Cargo.toml).
const STORE_FEATURES: &[&str] = &[
    "ec2",
    "rds",
    "s3",
    "ssm",
    "lambda",
    "dynamodb",
    "elasticfilesystem",
    "secretsmanager",
    "sns",
    "sqs",
    "logs",
    "cloudtrail",
    "kinesis",
    "ecr",
    "backup",
];

fn main() {
    println!("cargo::rustc-check-cfg=cfg(all_stores)");
    let on = |f: &str| std::env::var_os(format!("CARGO_FEATURE_{}", f.to_uppercase())).is_some();
    if STORE_FEATURES.iter().all(|f| on(f)) {
        println!("cargo::rustc-cfg=all_stores");
    }
}
