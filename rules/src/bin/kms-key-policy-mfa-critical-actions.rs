//! Lambda function of the `kms-key-policy-mfa-critical-actions` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_policy_mfa_critical_actions::RULE)
}
