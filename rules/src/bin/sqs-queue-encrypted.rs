//! Lambda function of the `sqs-queue-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::sqs_queue_encrypted::RULE)
}
