//! Lambda function of the `kms-critical-calls-monitored` Config rule.

fn main() -> Result<(), atrest_common::lambda::LambdaError> {
    atrest_common::lambda::serve(&atrest_rules::kms_critical_calls_monitored::RULE)
}
