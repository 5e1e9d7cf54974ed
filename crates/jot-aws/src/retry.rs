//! Bounded waiting for Lambda's "an update is in progress" conflicts.
//!
//! Lambda answers 409 `ResourceConflictException` while an earlier update of
//! the function is still being applied (and 429 `TooManyRequestsException`
//! when throttled). Those calls succeed when repeated a little later, so jot
//! waits and retries them, with exponential backoff and a bound, instead of
//! failing half-way through a deploy. Transport retries are the SDK's own.

use std::future::Future;
use std::time::Duration;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};

/// Retries after a conflict before giving up.
pub const MAX_CONFLICT_RETRIES: u32 = 8;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Whether an AWS error code means "try again shortly": an update in flight
/// or throttling. Everything else is final.
pub fn is_transient_conflict(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ResourceConflictException" | "TooManyRequestsException")
    )
}

/// How long to wait before retry number `retry` (0-based), or `None` once the
/// bound is reached: 0.5 s, 1 s, 2 s, 4 s, then 8 s, in all under a minute.
pub fn conflict_backoff(retry: u32) -> Option<Duration> {
    (retry < MAX_CONFLICT_RETRIES).then(|| {
        FIRST_BACKOFF
            .saturating_mul(1 << retry.min(16))
            .min(MAX_BACKOFF)
    })
}

/// Runs `call` until it succeeds, fails with a final error, or the conflict
/// retries are used up (then the last conflict error is returned).
pub async fn on_conflict<T, E, R, F, Fut>(what: &str, call: F) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    repeat(call, is_transient_conflict, |wait| {
        jot_core::output::note(format!(
            "{what}: the function is busy with another update; retrying in {:.1} s",
            wait.as_secs_f64()
        ))
    })
    .await
}

/// Repeats `call` with [`conflict_backoff`] while `transient` says its error
/// code is worth waiting for; `tell` hears of each wait.
async fn repeat<T, E, R, F, Fut>(
    mut call: F,
    transient: fn(Option<&str>) -> bool,
    tell: impl Fn(Duration),
) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut retry = 0;
    loop {
        match call().await {
            Err(error) if transient(crate::error::error_code(&error)) => {
                let Some(wait) = conflict_backoff(retry) else {
                    return Err(error);
                };
                tell(wait);
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            other => return other,
        }
    }
}

/// Whether an AWS error code means the caller is being throttled (any service).
pub fn is_throttling(code: Option<&str>) -> bool {
    code.is_some_and(|c| crate::service_failure(c) == jot_core::error::AwsFailure::Throttled)
}

/// Runs `call` until it is no longer throttled, with the same bounded
/// backoff as conflicts (listings and removals make hundreds of calls; the
/// SDK's own three attempts are not enough under a low request quota).
pub async fn on_throttling<T, E, R, F, Fut>(what: &str, call: F) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    repeat(call, is_throttling, |wait| {
        jot_core::output::detail(format!(
            "{what}: throttled; retrying in {:.1} s",
            wait.as_secs_f64()
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_conflicts() {
        assert!(is_transient_conflict(Some("ResourceConflictException")));
        assert!(is_transient_conflict(Some("TooManyRequestsException")));
        assert!(!is_transient_conflict(Some("ResourceNotFoundException")));
        assert!(!is_transient_conflict(Some(
            "InvalidParameterValueException"
        )));
        assert!(!is_transient_conflict(None));
    }

    use aws_sdk_lambda::config::http::HttpResponse;
    use aws_sdk_lambda::error::ErrorMetadata;
    use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
    use aws_sdk_lambda::primitives::SdkBody;

    /// The error Lambda's SDK produces for a 409 (or another code).
    fn answer(status: u16, code: &str) -> SdkError<UpdateFunctionCodeError, HttpResponse> {
        let error = UpdateFunctionCodeError::generic(ErrorMetadata::builder().code(code).build());
        let response = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        SdkError::service_error(error, response)
    }

    #[tokio::test]
    async fn conflicts_are_retried_then_succeed() {
        let mut calls = 0;
        let started = std::time::Instant::now();
        let result = on_conflict("test", || {
            calls += 1;
            let outcome = if calls <= 2 {
                Err(answer(409, "ResourceConflictException"))
            } else {
                Ok(calls)
            };
            async move { outcome }
        })
        .await;
        assert_eq!(result.unwrap(), 3);
        // 0.5 s then 1 s of backoff.
        assert!(started.elapsed() >= Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn throttling_is_retried_in_any_service() {
        assert!(is_throttling(Some("ThrottlingException")));
        assert!(!is_throttling(Some("ResourceConflictException")));
        let mut calls = 0;
        let result = on_throttling("test", || {
            calls += 1;
            let outcome = if calls == 1 {
                Err(answer(400, "ThrottlingException"))
            } else {
                Ok(calls)
            };
            async move { outcome }
        })
        .await;
        assert_eq!(result.unwrap(), 2);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let mut calls = 0;
        let result: Result<(), _> = on_conflict("test", || {
            calls += 1;
            async { Err(answer(400, "InvalidParameterValueException")) }
        })
        .await;
        assert_eq!(calls, 1);
        assert_eq!(
            crate::error::error_code(&result.unwrap_err()),
            Some("InvalidParameterValueException")
        );
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        let waits: Vec<Duration> = (0..).map_while(conflict_backoff).collect();
        assert_eq!(waits.len() as u32, MAX_CONFLICT_RETRIES);
        assert_eq!(waits[0], Duration::from_millis(500));
        assert_eq!(waits[1], Duration::from_secs(1));
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        assert!(waits.iter().all(|w| *w <= MAX_BACKOFF));
        let total: Duration = waits.iter().sum();
        assert!(total < Duration::from_secs(60), "{total:?}");
        assert_eq!(conflict_backoff(MAX_CONFLICT_RETRIES), None);
        assert_eq!(conflict_backoff(u32::MAX), None);
    }
}
