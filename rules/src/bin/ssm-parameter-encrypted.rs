//! Lambda function of the `ssm-parameter-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::ssm_parameter_encrypted::RULE)
}
