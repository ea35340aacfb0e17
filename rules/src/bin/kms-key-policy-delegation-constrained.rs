//! Lambda function of the `kms-key-policy-delegation-constrained` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_policy_delegation_constrained::RULE)
}
