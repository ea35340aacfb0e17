//! Lambda function of the `rds-storage-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::rds_storage_encrypted::RULE)
}
