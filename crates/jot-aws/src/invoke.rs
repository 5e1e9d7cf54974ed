//! Remote invocation for `jot-invoke`: a Lambda function behind the same
//! [`Invoker`] interface as the local emulator, so payloads, `--repeat`,
//! `--expect`, exit codes and `--json` timings work the same way remotely.

use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{LogType, State};
use aws_smithy_types::base64;
use bytes::Bytes;
use jot_core::invocation::{Invocation, Outcome};
use jot_core::output;
use jot_core::session::{self, InvokePlan, Invoker};

use crate::error::Context;
use crate::{Aws, AwsError, Result};

/// What `jot-invoke` asks of a remote invocation.
#[derive(Debug, Clone, Default)]
pub struct RemoteOptions {
    /// Version number or alias to invoke (default `$LATEST`).
    pub qualifier: Option<String>,
    /// Seconds an invocation may take before jot stops waiting.
    pub timeout: Duration,
    /// Print each invocation's log tail (Lambda's last 4 KB) on stderr.
    pub logs: bool,
    /// Print timings as JSON on stderr.
    pub json: bool,
}

/// A Lambda function invoked synchronously (RequestResponse).
pub struct RemoteFunction {
    client: aws_sdk_lambda::Client,
    ctx: Context,
    name: String,
    qualifier: Option<String>,
    logs: bool,
    invoked: bool,
    /// Init and Restore Duration from the first REPORT line that has them.
    cold_start: Vec<(&'static str, Duration)>,
}

/// A function name, partial or full ARN, as Lambda accepts for Invoke.
pub fn validate_function_name(name: &str) -> Result<()> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let arn_ok =
        name.starts_with("arn:") && name.len() <= 170 && !name.contains(char::is_whitespace);
    if plain(name) || arn_ok {
        Ok(())
    } else {
        Err(AwsError::InvalidInput(format!(
            "function name {name:?} is not valid for Lambda; use 1 to 64 letters, digits, '-' or '_', or a function ARN"
        )))
    }
}

/// `$LATEST`, a version number or an alias name.
pub fn validate_qualifier(qualifier: &str) -> Result<()> {
    let version = !qualifier.is_empty() && qualifier.chars().all(|c| c.is_ascii_digit());
    if qualifier == jot_core::names::LATEST
        || version
        || crate::deploy::validate_alias(qualifier).is_ok()
    {
        Ok(())
    } else {
        Err(AwsError::InvalidInput(format!(
            "--qualifier {qualifier:?} is neither $LATEST, a version number nor an alias name"
        )))
    }
}

impl RemoteFunction {
    pub fn new(aws: &Aws, name: &str, options: &RemoteOptions) -> Self {
        RemoteFunction {
            client: aws.lambda_for_invoke(options.timeout),
            ctx: aws.context_within(
                "Lambda",
                crate::config::INVOKE_ATTEMPTS,
                crate::config::invoke_deadline(options.timeout),
            ),
            name: name.to_string(),
            qualifier: options.qualifier.clone(),
            logs: options.logs,
            invoked: false,
            cold_start: Vec::new(),
        }
    }

    /// What the session reports as its target: `name` or `name:qualifier`.
    pub fn target(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{}:{q}", self.name),
            None => self.name.clone(),
        }
    }

    async fn call(&mut self, payload: Bytes) -> Result<Invocation> {
        let started = Instant::now();
        let output = self
            .client
            .invoke()
            .function_name(&self.name)
            .set_qualifier(self.qualifier.clone())
            .payload(Blob::new(payload.to_vec()))
            .set_log_type(self.logs.then_some(LogType::Tail))
            .send()
            .await
            .map_err(|e| self.ctx.sdk(&format!("Invoke {}", self.target()), e))?;
        let duration = started.elapsed();
        let log = output.log_result().map(decode_log);
        if let Some(log) = &log {
            eprint!("{log}");
            if !log.ends_with('\n') {
                eprintln!();
            }
        }
        let body = Bytes::from(
            output
                .payload()
                .map(|blob| blob.as_ref().to_vec())
                .unwrap_or_default(),
        );
        let reported = log.as_deref().map(report_durations).unwrap_or_default();
        let cold = match &log {
            Some(_) => !reported.is_empty(),
            None => !self.invoked,
        };
        if self.cold_start.is_empty() {
            self.cold_start = reported;
        }
        self.invoked = true;
        let outcome = match output.function_error() {
            Some(kind) => Outcome::FunctionError {
                error_type: error_type(&body, kind),
                body,
            },
            None => Outcome::Response(body),
        };
        Ok(Invocation {
            request_id: String::new(),
            outcome,
            duration,
            cold,
        })
    }
}

impl Invoker for RemoteFunction {
    async fn invoke_once(&mut self, payload: Bytes) -> jot_core::Result<Invocation> {
        self.call(payload).await.map_err(Into::into)
    }
}

/// Lambda's `Init Duration` and `Restore Duration` (SnapStart) from the
/// REPORT line of a log tail, as `lambda_init` / `lambda_restore`.
pub fn report_durations(log: &str) -> Vec<(&'static str, Duration)> {
    let Some(report) = log.lines().rev().find_map(crate::logs::Report::parse) else {
        return Vec::new();
    };
    [
        ("lambda_init", report.init_ms),
        ("lambda_restore", report.restore_ms),
    ]
    .into_iter()
    .filter_map(|(key, ms)| ms.map(|ms| (key, Duration::from_secs_f64(ms / 1e3))))
    .collect()
}

/// The log tail Lambda returns base64-encoded, as text.
pub fn decode_log(encoded: &str) -> String {
    base64::decode(encoded)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|_| "(the log tail is not base64)\n".into())
}

/// The error type of a function error: the payload's `errorType`, else
/// Lambda's `X-Amz-Function-Error` value (`Unhandled`).
pub fn error_type(body: &[u8], function_error: &str) -> String {
    jot_core::check::error_field(body, "errorType").unwrap_or_else(|| function_error.to_string())
}

/// Runs an invoke plan against a Lambda function: responses to `out`, the
/// verdict as the result, timings on stderr with `--json`.
pub async fn run(
    name: &str,
    plan: &InvokePlan,
    options: &RemoteOptions,
    selection: &jot_core::cli::AwsSelection,
    descriptor: Option<&jot_core::descriptor::Descriptor>,
    out: &mut impl std::io::Write,
) -> jot_core::Result<()> {
    validate_function_name(name)?;
    if let Some(qualifier) = &options.qualifier {
        validate_qualifier(qualifier)?;
    }
    let aws = Aws::load(selection).await?;
    aws.check_origin(descriptor).await?;
    check_state(&aws, name, options.qualifier.as_deref()).await?;
    let mut function = RemoteFunction::new(&aws, name, options);
    let started = Instant::now();
    let target = function.target();
    let (mut report, verdict) = session::run(&target, plan, started, &mut function, out).await;
    report.cold_start = std::mem::take(&mut function.cold_start);
    if options.json {
        output::note(report.to_json().to_string());
    }
    verdict
}

/// How long jot-invoke waits at most for a Pending function to become Active.
pub const PENDING_WAIT: Duration = Duration::from_secs(300);

/// The function's state before the first invocation (as Jot.jl's
/// `check_function_state`): Pending is waited for, Failed and Inactive are
/// one line with Lambda's reason instead of a confusing invoke failure.
pub async fn check_state(aws: &Aws, name: &str, qualifier: Option<&str>) -> Result<()> {
    let target = match qualifier {
        Some(q) => format!("{name}:{q}"),
        None => name.to_string(),
    };
    let ctx = aws.context("Lambda");
    let lambda = aws.lambda();
    let started = Instant::now();
    let mut noted = false;
    loop {
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| ctx.sdk(&format!("GetFunctionConfiguration {target}"), e))?;
        let reason = config
            .state_reason()
            .filter(|r| !r.is_empty())
            .unwrap_or("Lambda gave no reason");
        let code = config
            .state_reason_code()
            .map(|c| format!(" ({})", c.as_str()))
            .unwrap_or_default();
        match config.state() {
            Some(State::Pending) if started.elapsed() < PENDING_WAIT => {
                if !noted {
                    output::note(format!(
                        "{target} is Pending ({reason}); waiting until it is Active"
                    ));
                    noted = true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Some(State::Pending) => {
                return Err(AwsError::Other(format!(
                    "{target} is still Pending after {} s: {reason}{code}",
                    PENDING_WAIT.as_secs()
                )));
            }
            Some(State::Failed) => {
                return Err(AwsError::Other(format!(
                    "{target} is Failed, so it cannot be invoked: {reason}{code}; fix the cause and deploy again"
                )));
            }
            Some(State::Inactive) => {
                return Err(AwsError::Other(format!(
                    "{target} is Inactive (unused for weeks): {reason}{code}; Lambda makes it Active again on request, so invoke it again in a few minutes"
                )));
            }
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_qualifiers() {
        assert!(validate_function_name("increment-vector").is_ok());
        assert!(validate_function_name("arn:aws:lambda:us-east-1:123456789012:function:f").is_ok());
        assert!(validate_function_name("bad name").is_err());
        assert!(validate_function_name(&"x".repeat(65)).is_err());
        for good in ["$LATEST", "3", "live", "blue-green_2"] {
            assert!(validate_qualifier(good).is_ok(), "{good}");
        }
        for bad in ["", "$latest", "a:b", "x".repeat(129).as_str()] {
            assert!(validate_qualifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn init_and_restore_durations_come_from_the_report_line() {
        let log = "START RequestId: a\nEND RequestId: a\nREPORT RequestId: a\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 60 MB\tInit Duration: 312.25 ms\t\n";
        assert_eq!(
            report_durations(log),
            vec![("lambda_init", Duration::from_secs_f64(0.31225))]
        );
        let snap = "REPORT RequestId: b\tDuration: 1.00 ms\tRestore Duration: 474.16 ms\tBilled Restore Duration: 190 ms\n";
        assert_eq!(
            report_durations(snap),
            vec![("lambda_restore", Duration::from_secs_f64(0.47416))]
        );
        assert!(report_durations("REPORT RequestId: c\tDuration: 1.00 ms\n").is_empty());
        assert!(report_durations("no report").is_empty());
    }

    #[test]
    fn logs_and_error_types() {
        assert_eq!(decode_log(&base64::encode("START\nEND\n")), "START\nEND\n");
        assert_eq!(
            error_type(
                br#"{"errorMessage":"x","errorType":"Runtime.HandlerError"}"#,
                "Unhandled"
            ),
            "Runtime.HandlerError"
        );
        assert_eq!(error_type(b"not json", "Unhandled"), "Unhandled");
    }
}
