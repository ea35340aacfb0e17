//! Lambda function of the `kms-key-rotation-enabled` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_rotation_enabled::RULE)
}
