//! # ebs-encryption-by-default
//!
//! ## What it checks
//! In the rule's region, EBS encryption by default is on, and the default
//! key of new volumes is a customer-managed KMS key — one of `kmsKeyArns`
//! when given — unless `allowAwsManagedKeys`. Reported for the account
//! (`AWS::::Account`, resource id the account id). Unlike the managed rule
//! EC2_EBS_ENCRYPTION_BY_DEFAULT, it also judges the default key.
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
//! Encryption by default makes every new volume and snapshot copy encrypted
//! without anyone having to remember; its default key decides who can read
//! them. With the AWS-managed `aws/ebs` key as default, new volumes end up
//! outside the organisation's key policies.
//!
//! ## Parameters
//! - `kmsKeyArns` (optional): the allowed default keys.
//! - `allowAwsManagedKeys` (default `false`): accept `alias/aws/ebs`.
//! - `trustedKeyAccounts` (optional): accounts besides the evaluated one
//!   whose keys may protect the data.
//!
//! ## NOT_APPLICABLE when
//! Never: every account and region has a setting.

use async_trait::async_trait;
use atrest_common::remediation::{Remediation, RunbookPermission, RunbookValue, GET_AUTOMATION_EXECUTION};
use atrest_common::sweep::one_page;
use atrest_common::{
    AwsError, ConfigurationItem, Error, Found, PciDss, Rule, RuleContext, RuleSpec, Sweep, Triggers, Verdict,
};

use crate::key_check::{judge_key, ALLOW_AWS_MANAGED_KEYS, KMS_KEY_ARNS, TRUSTED_KEY_ACCOUNTS};

const ACCOUNT: &str = "AWS::::Account";

/// AWSConfigRemediation-EnableEbsEncryptionByDefault: new volumes encrypted.
static REMEDIATION: Remediation = Remediation {
    runbook: "AWSConfigRemediation-EnableEbsEncryptionByDefault",
    parameters: &[("AutomationAssumeRole", RunbookValue::AutomationRole)],
    permissions: &[
        atrest_common::automation_permissions!("AWSConfigRemediation-EnableEbsEncryptionByDefault"),
        GET_AUTOMATION_EXECUTION,
        RunbookPermission {
            actions: &["ec2:EnableEbsEncryptionByDefault", "ec2:GetEbsEncryptionByDefault"],
            resources: &["*"],
        },
    ],
    note: "Turns EBS encryption by default on; the default key stays as it is (alias/aws/ebs unless set), so choosing a customer-managed default key is left to people.",
};

pub static SPEC: RuleSpec = RuleSpec {
    id: "ebs-encryption-by-default",
    description: "EBS encryption by default is on in the region, with a customer-managed default key \
                  (optionally one of kmsKeyArns).",
    evidence: "COMPLIANT proves: the data is encrypted under a customer-managed key of a trusted account (one of `kmsKeyArns` when given). It does not prove: that the key is usable (`kms-key-usable`) or its policy sound (the `kms-key-policy-*` rules).",
    resource_types: &[ACCOUNT],
    triggers: Triggers {
        change: false,
        periodic: true,
    },
    parameters: &[KMS_KEY_ARNS, ALLOW_AWS_MANAGED_KEYS, TRUSTED_KEY_ACCOUNTS],
    own_iam_actions: &[
        "ec2:GetEbsDefaultKmsKeyId",
        "ec2:GetEbsEncryptionByDefault",
        "kms:DescribeKey",
    ],
    pci_dss: PciDss {
        v3_2_1: &["3.4"],
        v4_0: &["3.5.1"],
    },
    timeout_seconds: 60,
    memory_mb: 128,
    remediation: Some(&REMEDIATION),
};

/// The rule.
pub struct EbsEncryptionByDefault;

pub static RULE: EbsEncryptionByDefault = EbsEncryptionByDefault;

/// Judges the region's setting: whether it is on, and its default key.
pub async fn judge(enabled: bool, default_key: Option<&str>, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
    if !enabled {
        return Ok(Verdict::non_compliant("EBS encryption by default is off."));
    }
    judge_key(ctx, "EBS encryption by default", default_key.unwrap_or("alias/aws/ebs")).await
}

#[async_trait]
impl Rule for EbsEncryptionByDefault {
    fn spec(&self) -> &'static RuleSpec {
        &SPEC
    }

    /// Judges a recorded setting: an item of type AWS::::Account whose
    /// configuration holds `ebsEncryptionByDefault` and `kmsKeyId` (as the
    /// CLI records them; Config sends this periodic rule no items).
    async fn evaluate_item(&self, item: &ConfigurationItem, ctx: &RuleContext<'_>) -> Result<Verdict, Error> {
        let Some(enabled) = item.bool_field(&["ebsEncryptionByDefault", "EbsEncryptionByDefault"]) else {
            return Ok(Verdict::non_compliant(
                "The record does not say whether EBS encryption by default is on: cannot be verified.",
            ));
        };
        judge(enabled, item.str_field(&["kmsKeyId", "KmsKeyId"]), ctx).await
    }

    fn sweep<'a>(&'a self, ctx: &'a RuleContext<'a>) -> Result<Sweep<'a>, Error> {
        let account = ctx
            .account_id
            .ok_or_else(|| Error::Event("the scheduled notification names no account".into()))?;
        let ec2 = atrest_common::aws_client!(ctx.aws()?, aws_sdk_ec2);
        let setting = Found::new(ACCOUNT, account, async move {
            let enabled = ec2
                .get_ebs_encryption_by_default()
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2", "GetEbsEncryptionByDefault", &e))?
                .ebs_encryption_by_default()
                .unwrap_or(false);
            let key = if enabled {
                ec2.get_ebs_default_kms_key_id()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ec2", "GetEbsDefaultKmsKeyId", &e))?
                    .kms_key_id()
                    .map(str::to_owned)
            } else {
                None
            };
            judge(enabled, key.as_deref(), ctx).await.map(Some)
        });
        Ok(Box::new(one_page(vec![setting])))
    }
}
