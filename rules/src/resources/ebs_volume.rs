//! `AWS::EC2::Volume`: an EBS volume, encrypted or not, under its KMS key
//! (configuration `encrypted`, `kmsKeyId`, tags; live: DescribeVolumes).

use async_trait::async_trait;
use atrest_common::sweep::{paged, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{flagged, flagged_key, tags_of, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::EC2::Volume";

/// What is read of a volume, from an item or DescribeVolumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// `None` when the record does not say.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub tags: Tags,
}

#[async_trait]
impl Protected for Volume {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(flagged("Volume", self.encrypted, self.kms_key_id.as_deref()))
    }
    fn key(&self) -> Option<String> {
        flagged_key(self.encrypted, self.kms_key_id.as_deref())
    }
    async fn tags(&self, _ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        Ok(Read::Found(self.tags.clone()))
    }
}

/// EBS volumes.
pub struct Volumes;

pub static STORE: Volumes = Volumes;

impl Store for Volumes {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Volume {
            encrypted: item.bool_field(&["encrypted", "Encrypted"]),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId"]).map(str::to_owned),
            tags: item.tags.clone(),
        })
    }

    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let ec2 = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ec2);
        let pages = ec2.describe_volumes().into_paginator().page_size(500).send();
        Ok(Box::new(paged(pages, |page| {
            let page = page.map_err(|e| AwsError::from_sdk("ec2", "DescribeVolumes", &e))?;
            Ok(page
                .volumes()
                .iter()
                .filter_map(|v| {
                    let volume = Volume {
                        encrypted: v.encrypted(),
                        kms_key_id: v.kms_key_id().map(str::to_owned),
                        tags: tags_of(v.tags().iter().map(|t| (t.key(), t.value()))),
                    };
                    Some(Listed::ready(v.volume_id()?, volume))
                })
                .collect())
        })))
    }
}
