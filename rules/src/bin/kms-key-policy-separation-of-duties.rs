//! Lambda function of the `kms-key-policy-separation-of-duties` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_policy_separation_of_duties::RULE)
}
