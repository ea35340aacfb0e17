//! Lambda function of the `kms-key-policy-no-untrusted-access` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_key_policy_no_untrusted_access::RULE)
}
