//! Lambda function of the `ebs-encryption-by-default` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::ebs_encryption_by_default::RULE)
}
