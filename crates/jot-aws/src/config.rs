//! AWS configuration from the standard chain (AWS_PROFILE, AWS_REGION,
//! AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, credentials files, SSO-less
//! profiles, web identity, ECS, IMDS) with bounded retries and timeouts, so a
//! dead endpoint fails in seconds with one line, not after minutes.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_http_client::tls;
use jot_core::cli::AwsSelection;

use crate::call_log::CallLog;
use crate::error::Context;
use crate::{AwsError, Result};

/// Attempts per AWS call (the first try and two retries), for transient failures.
pub const MAX_ATTEMPTS: u32 = 3;
/// Attempts of an Invoke call: one (see [`Aws::lambda_for_invoke`]).
pub const INVOKE_ATTEMPTS: u32 = 1;
/// Time allowed to open a connection to an endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for one attempt of a control-plane call (a silent endpoint
/// is tried again once within [`OPERATION_TIMEOUT`]).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Total deadline of one control-plane call, retries included: an endpoint
/// that accepts connections and never answers fails within it, with one line.
/// (Invoke has its own: the function's timeout plus 15 s. Waiters poll with
/// calls of their own, each under this deadline.)
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);

/// A loaded AWS configuration whose credentials and region are known to exist.
#[derive(Clone)]
pub struct Aws {
    config: SdkConfig,
}

impl Aws {
    /// Loads the configuration from the standard chain and checks, before any
    /// call, that it names a region and yields credentials. The credentials
    /// themselves are never printed or kept beyond the SDK's own cache.
    /// `selection` picks the profile and region over the chain's own choice.
    pub async fn load(selection: &AwsSelection) -> Result<Aws> {
        let profile = crate::account::check_profile(selection).await?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(2)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            );
        let config = crate::account::select(loader, selection).load().await;
        if config.region().is_none() {
            return Err(AwsError::NoRegion);
        }
        let Some(provider) = config.credentials_provider() else {
            return Err(AwsError::NoCredentials(
                "no credentials provider is configured".into(),
            ));
        };
        provider
            .provide_credentials()
            .await
            .map_err(|e| profile.credentials_error(e))?;
        Ok(Aws { config })
    }

    pub(crate) fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// The region every call goes to.
    pub fn region(&self) -> String {
        self.config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    /// A short description of where calls to `service` go, for error messages.
    pub(crate) fn context(&self, service: &str) -> Context {
        self.context_within(service, MAX_ATTEMPTS, OPERATION_TIMEOUT)
    }

    /// The same for a client configured with `attempts` attempts and
    /// `deadline` per call in all.
    pub(crate) fn context_within(
        &self,
        service: &str,
        attempts: u32,
        deadline: Duration,
    ) -> Context {
        let endpoint = match self.config.endpoint_url() {
            Some(url) => url.to_string(),
            None => format!("the AWS {service} endpoint in {}", self.region()),
        };
        Context {
            endpoint,
            attempts,
            deadline,
        }
    }

    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        let config = aws_sdk_ecr::config::Builder::from(&self.config)
            .interceptor(CallLog)
            .build();
        aws_sdk_ecr::Client::from_conf(config)
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        let config = aws_sdk_lambda::config::Builder::from(&self.config)
            .interceptor(CallLog)
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    /// A Lambda client for the Invoke call: one attempt that may last as long
    /// as an invocation (`timeout` plus headroom). An invocation that timed
    /// out may still be running, so it is never sent again (it would run twice).
    pub fn lambda_for_invoke(&self, timeout: Duration) -> aws_sdk_lambda::Client {
        // Both deadlines set: the client inherits the control plane's
        // 12 s operation deadline otherwise.
        let deadline = invoke_deadline(timeout);
        let config = aws_sdk_lambda::config::Builder::from(&self.config)
            .retry_config(RetryConfig::standard().with_max_attempts(INVOKE_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(deadline)
                    .operation_timeout(deadline)
                    .build(),
            )
            .interceptor(CallLog)
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
            .interceptor(CallLog)
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        let config = aws_sdk_iam::config::Builder::from(&self.config)
            .interceptor(CallLog)
            .build();
        aws_sdk_iam::Client::from_conf(config)
    }

    pub(crate) fn sts(&self) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.config)
            .interceptor(CallLog)
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }
}

/// The deadline of an Invoke call: the function's timeout plus 15 s.
pub fn invoke_deadline(timeout: Duration) -> Duration {
    timeout + Duration::from_secs(15)
}
