//! Lambda function of the `ebs-volume-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::ebs_volume_encrypted::RULE)
}
