//! Lambda function of the `dynamodb-table-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::dynamodb_table_encrypted::RULE)
}
