//! Lambda function of the `logs-log-group-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::logs_log_group_encrypted::RULE)
}
