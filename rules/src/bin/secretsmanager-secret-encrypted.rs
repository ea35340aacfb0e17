//! Lambda function of the `secretsmanager-secret-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::secretsmanager_secret_encrypted::RULE)
}
