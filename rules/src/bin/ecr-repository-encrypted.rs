//! Lambda function of the `ecr-repository-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::ecr_repository_encrypted::RULE)
}
