//! RDS storage: `AWS::RDS::DBInstance`, `AWS::RDS::DBCluster`,
//! `AWS::RDS::DBSnapshot` and `AWS::RDS::DBClusterSnapshot`, each
//! encrypted or not under its KMS key (configuration `storageEncrypted` /
//! `encrypted`, `kmsKeyId`, tags; live: the four Describe calls, without the
//! Neptune and DocumentDB resources that share the RDS API but are other
//! Config types).

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{flagged, flagged_key, tags_of, Listed, Protected, Protection, Read, Store, Tags};

pub const INSTANCE: &str = "AWS::RDS::DBInstance";
pub const CLUSTER: &str = "AWS::RDS::DBCluster";
pub const SNAPSHOT: &str = "AWS::RDS::DBSnapshot";
pub const CLUSTER_SNAPSHOT: &str = "AWS::RDS::DBClusterSnapshot";

/// What is read of any of the four, from an item or a Describe call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// What the resources of its type are called in annotations.
    pub noun: &'static str,
    /// `None` when the record does not say.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
}

#[async_trait]
impl Protected for Storage {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(flagged(self.noun, self.encrypted, self.kms_key_id.as_deref()))
    }
    fn key(&self) -> Option<String> {
        flagged_key(self.encrypted, self.kms_key_id.as_deref())
    }
    async fn tags(&self, _ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        Ok(Read::Found(self.tags.clone()))
    }
}

/// Neptune and DocumentDB share the RDS API but are other Config types.
pub fn is_rds_engine(engine: Option<&str>) -> bool {
    !matches!(engine, Some("neptune") | Some("docdb"))
}

/// One of the four RDS types.
pub struct Rds {
    resource_type: &'static str,
    noun: &'static str,
}

pub static INSTANCES: Rds = Rds {
    resource_type: INSTANCE,
    noun: "DB instance storage",
};
pub static CLUSTERS: Rds = Rds {
    resource_type: CLUSTER,
    noun: "DB cluster storage",
};
pub static SNAPSHOTS: Rds = Rds {
    resource_type: SNAPSHOT,
    noun: "DB snapshot",
};
pub static CLUSTER_SNAPSHOTS: Rds = Rds {
    resource_type: CLUSTER_SNAPSHOT,
    noun: "DB cluster snapshot",
};

impl Rds {
    fn storage<'t>(
        &self,
        encrypted: Option<bool>,
        key: Option<&str>,
        tags: impl IntoIterator<Item = &'t aws_sdk_rds::types::Tag>,
    ) -> Storage {
        Storage {
            noun: self.noun,
            encrypted,
            kms_key_id: key.map(str::to_owned),
            tags: tags_of(tags.into_iter().map(|t| (t.key(), t.value()))),
        }
    }
}

impl Store for Rds {
    fn resource_type(&self) -> &'static str {
        self.resource_type
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Storage {
            noun: self.noun,
            encrypted: item.bool_field(&["storageEncrypted", "StorageEncrypted", "encrypted", "Encrypted"]),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId", "KMSKeyId"]).map(str::to_owned),
            tags: item.tags.clone(),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let rds = atrest_common::aws_client!(ctx.aws()?, aws_sdk_rds);
        Ok(match self.resource_type {
            INSTANCE => Box::new(paged(
                rds.describe_db_instances().into_paginator().send(),
                move |page| {
                    let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBInstances", &e))?;
                    Ok(page
                        .db_instances()
                        .iter()
                        .filter(|d| is_rds_engine(d.engine()))
                        .filter_map(|d| {
                            let storage = self.storage(d.storage_encrypted(), d.kms_key_id(), d.tag_list());
                            Some(Listed::ready(d.dbi_resource_id()?, storage))
                        })
                        .collect())
                },
            )),
            CLUSTER => Box::new(paged(rds.describe_db_clusters().into_paginator().send(), move |page| {
                let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBClusters", &e))?;
                Ok(page
                    .db_clusters()
                    .iter()
                    .filter(|c| is_rds_engine(c.engine()))
                    .filter_map(|c| {
                        let storage = self.storage(c.storage_encrypted(), c.kms_key_id(), c.tag_list());
                        Some(Listed::ready(c.db_cluster_resource_id()?, storage))
                    })
                    .collect())
            })),
            SNAPSHOT => Box::new(paged(
                rds.describe_db_snapshots().into_paginator().send(),
                move |page| {
                    let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBSnapshots", &e))?;
                    Ok(page
                        .db_snapshots()
                        .iter()
                        .filter(|s| is_rds_engine(s.engine()))
                        .filter_map(|s| {
                            let storage = self.storage(s.encrypted(), s.kms_key_id(), s.tag_list());
                            Some(Listed::ready(s.db_snapshot_identifier()?, storage))
                        })
                        .collect())
                },
            )),
            _ => Box::new(paged(
                rds.describe_db_cluster_snapshots().into_paginator().send(),
                move |page| {
                    let page = page.map_err(|e| AwsError::from_sdk("rds", "DescribeDBClusterSnapshots", &e))?;
                    Ok(page
                        .db_cluster_snapshots()
                        .iter()
                        .filter(|s| is_rds_engine(s.engine()))
                        .filter_map(|s| {
                            let storage = self.storage(s.storage_encrypted(), s.kms_key_id(), s.tag_list());
                            Some(Listed::ready(s.db_cluster_snapshot_identifier()?, storage))
                        })
                        .collect())
                },
            )),
        })
    }
}
