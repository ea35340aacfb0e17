//! # rds-storage-encrypted
//!
//! ## What it checks
//! Every RDS DB instance, DB cluster, DB snapshot and DB cluster snapshot is
//! encrypted at rest with a customer-managed KMS key — one of `kmsKeyArns`
//! when given. The managed rules RDS_STORAGE_ENCRYPTED and
//! RDS_SNAPSHOT_ENCRYPTED accept the AWS-managed `aws/rds` key; this rule
//! does not (unless `allowAwsManagedKeys`).
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
//! Databases hold the account data PCI DSS is about. A customer-managed key
//! puts every read of the storage, its snapshots, replicas and backups under
//! a key policy the organisation controls and can revoke; snapshots shared
//! across accounts can only be shared when encrypted with such a key.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept the AWS-managed
//!   `aws/rds` key.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The resource was deleted, is no longer recorded, or left the rule's scope.

use async_trait::async_trait;
use atrest_common::{
    AwsError, ConfigurationItem, Error, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers, Verdict,
};

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const INSTANCE: &str = "AWS::RDS::DBInstance";
const CLUSTER: &str = "AWS::RDS::DBCluster";
const SNAPSHOT: &str = "AWS::RDS::DBSnapshot";
const CLUSTER_SNAPSHOT: &str = "AWS::RDS::DBClusterSnapshot";

pub static SPEC: RuleSpec = RuleSpec {
    id: "rds-storage-encrypted",
    description: "RDS DB instances, clusters and their snapshots are encrypted with a customer-managed KMS key \
                  (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[INSTANCE, CLUSTER, SNAPSHOT, CLUSTER_SNAPSHOT],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "kms:DescribeKey",
        "rds:DescribeDBClusterSnapshots",
        "rds:DescribeDBClusters",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshots",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 600,
};

/// The rule.
pub struct RdsStorageEncrypted;

pub static RULE: RdsStorageEncrypted = RdsStorageEncrypted;

/// What the judgement needs of any of the four resource types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage<'a> {
    /// `None` when the record does not say.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<&'a str>,
}

impl<'a> Storage<'a> {
    pub fn from_item(item: &'a ConfigurationItem) -> Self {
        Storage {
            encrypted: item.bool_field(&["storageEncrypted", "StorageEncrypted", "encrypted", "Encrypted"]),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId", "KMSKeyId"]),
        }
    }
}

/// What the resources of a type are called in annotations.
fn noun(resource_type: &str) -> &'static str {
    match resource_type {
        INSTANCE => "DB instance storage",
        CLUSTER => "DB cluster storage",
        SNAPSHOT => "DB snapshot",
        _ => "DB cluster snapshot",
    }
}

/// Judges one resource.
pub async fn judge(resource_type: &str, storage: &Storage<'_>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    let subject = noun(resource_type);
    match (storage.encrypted, storage.kms_key_id) {
        (Some(false), _) => Ok(Verdict::non_compliant(format!("{subject} is not encrypted."))),
        (None, _) => Ok(Verdict::non_compliant(format!(
            "The record does not say whether the {} is encrypted: encryption cannot be verified.",
            subject.to_lowercase()
        ))),
        (Some(true), None) => Ok(Verdict::non_compliant(format!(
            "{subject} is encrypted, but the record names no KMS key: the key cannot be verified."
        ))),
        (Some(true), Some(key)) => judge_key(ctx, subject, key).await,
    }
}

/// Neptune and DocumentDB share the RDS API but are other Config types.
fn is_rds_engine(engine: Option<&str>) -> bool {
    !matches!(engine, Some("neptune") | Some("docdb"))
}

#[async_trait]
impl Rule for RdsStorageEncrypted {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        judge(&item.resource_type, &Storage::from_item(item), ctx).await
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let rds = atrest_common::aws_client!(ctx.aws()?, aws_sdk_rds);

        let mut pages = rds.describe_db_instances().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBInstances", &e))?;
            let listed: Vec<_> = page
                .db_instances()
                .iter()
                .filter(|d| is_rds_engine(d.engine()))
                .collect();
            let n = listed.len();
            for (i, db) in listed.into_iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(id) = db.dbi_resource_id() else { continue };
                let storage = Storage {
                    encrypted: db.storage_encrypted(),
                    kms_key_id: db.kms_key_id(),
                };
                out.push(INSTANCE, id, judge(INSTANCE, &storage, ctx).await?).await?;
            }
        }

        let mut pages = rds.describe_db_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBClusters", &e))?;
            let listed: Vec<_> = page
                .db_clusters()
                .iter()
                .filter(|c| is_rds_engine(c.engine()))
                .collect();
            let n = listed.len();
            for (i, c) in listed.into_iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(id) = c.db_cluster_resource_id() else { continue };
                let storage = Storage {
                    encrypted: c.storage_encrypted(),
                    kms_key_id: c.kms_key_id(),
                };
                out.push(CLUSTER, id, judge(CLUSTER, &storage, ctx).await?).await?;
            }
        }

        let mut pages = rds.describe_db_snapshots().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBSnapshots", &e))?;
            let listed: Vec<_> = page
                .db_snapshots()
                .iter()
                .filter(|s| is_rds_engine(s.engine()))
                .collect();
            let n = listed.len();
            for (i, s) in listed.into_iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(id) = s.db_snapshot_identifier() else { continue };
                let storage = Storage {
                    encrypted: s.encrypted(),
                    kms_key_id: s.kms_key_id(),
                };
                out.push(SNAPSHOT, id, judge(SNAPSHOT, &storage, ctx).await?).await?;
            }
        }

        let mut pages = rds.describe_db_cluster_snapshots().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBClusterSnapshots", &e))?;
            let listed: Vec<_> = page
                .db_cluster_snapshots()
                .iter()
                .filter(|s| is_rds_engine(s.engine()))
                .collect();
            let n = listed.len();
            for (i, s) in listed.into_iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(id) = s.db_cluster_snapshot_identifier() else {
                    continue;
                };
                let storage = Storage {
                    encrypted: s.storage_encrypted(),
                    kms_key_id: s.kms_key_id(),
                };
                out.push(CLUSTER_SNAPSHOT, id, judge(CLUSTER_SNAPSHOT, &storage, ctx).await?)
                    .await?;
            }
        }
        Ok(())
    }
}
