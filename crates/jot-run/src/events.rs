//! Event (asynchronous) invocations as Lambda runs them: a bounded queue per
//! function (full → 429), each event tried once and retried twice on an
//! error, then written to the on-failure destination (`--dead-letter FILE`,
//! one NDJSON record in Lambda's destination shape). Events still queued at
//! shutdown are recorded there too, so none is lost silently.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

/// Lambda tries an Event invocation three times in all.
pub const ATTEMPTS: u32 = 3;
/// Lambda's largest Event payload.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

pub struct QueuedEvent {
    pub request_id: String,
    pub payload: Bytes,
    pub qualifier: Option<String>,
    pub queued_at: SystemTime,
}

/// How the last attempt ended, for the destination record.
pub struct Failure {
    pub attempts: u32,
    pub condition: &'static str,
    pub executed_version: String,
    pub function_error: Option<String>,
    pub response: Option<Bytes>,
}

/// The on-failure destination: an NDJSON file, or (without one) stderr.
pub struct DeadLetter {
    file: Option<(PathBuf, Mutex<std::fs::File>)>,
}

impl DeadLetter {
    pub fn open(path: Option<PathBuf>) -> Result<Self, jot_core::Error> {
        let file = match path {
            None => None,
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        jot_core::Error::io(format!("opening --dead-letter {}", path.display()), e)
                    })?;
                Some((path, Mutex::new(file)))
            }
        };
        Ok(DeadLetter { file })
    }

    /// Writes one record (one line, one write, so concurrent records never interleave).
    pub fn record(&self, function_arn: &str, event: &QueuedEvent, failure: &Failure) {
        let record = destination_record(function_arn, event, failure);
        let mut line = record.to_string();
        line.push('\n');
        match &self.file {
            Some((path, file)) => {
                let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = file.write_all(line.as_bytes()) {
                    jot_core::output::warn(format!(
                        "warning: could not write to {}: {e}; the record: {}",
                        path.display(),
                        line.trim_end()
                    ));
                }
            }
            None => jot_core::output::warn(format!(
                "warning: an Event invocation failed and no --dead-letter file is set: {}",
                line.trim_end()
            )),
        }
    }
}

/// Lambda's on-failure destination record.
fn destination_record(
    function_arn: &str,
    event: &QueuedEvent,
    failure: &Failure,
) -> serde_json::Value {
    let json_or_string = |bytes: &Bytes| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned().into())
    };
    let mut response_context = serde_json::json!({
        "statusCode": if failure.condition == "RetriesExhausted" { 200 } else { 0 },
        "executedVersion": failure.executed_version,
    });
    if let Some(error) = &failure.function_error {
        response_context["functionError"] = error.clone().into();
    }
    serde_json::json!({
        "version": "1.0",
        "timestamp": jot_core::labels::rfc3339(SystemTime::now()),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": function_arn,
            "condition": failure.condition,
            "approximateInvokeCount": failure.attempts,
        },
        "requestPayload": json_or_string(&event.payload),
        "responseContext": response_context,
        "responsePayload": failure.response.as_ref().map(json_or_string),
        "queuedAt": jot_core::labels::rfc3339(event.queued_at),
    })
}

/// The pause before retry `attempt` (1-based): Lambda waits minutes; locally
/// the base delay doubles.
pub fn retry_delay(base: Duration, attempt: u32) -> Duration {
    base * 2u32.pow(attempt.saturating_sub(1))
}
