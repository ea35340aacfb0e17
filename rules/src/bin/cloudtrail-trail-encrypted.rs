//! Lambda function of the `cloudtrail-trail-encrypted` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::cloudtrail_trail_encrypted::RULE)
}
