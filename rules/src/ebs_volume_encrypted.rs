//! # ebs-volume-encrypted
//!
//! ## What it checks
//! Every EBS volume is encrypted with a customer-managed KMS key and, when
//! `kmsKeyArns` is given, with one of those keys (aliases are resolved to key
//! ARNs before comparing). Unlike the managed rule ENCRYPTED_VOLUMES, it
//! covers unattached volumes too, and rejects the AWS-managed `aws/ebs` key.
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
//! A customer-managed key puts access to the data under a key policy the
//! organisation writes, audits and can revoke; the AWS-managed key's policy
//! lets any principal of the account that may use EBS decrypt through it
//! (AWS KMS best practices: "use customer managed keys for sensitive
//! data"). PCI DSS asks that stored account data be rendered unreadable and
//! that access to the keys be restricted.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed keys.
//! - `allowAwsManagedKeys` (default `false`): accept AWS-managed keys.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! The volume was deleted, is no longer recorded, or left the rule's scope.

use async_trait::async_trait;
use atrest_common::{ConfigurationItem, Error, Outbox, PciDss, Rule, RuleContext, RuleSpec, Triggers, Verdict};

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const VOLUME: &str = "AWS::EC2::Volume";

pub static SPEC: RuleSpec = RuleSpec {
    id: "ebs-volume-encrypted",
    description: "EBS volumes are encrypted with a customer-managed KMS key (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[VOLUME],
    triggers: Triggers {
        change: true,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &["ec2:DescribeVolumes", "kms:DescribeKey"],
    pci_dss: PciDss {
        v3_2_1: &["3.4", "3.5"],
        v4_0: &["3.5.1", "3.6.1"],
    },
    timeout_seconds: 300,
};

/// The rule.
pub struct EbsVolumeEncrypted;

pub static RULE: EbsVolumeEncrypted = EbsVolumeEncrypted;

/// What the judgement needs of a volume, from an item or DescribeVolumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume<'a> {
    /// `None` when the record does not say.
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<&'a str>,
}

impl<'a> Volume<'a> {
    pub fn from_item(item: &'a ConfigurationItem) -> Self {
        Volume {
            encrypted: item.bool_field(&["encrypted", "Encrypted"]),
            kms_key_id: item.str_field(&["kmsKeyId", "KmsKeyId"]),
        }
    }
}

/// Judges one volume.
pub async fn judge(volume: &Volume<'_>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    match (volume.encrypted, volume.kms_key_id) {
        (Some(false), _) => Ok(Verdict::non_compliant("Volume is not encrypted.")),
        (None, _) => Ok(Verdict::non_compliant(
            "The record does not say whether the volume is encrypted: encryption cannot be verified.",
        )),
        (Some(true), None) => Ok(Verdict::non_compliant(
            "Volume is encrypted, but the record names no KMS key: the key cannot be verified.",
        )),
        (Some(true), Some(key)) => judge_key(ctx, "Volume", key).await,
    }
}

#[async_trait]
impl Rule for EbsVolumeEncrypted {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        judge(&Volume::from_item(item), ctx).await
    }

    async fn sweep(&self, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
        let ec2 = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ec2);
        let mut pages = ec2.describe_volumes().into_paginator().page_size(500).send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| atrest_common::AwsError::from_sdk("ec2", "DescribeVolumes", &e))?;
            let n = page.volumes().len();
            for (i, v) in page.volumes().iter().enumerate() {
                out.ensure_time(n - i).await?;
                let Some(id) = v.volume_id() else { continue };
                let volume = Volume {
                    encrypted: v.encrypted(),
                    kms_key_id: v.kms_key_id(),
                };
                let verdict = judge(&volume, ctx).await?;
                out.push(VOLUME, id, verdict).await?;
            }
        }
        Ok(())
    }
}
