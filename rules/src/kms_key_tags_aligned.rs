//! # kms-key-tags-aligned
//!
//! ## What it checks
//! A resource encrypted with a customer-managed KMS key and that key carry
//! the same values for each tag key of `tagKeys` (for example `CostCenter`):
//! the key that protects a cost centre's data belongs to that cost centre.
//! Covers EBS volumes, RDS DB instances and clusters, S3 buckets (default
//! encryption), Lambda functions (environment key), DynamoDB tables, EFS
//! file systems, Secrets Manager secrets, SNS topics, SQS queues,
//! CloudTrail trails, Kinesis data streams, ECR repositories and AWS Backup
//! vaults; the periodic sweep also covers SSM SecureString parameters and
//! CloudWatch Logs log groups with a key of their own (Config records
//! neither).
//!
//! COMPLIANT proves: the resource and its customer-managed key carry equal
//! values for every tag of `tagKeys`. It does not prove: that the tags are
//! true, nor anything about the key's policy or owner.
//!
//! ## Why
//! Key ownership follows data ownership: when a key's tags say who owns it,
//! its key policy, its costs and its deletion are decided by the same team
//! that owns the data (AWS KMS best practices: tag keys for ownership and
//! attribute-based access control). A key shared across cost centres, or
//! tagged for the wrong one, is a key whose custodian is unclear.
//!
//! ## Parameters
//! - `tagKeys` (required): comma-separated tag keys whose values must match,
//!   case-sensitively.
//!
//! ## NOT_APPLICABLE when
//! The resource is not encrypted with a customer-managed key (unencrypted,
//! SSE-S3, or an AWS-managed key: there are no key tags to align), was
//! deleted, is no longer recorded, or left the rule's scope.

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{ConfigurationItem, Error, Lookup, PciDss, Rule, RuleContext, RuleSpec, Sweep, Triggers, Verdict};

use crate::encryption_rule::sweep_stores;
use crate::resources::backup_vault::{self, TYPE as VAULT};
use crate::resources::cloudtrail_trail::{self, TYPE as TRAIL};
use crate::resources::dynamodb_table::{self, TYPE as TABLE};
use crate::resources::ebs_volume::{self, TYPE as VOLUME};
use crate::resources::ecr_repository::{self, TYPE as REPOSITORY};
use crate::resources::efs_file_system::{self, TYPE as FILE_SYSTEM};
use crate::resources::kinesis_stream::{self, TYPE as STREAM};
use crate::resources::lambda_function::{self, TYPE as FUNCTION};
use crate::resources::logs_log_group::{self, TYPE as LOG_GROUP};
use crate::resources::rds::{self, CLUSTER, INSTANCE};
use crate::resources::s3_bucket::{self, TYPE as BUCKET};
use crate::resources::secretsmanager_secret::{self, TYPE as SECRET};
use crate::resources::sns_topic::{self, TYPE as TOPIC};
use crate::resources::sqs_queue::{self, TYPE as QUEUE};
use crate::resources::ssm_parameter::{self, TYPE as PARAMETER};
use crate::resources::{note_key, store_of, Protected, Read, Store, Tags};

const TAG_KEYS: ParamSpec = ParamSpec {
    name: "tagKeys",
    kind: ParamKind::List,
    default: None,
    required: true,
    description: "Comma-separated tag keys whose values must be equal on the resource and its KMS key \
                  (case-sensitive), e.g. CostCenter,Application.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "kms-key-tags-aligned",
    description: "Resources and the customer-managed KMS keys that encrypt them carry the same values for the \
                  tagKeys tags.",
    evidence: "COMPLIANT proves: the resource and its customer-managed key carry equal values for every tag of `tagKeys`. It does not prove: that the tags are true, nor anything about the key's policy or owner.",
    resource_types: &[
        VOLUME,
        INSTANCE,
        CLUSTER,
        BUCKET,
        FUNCTION,
        PARAMETER,
        TABLE,
        FILE_SYSTEM,
        SECRET,
        TOPIC,
        QUEUE,
        LOG_GROUP,
        TRAIL,
        STREAM,
        REPOSITORY,
        VAULT,
    ],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[TAG_KEYS],
    own_iam_actions: &[
        "backup:ListBackupVaults",
        "backup:ListTags",
        "cloudtrail:DescribeTrails",
        "cloudtrail:ListTags",
        "dynamodb:DescribeTable",
        "dynamodb:ListTables",
        "dynamodb:ListTagsOfResource",
        "ec2:DescribeVolumes",
        "ecr:DescribeRepositories",
        "ecr:ListTagsForResource",
        "elasticfilesystem:DescribeFileSystems",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListStreams",
        "kinesis:ListTagsForStream",
        "kms:DescribeKey",
        "kms:ListResourceTags",
        "lambda:ListFunctions",
        "lambda:ListTags",
        "logs:DescribeLogGroups",
        "logs:ListTagsForResource",
        "rds:DescribeDBClusters",
        "rds:DescribeDBInstances",
        "s3:GetBucketTagging",
        "s3:GetEncryptionConfiguration",
        "s3:ListAllMyBuckets",
        "secretsmanager:ListSecrets",
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:ListTopics",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "sqs:ListQueues",
        "ssm:DescribeParameters",
        "ssm:ListTagsForResource",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.6"],
        v4_0: &["3.6.1", "3.7.6"],
    },
    timeout_seconds: 900,
    memory_mb: 128,
    remediation: None,
};

/// The stores of its resource types, in the order of `SPEC.resource_types`.
pub static STORES: &[&dyn Store] = &[
    &ebs_volume::STORE,
    &rds::INSTANCES,
    &rds::CLUSTERS,
    &s3_bucket::STORE,
    &lambda_function::STORE,
    &ssm_parameter::STORE,
    &dynamodb_table::STORE,
    &efs_file_system::STORE,
    &secretsmanager_secret::STORE,
    &sns_topic::STORE,
    &sqs_queue::STORE,
    &logs_log_group::STORE,
    &cloudtrail_trail::STORE,
    &kinesis_stream::STORE,
    &ecr_repository::STORE,
    &backup_vault::STORE,
];

/// The rule.
pub struct KmsKeyTagsAligned;

pub static RULE: KmsKeyTagsAligned = KmsKeyTagsAligned;

/// Compares the `tag_keys` of a resource and its key: the mismatches.
pub fn mismatches(tag_keys: &[String], resource: &Tags, key: &Tags) -> Vec<String> {
    tag_keys
        .iter()
        .filter_map(|k| match (resource.get(k), key.get(k)) {
            (None, None) => Some(format!("{k}: missing on the resource and the key")),
            (None, Some(_)) => Some(format!("{k}: missing on the resource")),
            (Some(_), None) => Some(format!("{k}: missing on the key")),
            (Some(r), Some(v)) if r != v => Some(format!("{k}: resource={r}, key={v}")),
            _ => None,
        })
        .collect()
}

/// Judges a resource's tags against those of the key that encrypts it:
/// `None` when the resource turned out to be gone.
pub async fn judge(resource: &dyn Protected, ctx: &RuleContext<'_>) -> Result<Option<Verdict>, Error> {
    let key_ref = match resource.key_asked(ctx).await? {
        Read::Found(Some(key_ref)) => key_ref,
        Read::Found(None) => {
            return Ok(Some(Verdict::not_applicable(
                "The resource is not encrypted with a KMS key.",
            )))
        }
        Read::Gone => return Ok(None),
        Read::Unreadable(why) => return Ok(Some(Verdict::non_compliant(why))),
    };
    let facts = match ctx.keys.key(&key_ref).await? {
        Lookup::Found(f) => f,
        Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
            return Ok(Some(Verdict::non_compliant(format!(
                "The resource's KMS key {key_ref} could not be verified: {reason}."
            ))))
        }
    };
    if !facts.is_customer_managed() {
        return Ok(Some(Verdict::not_applicable(
            "The resource is encrypted with an AWS-managed key: there are no key tags to align.",
        )));
    }
    let resource_tags = match resource.tags(ctx).await? {
        Read::Found(tags) => tags,
        Read::Gone => return Ok(None),
        Read::Unreadable(why) => return Ok(Some(Verdict::non_compliant(why))),
    };
    let key_tags = match ctx.keys.tags(&facts).await? {
        Lookup::Found(t) => t,
        Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
            return Ok(Some(Verdict::non_compliant(format!(
                "The tags of KMS key {} could not be read: {reason}.",
                facts.arn
            ))))
        }
    };
    let tag_keys = ctx.params.list(TAG_KEYS.name);
    let wrong = mismatches(tag_keys, &resource_tags, &key_tags);
    Ok(Some(if wrong.is_empty() {
        Verdict::compliant(format!("{} match KMS key {}.", tag_keys.join(", "), facts.arn))
    } else {
        Verdict::non_compliant(wrong.join("; "))
    }))
}

#[async_trait]
impl Rule for KmsKeyTagsAligned {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let store = store_of(STORES, &item.resource_type)
            .ok_or_else(|| Error::Unsupported(format!("rule {} reads no {} items", SPEC.id, item.resource_type)))?;
        let resource = store.read_item(item);
        note_key(ctx, &item.resource_type, &item.resource_id, &*resource);
        // An item's tags are recorded with it: it cannot turn out gone.
        Ok(judge(&*resource, ctx)
            .await?
            .unwrap_or_else(|| Verdict::not_applicable("The resource no longer exists.")))
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        sweep_stores(STORES, ctx, move |store, resource| async move {
            if !store.sweeps_unkeyed() && resource.key().is_none() {
                return Ok(None);
            }
            judge(&*resource, ctx).await
        })
    }
}
