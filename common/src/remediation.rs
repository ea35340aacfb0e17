//! Remediation of a rule's NON_COMPLIANT resources through one of the
//! AWS-owned Automation runbooks AWS Config offers (`AWSConfigRemediation-*`),
//! as the AWS documentation describes each: its parameters and the IAM
//! actions its automation role needs. The registry carries it, so `atrest
//! pack --remediation` and the CDK app write the same
//! `AWS::Config::RemediationConfiguration` and role from one place.

/// Where a runbook parameter's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunbookValue {
    /// The ARN of the runbook's automation role (one role per runbook,
    /// made by the deployment: see [`Remediation::role_name`]).
    AutomationRole,
    /// The non-compliant resource's id (Config's `RESOURCE_ID`).
    ResourceId,
    /// A customer-managed key ARN the deployment names (`atrest pack
    /// --remediation-key-arn`, the app's `atrest:remediationKeyArn`).
    KeyArn,
}

impl RunbookValue {
    /// How the value reads in the rule manifest.
    pub fn name(self) -> &'static str {
        match self {
            RunbookValue::AutomationRole => "automation-role",
            RunbookValue::ResourceId => "resource-id",
            RunbookValue::KeyArn => "key-arn",
        }
    }
}

/// One IAM statement of the automation role: actions on resources (ARN
/// patterns with CloudFormation's `${AWS::…}` placeholders).
#[derive(Debug, Clone, Copy)]
pub struct RunbookPermission {
    pub actions: &'static [&'static str],
    pub resources: &'static [&'static str],
}

/// A rule's remediation runbook.
#[derive(Debug)]
pub struct Remediation {
    /// The AWS-owned Automation runbook (`AWSConfigRemediation-…`).
    pub runbook: &'static str,
    /// Its parameters, each with where the value comes from.
    pub parameters: &'static [(&'static str, RunbookValue)],
    /// What its role needs: the runbook's documented required permissions.
    pub permissions: &'static [RunbookPermission],
    /// One line: what the runbook changes, and what it leaves to people.
    pub note: &'static str,
}

/// Where the automation roles live (the functions' roles' path too).
pub const ROLE_PATH: &str = "/atrest/";

/// The two SSM permissions every Automation runbook's role is documented to
/// need, for `runbook`.
#[macro_export]
macro_rules! automation_permissions {
    ($runbook:literal) => {
        $crate::remediation::RunbookPermission {
            actions: &["ssm:StartAutomationExecution"],
            resources: &[concat!(
                "arn:${AWS::Partition}:ssm:${AWS::Region}:*:automation-definition/",
                $runbook,
                ":*"
            )],
        }
    };
}

/// The execution permission: reading the runbook's own executions.
pub const GET_AUTOMATION_EXECUTION: RunbookPermission = RunbookPermission {
    actions: &["ssm:GetAutomationExecution"],
    resources: &["arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-execution/*"],
};

impl Remediation {
    /// The automation role's name: `atrest-remediation-` and the runbook's
    /// name after `AWSConfigRemediation-`, in kebab-case
    /// (`atrest-remediation-enable-key-rotation`).
    pub fn role_name(&self) -> String {
        let short = self
            .runbook
            .strip_prefix("AWSConfigRemediation-")
            .unwrap_or(self.runbook);
        let mut kebab = String::new();
        let chars: Vec<char> = short.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
            if c.is_ascii_uppercase() && i > 0 && (prev_lower || next_lower) {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        }
        format!("atrest-remediation-{kebab}")
    }

    /// Whether the runbook needs a key ARN from the deployment.
    pub fn needs_key_arn(&self) -> bool {
        self.parameters.iter().any(|(_, v)| *v == RunbookValue::KeyArn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_the_runbook_in_kebab_case() {
        let named = |runbook| Remediation {
            runbook,
            parameters: &[],
            permissions: &[],
            note: "",
        };
        assert_eq!(
            named("AWSConfigRemediation-EnableKeyRotation").role_name(),
            "atrest-remediation-enable-key-rotation"
        );
        assert_eq!(
            named("AWSConfigRemediation-EncryptSNSTopic").role_name(),
            "atrest-remediation-encrypt-sns-topic"
        );
        assert_eq!(
            named("AWSConfigRemediation-EnableEbsEncryptionByDefault").role_name(),
            "atrest-remediation-enable-ebs-encryption-by-default"
        );
    }
}
