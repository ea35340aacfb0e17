//! Lambda function of the `lambda-env-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::lambda_env_encrypted::RULE)
}
