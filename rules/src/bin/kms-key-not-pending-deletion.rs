//! Lambda function of the `kms-key-not-pending-deletion` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_not_pending_deletion::RULE)
}
