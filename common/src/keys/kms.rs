//! Key facts from KMS: DescribeKey, GetKeyRotationStatus, ListResourceTags.

use async_trait::async_trait;

use super::{KeyFacts, KeyManager, KeySource, Lookup, Rotation, Tags};
use crate::error::{AwsError, AwsErrorKind, Error};

/// Reads key facts through the KMS API.
pub struct KmsKeySource {
    client: aws_sdk_kms::Client,
}

impl KmsKeySource {
    pub fn new(client: aws_sdk_kms::Client) -> Self {
        KmsKeySource { client }
    }
}

/// Sorts a failed KMS call into a look-up outcome, or an error when the
/// failure may pass (the invocation then fails and Config retries).
fn outcome<T>(err: AwsError, what: &str) -> Result<Lookup<T>, Error> {
    match (err.kind, err.code.as_deref()) {
        (AwsErrorKind::NotFound, _) => Ok(Lookup::NotFound(format!("{what} does not exist"))),
        (_, Some("InvalidArnException")) => Ok(Lookup::NotFound(format!("{what} is not a valid key reference"))),
        (AwsErrorKind::AccessDenied, _) => Ok(Lookup::Unreadable(format!(
            "access denied to kms:{} on {what}",
            err.operation
        ))),
        _ => Err(err.into()),
    }
}

#[async_trait]
impl KeySource for KmsKeySource {
    async fn describe(&self, reference: &str) -> Result<Lookup<KeyFacts>, Error> {
        let out = match self.client.describe_key().key_id(reference).send().await {
            Ok(out) => out,
            Err(e) => {
                return outcome(
                    AwsError::from_sdk("kms", "DescribeKey", &e),
                    &format!("KMS key {reference}"),
                )
            }
        };
        let Some(meta) = out.key_metadata() else {
            return Ok(Lookup::Unreadable(format!(
                "DescribeKey returned no metadata for {reference}"
            )));
        };
        let manager = match meta.key_manager().map(|m| m.as_str()) {
            Some("CUSTOMER") => KeyManager::Customer,
            Some("AWS") => KeyManager::Aws,
            other => {
                return Ok(Lookup::Unreadable(format!(
                    "DescribeKey returned an unknown key manager {other:?} for {reference}"
                )))
            }
        };
        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
        Ok(Lookup::Found(KeyFacts {
            arn: meta.arn().map(str::to_owned).unwrap_or_else(|| reference.to_owned()),
            key_id: meta.key_id().to_owned(),
            account_id: meta.aws_account_id().map(str::to_owned),
            manager,
            state: text(meta.key_state().map(|s| s.as_str())),
            spec: text(meta.key_spec().map(|s| s.as_str())),
            usage: text(meta.key_usage().map(|s| s.as_str())),
            origin: text(meta.origin().map(|s| s.as_str())),
            custom_key_store_id: meta.custom_key_store_id().map(str::to_owned),
            multi_region: meta.multi_region().unwrap_or(false),
            expiration_model: meta.expiration_model().map(|m| m.as_str().to_owned()),
            valid_to: meta.valid_to().copied(),
            deletion_date: meta.deletion_date().copied(),
        }))
    }

    async fn rotation(&self, key: &KeyFacts) -> Result<Lookup<Rotation>, Error> {
        match self.client.get_key_rotation_status().key_id(&key.arn).send().await {
            Ok(out) => Ok(Lookup::Found(Rotation {
                enabled: out.key_rotation_enabled(),
                period_days: out.rotation_period_in_days(),
                supported: true,
            })),
            Err(e) => {
                let err = AwsError::from_sdk("kms", "GetKeyRotationStatus", &e);
                match err.code.as_deref() {
                    Some("UnsupportedOperationException") => Ok(Lookup::Found(Rotation {
                        enabled: false,
                        period_days: None,
                        supported: false,
                    })),
                    Some("KMSInvalidStateException") => Ok(Lookup::Unreadable(format!(
                        "rotation status of KMS key {} cannot be read in its state: {}",
                        key.arn, err.message
                    ))),
                    _ => outcome(err, &format!("KMS key {}", key.arn)),
                }
            }
        }
    }

    async fn tags(&self, key: &KeyFacts) -> Result<Lookup<Tags>, Error> {
        let mut tags = Tags::new();
        let mut pages = self
            .client
            .list_resource_tags()
            .key_id(&key.arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    for tag in page.tags() {
                        tags.insert(tag.tag_key().to_owned(), tag.tag_value().to_owned());
                    }
                }
                Err(e) => {
                    return outcome(
                        AwsError::from_sdk("kms", "ListResourceTags", &e),
                        &format!("KMS key {}", key.arn),
                    )
                }
            }
        }
        Ok(Lookup::Found(tags))
    }

    async fn policy(&self, key: &KeyFacts) -> Result<Lookup<String>, Error> {
        match self
            .client
            .get_key_policy()
            .key_id(&key.arn)
            .policy_name("default")
            .send()
            .await
        {
            Ok(out) => Ok(match out.policy() {
                Some(p) => Lookup::Found(p.to_owned()),
                None => Lookup::Unreadable(format!("GetKeyPolicy returned no policy for {}", key.arn)),
            }),
            Err(e) => outcome(
                AwsError::from_sdk("kms", "GetKeyPolicy", &e),
                &format!("KMS key {}", key.arn),
            ),
        }
    }

    async fn aliases(&self, key: &KeyFacts) -> Result<Lookup<Vec<String>>, Error> {
        let mut names = Vec::new();
        let mut pages = self.client.list_aliases().key_id(&key.key_id).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => names.extend(page.aliases().iter().filter_map(|a| a.alias_name().map(str::to_owned))),
                Err(e) => {
                    return outcome(
                        AwsError::from_sdk("kms", "ListAliases", &e),
                        &format!("KMS key {}", key.arn),
                    )
                }
            }
        }
        Ok(Lookup::Found(names))
    }
}
