//! `AWS::EFS::FileSystem`: a file system, encrypted or not, under its KMS
//! key (configuration `Encrypted`, `KmsKeyId`, tags; live:
//! DescribeFileSystems, which lists the tags too).

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{flagged, flagged_key, tags_of, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::EFS::FileSystem";

/// What is read of a file system, from an item or DescribeFileSystems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSystem {
    /// `None` when the record does not say.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
}

#[async_trait]
impl Protected for FileSystem {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(flagged("File system", self.encrypted, self.kms_key_id.as_deref()))
    }
    fn key(&self) -> Option<String> {
        flagged_key(self.encrypted, self.kms_key_id.as_deref())
    }
    async fn tags(&self, _ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        Ok(Read::Found(self.tags.clone()))
    }
}

/// EFS file systems.
pub struct FileSystems;

pub static STORE: FileSystems = FileSystems;

impl Store for FileSystems {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(FileSystem {
            encrypted: item.bool_field(&["Encrypted", "encrypted"]),
            kms_key_id: item.str_field(&["KmsKeyId", "kmsKeyId"]).map(str::to_owned),
            tags: item.tags.clone(),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let efs = atrest_common::aws_client!(ctx.aws()?, aws_sdk_efs);
        let pages = efs.describe_file_systems().max_items(100).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("elasticfilesystem", "DescribeFileSystems", &e))?;
            Ok(page
                .file_systems()
                .iter()
                .map(|f| {
                    let file_system = FileSystem {
                        encrypted: f.encrypted(),
                        kms_key_id: f.kms_key_id().map(str::to_owned),
                        tags: tags_of(f.tags().iter().map(|t| (Some(t.key()), Some(t.value())))),
                    };
                    Listed::ready(f.file_system_id(), file_system)
                })
                .collect())
        })))
    }
}
