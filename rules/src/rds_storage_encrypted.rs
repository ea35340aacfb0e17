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

use atrest_common::{PciDss, RuleSpec, Triggers};

use crate::encryption_rule::EncryptionRule;
use crate::key_check::{ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};
use crate::resources;
use crate::resources::rds::{CLUSTER, CLUSTER_SNAPSHOT, INSTANCE, SNAPSHOT};

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
    memory_mb: 128,
    remediation: None,
};

/// The rule.
pub static RULE: EncryptionRule = EncryptionRule::new(
    &SPEC,
    &[
        &resources::rds::INSTANCES,
        &resources::rds::CLUSTERS,
        &resources::rds::SNAPSHOTS,
        &resources::rds::CLUSTER_SNAPSHOTS,
    ],
);
