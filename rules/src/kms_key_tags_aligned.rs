//! # kms-key-tags-aligned
//!
//! ## What it checks
//! A resource encrypted with a customer-managed KMS key and that key carry
//! the same values for each tag key of `tagKeys` (for example `CostCenter`):
//! the key that protects a cost centre's data belongs to that cost centre.
//! Covers EBS volumes, RDS DB instances and clusters, S3 buckets (default
//! encryption) and Lambda functions (environment key); the periodic sweep
//! also covers SSM SecureString parameters.
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

use std::collections::BTreeMap;

use async_trait::async_trait;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{
    AwsError, AwsErrorKind, ConfigurationItem, Error, Lookup, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers,
    Verdict,
};

use crate::{ebs_volume_encrypted, rds_storage_encrypted, s3_bucket_encrypted};

const VOLUME: &str = "AWS::EC2::Volume";
const INSTANCE: &str = "AWS::RDS::DBInstance";
const CLUSTER: &str = "AWS::RDS::DBCluster";
const BUCKET: &str = "AWS::S3::Bucket";
const FUNCTION: &str = "AWS::Lambda::Function";
const PARAMETER: &str = "AWS::SSM::Parameter";

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
    resource_types: &[VOLUME, INSTANCE, CLUSTER, BUCKET, FUNCTION, PARAMETER],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[TAG_KEYS],
    own_iam_actions: &[
        "ec2:DescribeVolumes",
        "kms:DescribeKey",
        "kms:ListResourceTags",
        "lambda:ListFunctions",
        "lambda:ListTags",
        "rds:DescribeDBClusters",
        "rds:DescribeDBInstances",
        "s3:GetBucketTagging",
        "s3:GetEncryptionConfiguration",
        "s3:ListAllMyBuckets",
        "ssm:DescribeParameters",
        "ssm:ListTagsForResource",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.6"],
        v4_0: &["3.6.1", "3.7.6"],
    },
    timeout_seconds: 900,
};

/// The rule.
pub struct KmsKeyTagsAligned;

pub static RULE: KmsKeyTagsAligned = KmsKeyTagsAligned;

type Tags = BTreeMap<String, String>;

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

/// Judges a resource's tags against those of the key behind `key_ref`.
pub async fn judge(resource_tags: &Tags, key_ref: Option<&str>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    let Some(key_ref) = key_ref else {
        return Ok(Verdict::not_applicable("The resource is not encrypted with a KMS key."));
    };
    let facts = match ctx.keys.key(key_ref).await? {
        Lookup::Found(f) => f,
        Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
            return Ok(Verdict::non_compliant(format!(
                "The resource's KMS key {key_ref} could not be verified: {reason}."
            )))
        }
    };
    if !facts.is_customer_managed() {
        return Ok(Verdict::not_applicable(
            "The resource is encrypted with an AWS-managed key: there are no key tags to align.",
        ));
    }
    let key_tags = match ctx.keys.tags(&facts).await? {
        Lookup::Found(t) => t,
        Lookup::NotFound(reason) | Lookup::Unreadable(reason) => {
            return Ok(Verdict::non_compliant(format!(
                "The tags of KMS key {} could not be read: {reason}.",
                facts.arn
            )))
        }
    };
    let tag_keys = ctx.params.list(TAG_KEYS.name);
    let wrong = mismatches(tag_keys, resource_tags, &key_tags);
    Ok(if wrong.is_empty() {
        Verdict::compliant(format!("{} match KMS key {}.", tag_keys.join(", "), facts.arn))
    } else {
        Verdict::non_compliant(wrong.join("; "))
    })
}

/// The key a configuration item names, for the types in scope; `None` when
/// the resource is not encrypted with a KMS key.
pub fn key_of_item(item: &ConfigurationItem) -> Option<String> {
    match item.resource_type.as_str() {
        VOLUME => {
            let v = ebs_volume_encrypted::Volume::from_item(item);
            v.encrypted
                .unwrap_or(false)
                .then(|| v.kms_key_id.map(str::to_owned))
                .flatten()
        }
        INSTANCE | CLUSTER => {
            let s = rds_storage_encrypted::Storage::from_item(item);
            s.encrypted
                .unwrap_or(false)
                .then(|| s.kms_key_id.map(str::to_owned))
                .flatten()
        }
        BUCKET => match s3_bucket_encrypted::from_item(item) {
            Ok(Some(e)) if e.algorithm.starts_with("aws:kms") => {
                Some(e.key.unwrap_or_else(|| "alias/aws/s3".to_owned()))
            }
            _ => None,
        },
        FUNCTION => item
            .str_field(&["kmsKeyArn", "kmskeyArn", "KMSKeyArn", "kMSKeyArn"])
            .map(str::to_owned),
        PARAMETER => (item.str_field(&["Type", "type"]) == Some("SecureString")).then(|| {
            item.str_field(&["KeyId", "keyId"])
                .unwrap_or("alias/aws/ssm")
                .to_owned()
        }),
        _ => None,
    }
}

/// A bucket's tags: the item's `tags`, else its recorded tagging configuration.
fn item_tags(item: &ConfigurationItem) -> Tags {
    if !item.tags.is_empty() {
        return item.tags.clone();
    }
    item.supplementary("BucketTaggingConfiguration")
        .and_then(|c| c.get("tagSets").and_then(|s| s.as_array()).cloned())
        .into_iter()
        .flatten()
        .filter_map(|set| set.get("tags").cloned())
        .filter_map(|t| atrest_common::item::parse_tags(t).ok())
        .flatten()
        .collect()
}

fn tags_of<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Tags {
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k?.to_owned(), v.unwrap_or_default().to_owned())))
        .collect()
}

#[async_trait]
impl Rule for KmsKeyTagsAligned {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        judge(&item_tags(item), key_of_item(item).as_deref(), ctx).await
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let aws = ctx.aws()?;
        sweep_volumes(&atrest_common::aws_client!(aws, aws_sdk_ec2), ctx, out).await?;
        sweep_rds(&atrest_common::aws_client!(aws, aws_sdk_rds), ctx, out).await?;
        sweep_buckets(&atrest_common::aws_client!(aws, aws_sdk_s3), aws.region(), ctx, out).await?;
        sweep_functions(&atrest_common::aws_client!(aws, aws_sdk_lambda), ctx, out).await?;
        sweep_parameters(&atrest_common::aws_client!(aws, aws_sdk_ssm), ctx, out).await
    }
}

async fn sweep_volumes(ec2: &aws_sdk_ec2::Client, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
    let mut pages = ec2.describe_volumes().into_paginator().page_size(500).send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ec2", "DescribeVolumes", &e))?;
        let n = page.volumes().len();
        for (i, v) in page.volumes().iter().enumerate() {
            out.ensure_time(n - i).await?;
            let Some(id) = v.volume_id() else { continue };
            let tags = tags_of(v.tags().iter().map(|t| (t.key(), t.value())));
            let key = v.encrypted().unwrap_or(false).then(|| v.kms_key_id()).flatten();
            out.push(VOLUME, id, judge(&tags, key, ctx).await?).await?;
        }
    }
    Ok(())
}

async fn sweep_rds(rds: &aws_sdk_rds::Client, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBInstances", &e))?;
        let n = page.db_instances().len();
        for (i, db) in page.db_instances().iter().enumerate() {
            out.ensure_time(n - i).await?;
            let Some(id) = db.dbi_resource_id() else { continue };
            let tags = tags_of(db.tag_list().iter().map(|t| (t.key(), t.value())));
            let key = db
                .storage_encrypted()
                .unwrap_or(false)
                .then(|| db.kms_key_id())
                .flatten();
            out.push(INSTANCE, id, judge(&tags, key, ctx).await?).await?;
        }
    }
    let mut pages = rds.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBClusters", &e))?;
        let n = page.db_clusters().len();
        for (i, c) in page.db_clusters().iter().enumerate() {
            out.ensure_time(n - i).await?;
            let Some(id) = c.db_cluster_resource_id() else { continue };
            let tags = tags_of(c.tag_list().iter().map(|t| (t.key(), t.value())));
            let key = c.storage_encrypted().unwrap_or(false).then(|| c.kms_key_id()).flatten();
            out.push(CLUSTER, id, judge(&tags, key, ctx).await?).await?;
        }
    }
    Ok(())
}

async fn sweep_buckets(
    s3: &aws_sdk_s3::Client,
    region: Option<&str>,
    ctx: &RuleContext<'_>,
    out: &mut Outbox<'_>,
) -> Result<(), Error> {
    use s3_bucket_encrypted::{read_encryption, region_buckets, Read};
    let names = region_buckets(s3, region).await?;
    let n = names.len();
    for (i, name) in names.into_iter().enumerate() {
        out.ensure_time(n - i).await?;
        let key = match read_encryption(s3, &name).await? {
            Read::Found(Some(e)) if e.algorithm.starts_with("aws:kms") => {
                Some(e.key.unwrap_or_else(|| "alias/aws/s3".to_owned()))
            }
            Read::Found(_) => None,
            Read::Gone => continue,
            Read::Denied(reason) => {
                let verdict = Verdict::non_compliant(format!("The bucket's key could not be verified: {reason}."));
                out.push(BUCKET, &name, verdict).await?;
                continue;
            }
        };
        let tags = match s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(t) => tags_of(t.tag_set().iter().map(|t| (Some(t.key()), Some(t.value())))),
            Err(e) => {
                let err = AwsError::from_sdk("s3", "GetBucketTagging", &e);
                match (err.kind, err.code.as_deref()) {
                    (_, Some("NoSuchTagSet")) => Tags::new(),
                    (_, Some("NoSuchBucket")) => continue,
                    (AwsErrorKind::AccessDenied, _) => {
                        let verdict = Verdict::non_compliant(format!(
                            "The bucket's tags could not be read: access denied ({}).",
                            err.message
                        ));
                        out.push(BUCKET, &name, verdict).await?;
                        continue;
                    }
                    _ => return Err(err.into()),
                }
            }
        };
        out.push(BUCKET, &name, judge(&tags, key.as_deref(), ctx).await?)
            .await?;
    }
    Ok(())
}

async fn sweep_functions(
    lambda: &aws_sdk_lambda::Client,
    ctx: &RuleContext<'_>,
    out: &mut Outbox<'_>,
) -> Result<(), Error> {
    let mut pages = lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("lambda", "ListFunctions", &e))?;
        // Names, ARNs and keys only: the page (environment values included) goes now.
        let functions: Vec<(String, String, Option<String>)> = page
            .functions()
            .iter()
            .filter_map(|f| {
                Some((
                    f.function_name()?.to_owned(),
                    f.function_arn()?.to_owned(),
                    f.kms_key_arn().filter(|k| !k.is_empty()).map(str::to_owned),
                ))
            })
            .collect();
        drop(page);
        let n = functions.len();
        for (i, (name, arn, key)) in functions.into_iter().enumerate() {
            out.ensure_time(n - i).await?;
            let verdict = match &key {
                None => Verdict::not_applicable("The function's environment uses Lambda's AWS-managed key."),
                Some(key) => match lambda.list_tags().resource(&arn).send().await {
                    Ok(t) => {
                        let tags = t
                            .tags()
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                        judge(&tags.unwrap_or_default(), Some(key), ctx).await?
                    }
                    Err(e) => {
                        let err = AwsError::from_sdk("lambda", "ListTags", &e);
                        match err.kind {
                            AwsErrorKind::NotFound => continue,
                            AwsErrorKind::AccessDenied => Verdict::non_compliant(format!(
                                "The function's tags could not be read: access denied ({}).",
                                err.message
                            )),
                            _ => return Err(err.into()),
                        }
                    }
                },
            };
            out.push(FUNCTION, &name, verdict).await?;
        }
    }
    Ok(())
}

async fn sweep_parameters(ssm: &aws_sdk_ssm::Client, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
    use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging};
    let mut pages = ssm.describe_parameters().max_results(50).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ssm", "DescribeParameters", &e))?;
        let n = page.parameters().len();
        for (i, p) in page.parameters().iter().enumerate() {
            out.ensure_time(n - i).await?;
            let Some(name) = p.name() else { continue };
            if p.r#type() != Some(&ParameterType::SecureString)
                || name.chars().count() > atrest_common::evaluation::MAX_RESOURCE_ID_CHARS
            {
                continue;
            }
            let key = p.key_id().unwrap_or("alias/aws/ssm");
            let verdict = match ctx.keys.key(key).await? {
                Lookup::Found(f) if !f.is_customer_managed() => judge(&Tags::new(), Some(key), ctx).await?,
                _ => {
                    let listed = ssm
                        .list_tags_for_resource()
                        .resource_type(ResourceTypeForTagging::Parameter)
                        .resource_id(name)
                        .send()
                        .await;
                    match listed {
                        Ok(t) => {
                            let tags = tags_of(t.tag_list().iter().map(|t| (Some(t.key()), Some(t.value()))));
                            judge(&tags, Some(key), ctx).await?
                        }
                        Err(e) => {
                            let err = AwsError::from_sdk("ssm", "ListTagsForResource", &e);
                            match err.kind {
                                AwsErrorKind::NotFound => continue,
                                AwsErrorKind::AccessDenied => Verdict::non_compliant(format!(
                                    "The parameter's tags could not be read: access denied ({}).",
                                    err.message
                                )),
                                _ => return Err(err.into()),
                            }
                        }
                    }
                }
            };
            out.push(PARAMETER, name, verdict).await?;
        }
    }
    Ok(())
}
