//! Lambda function of the `kinesis-stream-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kinesis_stream_encrypted::RULE)
}
