//! # atrest-rules
//!
//! The atrest AWS Config rules. [`ALL`] is the registry: the single source
//! of the Lambda binaries, the rule manifest, the CDK stack and the README
//! catalogue. Each rule is a module (its spec, doc comment and judgement)
//! and a binary `src/bin/<rule-id>.rs` that only calls `serve`. A rule whose
//! AWS calls need a service's SDK sits behind that SDK's cargo feature.

use atrest_common::Rule;

pub mod encryption_rule;
pub mod key_check;
pub mod key_rules;
pub mod monitoring;
pub mod resources;

#[cfg(feature = "backup")]
pub mod backup_vault_encrypted;
#[cfg(feature = "cloudtrail")]
pub mod cloudtrail_trail_encrypted;
#[cfg(feature = "dynamodb")]
pub mod dynamodb_table_encrypted;
#[cfg(feature = "ec2")]
pub mod ebs_encryption_by_default;
#[cfg(feature = "ec2")]
pub mod ebs_volume_encrypted;
#[cfg(feature = "ecr")]
pub mod ecr_repository_encrypted;
#[cfg(feature = "elasticfilesystem")]
pub mod efs_file_system_encrypted;
#[cfg(feature = "iam")]
pub mod iam_policy_no_kms_full_access;
#[cfg(feature = "kinesis")]
pub mod kinesis_stream_encrypted;
pub mod kms_alias_naming;
#[cfg(all(feature = "cloudtrail", feature = "events", feature = "logs", feature = "cloudwatch"))]
pub mod kms_critical_calls_monitored;
pub mod kms_key_policy_delegation_constrained;
pub mod kms_key_policy_mfa_critical_actions;
pub mod kms_key_policy_no_untrusted_access;
pub mod kms_key_policy_separation_of_duties;
pub mod kms_key_rotation_enabled;
#[cfg(all_stores)]
pub mod kms_key_tags_aligned;
pub mod kms_key_usable;
#[cfg(feature = "lambda")]
pub mod lambda_env_encrypted;
#[cfg(feature = "logs")]
pub mod logs_log_group_encrypted;
#[cfg(feature = "rds")]
pub mod rds_storage_encrypted;
#[cfg(feature = "s3")]
pub mod s3_bucket_encrypted;
#[cfg(feature = "secretsmanager")]
pub mod secretsmanager_secret_encrypted;
#[cfg(feature = "sns")]
pub mod sns_topic_encrypted;
#[cfg(feature = "sqs")]
pub mod sqs_queue_encrypted;
#[cfg(feature = "ssm")]
pub mod ssm_parameter_encrypted;

/// Every rule built into this crate (per its SDK features).
pub static ALL: &[&dyn Rule] = &[
    #[cfg(feature = "ec2")]
    &ebs_volume_encrypted::RULE,
    #[cfg(feature = "rds")]
    &rds_storage_encrypted::RULE,
    #[cfg(feature = "s3")]
    &s3_bucket_encrypted::RULE,
    #[cfg(feature = "ssm")]
    &ssm_parameter_encrypted::RULE,
    #[cfg(feature = "lambda")]
    &lambda_env_encrypted::RULE,
    #[cfg(feature = "dynamodb")]
    &dynamodb_table_encrypted::RULE,
    #[cfg(feature = "elasticfilesystem")]
    &efs_file_system_encrypted::RULE,
    #[cfg(feature = "secretsmanager")]
    &secretsmanager_secret_encrypted::RULE,
    #[cfg(feature = "sns")]
    &sns_topic_encrypted::RULE,
    #[cfg(feature = "sqs")]
    &sqs_queue_encrypted::RULE,
    #[cfg(feature = "logs")]
    &logs_log_group_encrypted::RULE,
    #[cfg(feature = "cloudtrail")]
    &cloudtrail_trail_encrypted::RULE,
    #[cfg(feature = "kinesis")]
    &kinesis_stream_encrypted::RULE,
    #[cfg(feature = "ecr")]
    &ecr_repository_encrypted::RULE,
    #[cfg(feature = "backup")]
    &backup_vault_encrypted::RULE,
    &kms_key_rotation_enabled::RULE,
    #[cfg(all_stores)]
    &kms_key_tags_aligned::RULE,
    &kms_key_policy_separation_of_duties::RULE,
    &kms_key_policy_no_untrusted_access::RULE,
    &kms_key_policy_mfa_critical_actions::RULE,
    &kms_key_policy_delegation_constrained::RULE,
    #[cfg(feature = "iam")]
    &iam_policy_no_kms_full_access::RULE,
    &kms_alias_naming::RULE,
    &kms_key_usable::RULE,
    #[cfg(all(feature = "cloudtrail", feature = "events", feature = "logs", feature = "cloudwatch"))]
    &kms_critical_calls_monitored::RULE,
    #[cfg(feature = "ec2")]
    &ebs_encryption_by_default::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    ALL.iter().copied().find(|r| r.spec().id == id)
}
