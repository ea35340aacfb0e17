//! AWS access shared by every rule: one SDK configuration with explicit
//! retries, the interceptors every client gets (a per-operation call
//! counter, and in tests the mock responder), and the execution role.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_config::config::{Intercept, SharedCredentialsProvider, SharedInterceptor};
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK retry policy of every atrest client: standard mode with 10
/// attempts (throttling and 5xx are retried with exponential backoff and
/// jitter, up to 20 s between attempts).
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(10)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

/// Counts the AWS operations made through the clients that carry it, by
/// `service:Operation` (once per operation, not per retry attempt).
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The calls made since an earlier snapshot.
    pub fn since(&self, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
        self.snapshot()
            .into_iter()
            .filter_map(|(k, n)| {
                let d = n - before.get(&k).copied().unwrap_or(0);
                (d > 0).then_some((k, d))
            })
            .collect()
    }

    fn record(&self, key: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(key).or_insert(0) += 1;
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "atrest.CallCounter"
    }

    // Serialization runs once per operation, after the operation's
    // configuration (and so its metadata) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.record(format!("{}:{}", iam_prefix(meta.service()), meta.name()));
        }
        Ok(())
    }
}

/// The IAM action prefix of an SDK service id ("Config Service" → "config").
fn iam_prefix(service_id: &str) -> String {
    let lower = service_id.to_ascii_lowercase();
    lower.strip_suffix(" service").unwrap_or(&lower).replace(' ', "")
}

/// The SDK configuration and interceptors every client of one set of
/// credentials is built from.
#[derive(Debug, Clone)]
pub struct AwsContext {
    sdk: SdkConfig,
    interceptors: Vec<SharedInterceptor>,
    calls: CallCounter,
}

impl AwsContext {
    /// The standard AWS configuration (environment, profile, SSO, IMDS,
    /// container credentials; `AWS_ENDPOINT_URL`), with atrest's retries.
    pub async fn from_env() -> Self {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry_config())
            .load()
            .await;
        Self::new(sdk)
    }

    /// Wraps a ready SDK configuration. A configuration without a clock, a
    /// sleep or an identity cache gets the system clock, tokio's sleep and
    /// a shared lazy cache: credential providers (AssumeRole) and retries
    /// need them.
    pub fn new(sdk: SdkConfig) -> Self {
        let mut builder = sdk.to_builder();
        if sdk.time_source().is_none() {
            builder.set_time_source(Some(SharedTimeSource::new(SystemTimeSource::new())));
        }
        if sdk.sleep_impl().is_none() {
            builder.set_sleep_impl(default_async_sleep());
        }
        // One identity cache for every client built from here, so assumed
        // role credentials are fetched once and reused until they expire.
        if sdk.identity_cache().is_none() {
            builder.set_identity_cache(Some(IdentityCache::lazy().build()));
        }
        let sdk = builder.build();
        let calls = CallCounter::default();
        AwsContext {
            sdk,
            interceptors: vec![SharedInterceptor::new(calls.clone())],
            calls,
        }
    }

    /// Adds an interceptor to every client built from here on (tests use
    /// this for `aws-smithy-mocks`).
    pub fn with_interceptor(mut self, interceptor: impl Intercept + 'static) -> Self {
        self.interceptors.push(SharedInterceptor::new(interceptor));
        self
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The same credentials, interceptors and call counter in another
    /// region (a trail's log group may live in its home region).
    pub fn in_region(&self, region: &str) -> AwsContext {
        AwsContext {
            sdk: self
                .sdk
                .to_builder()
                .region(aws_config::Region::new(region.to_owned()))
                .build(),
            interceptors: self.interceptors.clone(),
            calls: self.calls.clone(),
        }
    }

    pub fn interceptors(&self) -> &[SharedInterceptor] {
        &self.interceptors
    }

    /// The region of the configuration, if any.
    pub fn region(&self) -> Option<&str> {
        self.sdk.region().map(|r| r.as_ref())
    }

    pub fn calls(&self) -> &CallCounter {
        &self.calls
    }

    /// An AWS Config client.
    pub fn config(&self) -> aws_sdk_config::Client {
        crate::aws_client!(self, aws_sdk_config)
    }

    /// A KMS client.
    pub fn kms(&self) -> aws_sdk_kms::Client {
        crate::aws_client!(self, aws_sdk_kms)
    }

    /// The same configuration with credentials from STS AssumeRole on
    /// `role_arn` (refreshed before they expire), and a fresh call counter
    /// shared with this one.
    pub async fn assume_role(&self, role_arn: &str, session_name: &str) -> Self {
        let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
            .session_name(session_name)
            .configure(&self.sdk)
            .build()
            .await;
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .identity_cache(IdentityCache::lazy().build())
            .build();
        AwsContext {
            sdk,
            interceptors: self.interceptors.clone(),
            calls: self.calls.clone(),
        }
    }
}

/// Builds a client of any AWS SDK crate from an [`AwsContext`], with its
/// interceptors: `aws_client!(&ctx, aws_sdk_ec2)`.
#[macro_export]
macro_rules! aws_client {
    ($ctx:expr, $sdk:ident) => {{
        let ctx: &$crate::aws::AwsContext = $ctx;
        let mut builder = $sdk::config::Builder::from(ctx.sdk_config());
        for interceptor in ctx.interceptors() {
            builder.push_interceptor(interceptor.clone());
        }
        $sdk::Client::from_conf(builder.build())
    }};
}
