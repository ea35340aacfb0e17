//! # s3-bucket-encrypted
//!
//! ## What it checks
//! Every S3 bucket's default encryption is SSE-KMS (`aws:kms`) or DSSE-KMS
//! (`aws:kms:dsse`) with a customer-managed KMS key — one of `kmsKeyArns`
//! when given — and, when `requireBucketKey` is `true`, an SSE-KMS bucket
//! uses an S3 Bucket Key. SSE-S3 (`AES256`), the default of every bucket
//! since January 2023, does not pass: its keys are not under the
//! organisation's control. The key must be named by its full key ARN: S3
//! resolves a key id, an alias or an alias ARN in the account of whoever
//! writes the object, so a cross-account writer's objects would land under
//! a key of its own.
//!
//! The key must be customer-managed and owned by the evaluated account or
//! one of `trustedKeyAccounts`. Its state is judged by `kms-key-usable`
//! alone: here a customer-managed key that is disabled or pending deletion
//! still counts, since the data is encrypted under a key the organisation
//! controls.
//!
//! COMPLIANT proves: the data is encrypted under a customer-managed key of a
//! trusted account (one of `kmsKeyArns` when given). It does not prove:
//! that the key is usable (`kms-key-usable`) or its policy sound (the
//! `kms-key-policy-*` rules).
//!
//! ## Why
//! With a customer-managed key, reading an object needs both S3 and KMS
//! permissions, and the key policy — which the organisation writes and
//! audits — can cut off access to every object at once (AWS KMS best
//! practices). PCI DSS asks that stored account data be rendered unreadable
//! and that access to keys be restricted.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/s3` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//! - `requireBucketKey` (default `false`): SSE-KMS buckets must enable an
//!   S3 Bucket Key (DSSE-KMS does not support bucket keys and is exempt).
//!
//! ## NOT_APPLICABLE when
//! The bucket was deleted, is no longer recorded, or left the rule's scope.

use async_trait::async_trait;
use atrest_common::keys::is_aws_managed_alias;
use atrest_common::params::{ParamKind, ParamSpec};
use atrest_common::{
    AwsError, AwsErrorKind, ConfigurationItem, Error, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers, Verdict,
};
use serde_json::Value;

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const BUCKET: &str = "AWS::S3::Bucket";

const REQUIRE_BUCKET_KEY: ParamSpec = ParamSpec {
    name: "requireBucketKey",
    kind: ParamKind::Bool,
    default: Some("false"),
    required: false,
    description: "SSE-KMS buckets must use an S3 Bucket Key.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "s3-bucket-encrypted",
    description: "S3 buckets encrypt by default with SSE-KMS or DSSE-KMS under a customer-managed KMS key \
                  (optionally one of kmsKeyArns, with an S3 Bucket Key).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[BUCKET],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[
        KMS_KEY_ARNS,
        ALLOW_AWS_MANAGED_KEYS,
        TRUSTED_KEY_ACCOUNTS,
        REQUIRE_BUCKET_KEY,
    ],
    own_iam_actions: &[
        "kms:DescribeKey",
        "s3:GetEncryptionConfiguration",
        "s3:ListAllMyBuckets",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 600,
};

/// The rule.
pub struct S3BucketEncrypted;

pub static RULE: S3BucketEncrypted = S3BucketEncrypted;

/// A bucket's default encryption rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultEncryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    pub algorithm: String,
    /// `kmsMasterKeyID`: absent means the AWS-managed `aws/s3` key.
    pub key: Option<String>,
    pub bucket_key: bool,
}

/// The default encryption a bucket's configuration item records: `Ok(None)`
/// when it records none.
pub fn from_item(item: &ConfigurationItem) -> Result<Option<DefaultEncryption>, String> {
    let Some(config) = item
        .supplementary("ServerSideEncryptionConfiguration")
        .filter(|v| !v.is_null())
    else {
        return Ok(None);
    };
    let rules = config
        .get("rules")
        .or_else(|| config.get("Rules"))
        .and_then(Value::as_array)
        .ok_or("ServerSideEncryptionConfiguration has no rules list")?;
    for rule in rules {
        let by_default = rule
            .get("applyServerSideEncryptionByDefault")
            .or_else(|| rule.get("ApplyServerSideEncryptionByDefault"));
        let Some(by_default) = by_default.filter(|v| !v.is_null()) else {
            continue;
        };
        let text = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| by_default.get(*n).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let algorithm =
            text(&["sseAlgorithm", "SSEAlgorithm"]).ok_or("a default encryption rule has no sseAlgorithm")?;
        let bucket_key = ["bucketKeyEnabled", "BucketKeyEnabled"]
            .iter()
            .find_map(|n| rule.get(*n).and_then(Value::as_bool))
            .unwrap_or(false);
        return Ok(Some(DefaultEncryption {
            key: text(&["kmsMasterKeyID", "KMSMasterKeyID", "kmsMasterKeyId"]),
            algorithm,
            bucket_key,
        }));
    }
    Ok(None)
}

/// Judges a bucket's default encryption.
pub async fn judge(encryption: Option<&DefaultEncryption>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    let Some(enc) = encryption else {
        return Ok(Verdict::non_compliant(
            "No default encryption configuration is recorded for the bucket.",
        ));
    };
    let subject = "Bucket default encryption";
    match enc.algorithm.as_str() {
        "AES256" => {
            return Ok(Verdict::non_compliant(
                "Default encryption is SSE-S3 (AES256), not a customer-managed KMS key.",
            ))
        }
        "aws:kms" | "aws:kms:dsse" => {}
        other => {
            return Ok(Verdict::non_compliant(format!(
                "Unknown default encryption algorithm `{other}`."
            )))
        }
    }
    if enc.algorithm == "aws:kms" && ctx.params.bool(REQUIRE_BUCKET_KEY.name) && !enc.bucket_key {
        return Ok(Verdict::non_compliant(
            "SSE-KMS without an S3 Bucket Key, and requireBucketKey is true.",
        ));
    }
    match &enc.key {
        // `aws/s3` is every writer's own anyway: judged as AWS-managed.
        Some(key) if !is_key_arn(key) && !is_aws_managed_alias(key) => Ok(Verdict::non_compliant(format!(
            "Bucket default encryption names KMS key `{key}` without its full key ARN: S3 resolves it in the \
             writer's account, so objects written from other accounts land under their keys."
        ))),
        Some(key) => judge_key(ctx, subject, key).await,
        None => judge_key(ctx, subject, "alias/aws/s3").await,
    }
}

/// A full key ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`); not an alias
/// ARN, whose alias anyone allowed to may re-point.
pub fn is_key_arn(reference: &str) -> bool {
    let fields: Vec<&str> = reference.splitn(6, ':').collect();
    matches!(fields.as_slice(), ["arn", _, "kms", _, account, resource]
        if !account.is_empty() && resource.starts_with("key/") && resource.len() > 4)
}

#[async_trait]
impl Rule for S3BucketEncrypted {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        match from_item(item) {
            Ok(enc) => judge(enc.as_ref(), ctx).await,
            Err(problem) => Ok(Verdict::non_compliant(format!(
                "The recorded encryption configuration cannot be read: {problem}."
            ))),
        }
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let aws = ctx.aws()?;
        let s3 = atrest_common::aws_client!(aws, aws_sdk_s3);
        let names = region_buckets(&s3, aws.region()).await?;
        let n = names.len();
        for (i, name) in names.into_iter().enumerate() {
            out.ensure_time(n - i).await?;
            let verdict = match read_encryption(&s3, &name).await? {
                Read::Found(enc) => judge(enc.as_ref(), ctx).await?,
                Read::Gone => continue, // deleted since it was listed
                Read::Denied(reason) => {
                    Verdict::non_compliant(format!("Default encryption could not be verified: {reason}."))
                }
            };
            out.push(BUCKET, &name, verdict).await?;
        }
        Ok(())
    }
}

/// The buckets of `region` (all of them when the region is unknown).
pub async fn region_buckets(s3: &aws_sdk_s3::Client, region: Option<&str>) -> Result<Vec<String>, Error> {
    let mut request = s3.list_buckets().max_buckets(1000);
    if let Some(r) = region {
        request = request.bucket_region(r);
    }
    let mut names = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("s3", "ListBuckets", &e))?;
        for bucket in page.buckets() {
            // Config rules are regional: other regions' buckets are theirs.
            let elsewhere = matches!((region, bucket.bucket_region()), (Some(r), Some(b)) if r != b);
            if let (Some(name), false) = (bucket.name(), elsewhere) {
                names.push(name.to_owned());
            }
        }
    }
    Ok(names)
}

/// What reading a bucket's default encryption gave.
pub enum Read<T> {
    Found(T),
    /// The bucket no longer exists.
    Gone,
    /// Access denied (the reason).
    Denied(String),
}

/// GetBucketEncryption: `Found(None)` when the bucket has no configuration.
pub async fn read_encryption(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Read<Option<DefaultEncryption>>, Error> {
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => Ok(Read::Found(out.server_side_encryption_configuration().and_then(|c| {
            c.rules().iter().find_map(|r| {
                let d = r.apply_server_side_encryption_by_default()?;
                Some(DefaultEncryption {
                    algorithm: d.sse_algorithm().as_str().to_owned(),
                    key: d.kms_master_key_id().filter(|k| !k.is_empty()).map(str::to_owned),
                    bucket_key: r.bucket_key_enabled().unwrap_or(false),
                })
            })
        }))),
        Err(e) => {
            let err = AwsError::from_sdk("s3", "GetBucketEncryption", &e);
            match (err.kind, err.code.as_deref()) {
                (_, Some("ServerSideEncryptionConfigurationNotFoundError")) => Ok(Read::Found(None)),
                (_, Some("NoSuchBucket")) => Ok(Read::Gone),
                (AwsErrorKind::AccessDenied, _) => Ok(Read::Denied(format!(
                    "access denied to s3:GetEncryptionConfiguration ({})",
                    err.message
                ))),
                _ => Err(err.into()),
            }
        }
    }
}
