//! `AWS::Backup::BackupVault`: the KMS key of a backup vault's recovery
//! points (configuration `EncryptionKeyArn`, tags; live: ListBackupVaults,
//! ListTags). Config names a vault by its name.

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{named_key, tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::Backup::BackupVault";

/// What is read of a vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    /// Its ARN (for its tags), when known.
    pub arn: Option<String>,
    pub encryption_key_arn: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for Vault {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(named_key(
            "Backup vault",
            self.encryption_key_arn.as_deref(),
            "The record names no encryption key for the backup vault: the key cannot be verified.",
        ))
    }

    fn key(&self) -> Option<String> {
        self.encryption_key_arn.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let Some(arn) = &self.arn else {
            return Ok(Read::Unreadable(
                "The backup vault's ARN is unknown: its tags could not be read.".to_owned(),
            ));
        };
        let backup = atrest_common::aws_client!(ctx.aws()?, aws_sdk_backup);
        let mut tags = Tags::new();
        let mut pages = backup.list_tags().resource_arn(arn).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(p) => tags.extend(p.tags().cloned().unwrap_or_default()),
                Err(e) => return tags_failed(AwsError::from_sdk("backup", "ListTags", &e), "backup vault"),
            }
        }
        Ok(Read::Found(tags))
    }
}

/// AWS Backup vaults.
pub struct Vaults;

pub static STORE: Vaults = Vaults;

impl Store for Vaults {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Vault {
            arn: item
                .str_field(&["BackupVaultArn", "backupVaultArn"])
                .or(item.arn.as_deref())
                .map(str::to_owned),
            encryption_key_arn: item
                .str_field(&["EncryptionKeyArn", "encryptionKeyArn"])
                .map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let backup = atrest_common::aws_client!(ctx.aws()?, aws_sdk_backup);
        let pages = backup.list_backup_vaults().max_results(1000).into_paginator().send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("backup", "ListBackupVaults", &e))?;
            Ok(page
                .backup_vault_list()
                .iter()
                .filter_map(|v| {
                    let vault = Vault {
                        arn: v.backup_vault_arn().map(str::to_owned),
                        encryption_key_arn: v.encryption_key_arn().filter(|k| !k.is_empty()).map(str::to_owned),
                        tags: None,
                    };
                    Some(Listed::ready(v.backup_vault_name()?, vault))
                })
                .collect())
        })))
    }
}
