//! Test support (feature `testing`): an [`AwsContext`] whose every client
//! answers from `aws-smithy-mocks` rules, so whole invocations (KMS, Config
//! and a rule's own service) run without a network.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_config::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_mocks::{create_mock_http_client, MockResponseInterceptor, Rule, RuleMode};

use crate::aws::{retry_config, AwsContext};

/// An AWS context answering from `rules`, with atrest's retry policy (its
/// backoff shortened to keep tests fast).
pub fn mock_aws(mode: RuleMode, rules: &[&Rule]) -> AwsContext {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(mode);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "atrest-tests",
        )))
        .http_client(create_mock_http_client())
        .retry_config(
            retry_config()
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_max_backoff(std::time::Duration::from_millis(5)),
        )
        .build();
    AwsContext::new(sdk).with_interceptor(interceptor)
}
