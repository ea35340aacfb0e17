//! Lambda function of the `efs-file-system-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::efs_file_system_encrypted::RULE)
}
