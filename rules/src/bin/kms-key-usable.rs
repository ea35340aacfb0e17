//! Lambda function of the `kms-key-usable` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_usable::RULE)
}
