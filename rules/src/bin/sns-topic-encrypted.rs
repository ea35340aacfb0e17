//! Lambda function of the `sns-topic-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::sns_topic_encrypted::RULE)
}
