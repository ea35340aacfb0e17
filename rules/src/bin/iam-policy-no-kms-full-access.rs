//! Lambda function of the `iam-policy-no-kms-full-access` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::iam_policy_no_kms_full_access::RULE)
}
