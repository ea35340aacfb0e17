//! Lambda function of the `kms-alias-naming` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_alias_naming::RULE)
}
