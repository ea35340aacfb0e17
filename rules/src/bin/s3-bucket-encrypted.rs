//! Lambda function of the `s3-bucket-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::s3_bucket_encrypted::RULE)
}
