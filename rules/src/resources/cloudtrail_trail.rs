//! `AWS::CloudTrail::Trail`: the KMS key of a trail's log files
//! (configuration `kmsKeyId`, tags; live: DescribeTrails, ListTags). No
//! key means SSE-S3 alone. Only the trails homed in this region are listed
//! (no shadow trails), and of organisation trails only this account's: an
//! organisation trail seen from a member account is judged in the
//! management account that owns it.

use async_trait::async_trait;
use atrest_common::sweep::{later_page, BoxPages};
use atrest_common::{AwsError, ConfigurationItem, Error, RuleContext};

use super::{named_key, tags_failed, Listed, Protected, Protection, Read, Store, Tags};

pub const TYPE: &str = "AWS::CloudTrail::Trail";

/// What is read of a trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trail {
    /// Its ARN (for its tags), when known.
    pub arn: Option<String>,
    pub kms_key_id: Option<String>,
    /// As recorded; `None` live until asked for.
    pub tags: Option<Tags>,
}

#[async_trait]
impl Protected for Trail {
    async fn protection(&self, _ctx: &RuleContext<'_>) -> Result<Protection, Error> {
        Ok(named_key(
            "Trail log files",
            self.kms_key_id.as_deref(),
            "Trail log files are encrypted with SSE-S3 alone, not a customer-managed KMS key.",
        ))
    }

    fn key(&self) -> Option<String> {
        self.kms_key_id.clone()
    }

    async fn tags(&self, ctx: &RuleContext<'_>) -> Result<Read<Tags>, Error> {
        if let Some(tags) = &self.tags {
            return Ok(Read::Found(tags.clone()));
        }
        let Some(arn) = &self.arn else {
            return Ok(Read::Unreadable(
                "The trail's ARN is unknown: its tags could not be read.".to_owned(),
            ));
        };
        let cloudtrail = atrest_common::aws_client!(ctx.aws()?, aws_sdk_cloudtrail);
        match cloudtrail.list_tags().resource_id_list(arn).send().await {
            Ok(t) => Ok(Read::Found(
                t.resource_tag_list()
                    .iter()
                    .flat_map(|r| r.tags_list())
                    .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
                    .collect(),
            )),
            Err(e) => tags_failed(AwsError::from_sdk("cloudtrail", "ListTags", &e), "trail"),
        }
    }
}

/// CloudTrail trails.
pub struct Trails;

pub static STORE: Trails = Trails;

/// The account of an ARN.
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

impl Store for Trails {
    fn resource_type(&self) -> &'static str {
        TYPE
    }

    fn read_item(&self, item: &ConfigurationItem) -> Box<dyn Protected> {
        Box::new(Trail {
            arn: item
                .str_field(&["trailARN", "TrailARN", "trailArn"])
                .or(item.arn.as_deref())
                .map(str::to_owned),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId"]).map(str::to_owned),
            tags: Some(item.tags.clone()),
        })
    }

    /// DescribeTrails answers in one page.
    fn list<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<BoxPages<'a, Listed<'a>>, Error> {
        let aws = ctx.aws()?;
        let region = aws.region().map(str::to_owned);
        let cloudtrail = atrest_common::aws_client!(aws, aws_sdk_cloudtrail);
        Ok(Box::new(later_page(async move {
            let described = cloudtrail
                .describe_trails()
                .include_shadow_trails(false)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudtrail", "DescribeTrails", &e))?;
            Ok(described
                .trail_list()
                .iter()
                .filter(|t| {
                    !t.is_organization_trail().unwrap_or(false)
                        || ctx
                            .account_id
                            .is_none_or(|a| t.trail_arn().and_then(account_of) == Some(a))
                })
                .filter(|t| region.is_none() || t.home_region() == region.as_deref())
                .filter_map(|t| {
                    let trail = Trail {
                        arn: t.trail_arn().map(str::to_owned),
                        kms_key_id: t.kms_key_id().filter(|k| !k.is_empty()).map(str::to_owned),
                        tags: None,
                    };
                    Some(Listed::ready(t.name()?, trail))
                })
                .collect())
        })))
    }
}
