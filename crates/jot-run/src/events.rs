//! Event (asynchronous) invocations as Lambda runs them: a bounded queue per
//! function (full → 429), each event tried once and retried twice on an
//! error, then written to the on-failure destination (`--dead-letter FILE`,
//! else a file jot-serve names; one NDJSON record in Lambda's destination
//! shape). Events still queued at shutdown are recorded there too, so none
//! is lost silently.
//!
//! The bound: an accepted Event holds one of the function's `--event-queue`
//! places from its 202 until it is done (answered, or recorded), waiting,
//! running and between retries alike, so at most that many Events (each at
//! most 256 KB) are held per function.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

/// Lambda tries an Event invocation three times in all.
pub const ATTEMPTS: u32 = 3;
/// Lambda's largest Event payload.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

pub struct QueuedEvent {
    pub request_id: String,
    pub payload: Bytes,
    pub qualifier: Option<String>,
    pub queued_at: SystemTime,
    /// Its place in the function's queue, given back when the event is dropped.
    pub place: OwnedSemaphorePermit,
}

/// Why an Event went to the on-failure destination (Lambda's `condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Every attempt ran and failed.
    RetriesExhausted,
    /// An attempt failed and the shutdown came before the next.
    ShutdownBeforeRetry,
    /// The shutdown came before the first attempt.
    ShutdownBeforeInvocation,
}

impl Condition {
    /// The name in the destination record.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::ShutdownBeforeRetry => "ShutdownBeforeRetry",
            Condition::ShutdownBeforeInvocation => "ShutdownBeforeInvocation",
        }
    }
}

/// How the last attempt ended, for the destination record.
pub struct Failure {
    pub attempts: u32,
    pub condition: Condition,
    pub executed_version: String,
    pub function_error: Option<String>,
    pub response: Option<Bytes>,
}

impl Failure {
    /// An Event the shutdown came before: never tried.
    pub fn never_ran() -> Failure {
        Failure {
            attempts: 0,
            condition: Condition::ShutdownBeforeInvocation,
            executed_version: jot_core::names::LATEST.into(),
            function_error: None,
            response: None,
        }
    }
}

/// The on-failure destination: `--dead-letter FILE`, else a file of
/// jot-serve's own (created 0600 at the first record and named on stderr).
pub struct DeadLetter {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
    recorded: AtomicUsize,
}

impl DeadLetter {
    /// `--dead-letter FILE` (opened now, so a bad path fails at start), or
    /// none: a file under the user's state directory, created when needed.
    pub fn open(path: Option<PathBuf>) -> Result<Self, jot_core::Error> {
        let (path, file) = match path {
            Some(path) => {
                let file = create(&path).map_err(|e| {
                    jot_core::Error::io(format!("opening --dead-letter {}", path.display()), e)
                })?;
                (path, Some(file))
            }
            None => (default_path(), None),
        };
        Ok(DeadLetter {
            path,
            file: Mutex::new(file),
            recorded: AtomicUsize::new(0),
        })
    }

    /// Where records go.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Records written so far.
    pub fn count(&self) -> usize {
        self.recorded.load(Ordering::SeqCst)
    }

    /// Writes one record (one line, one write, so concurrent records never interleave).
    pub fn record(&self, function_arn: &str, event: &QueuedEvent, failure: &Failure) {
        let record = destination_record(function_arn, event, failure);
        let mut line = record.to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if file.is_none() {
            match create(&self.path) {
                Ok(created) => {
                    jot_core::output::note(format!(
                        "Event invocations that failed or never ran are recorded in {} (set --dead-letter FILE to choose)",
                        self.path.display()
                    ));
                    *file = Some(created);
                }
                Err(e) => {
                    jot_core::output::warn(format!(
                        "warning: could not create {}: {e}; the record: {}",
                        self.path.display(),
                        line.trim_end()
                    ));
                    return;
                }
            }
        }
        let written = file.as_mut().map(|f| f.write_all(line.as_bytes()));
        match written {
            Some(Ok(())) => {
                self.recorded.fetch_add(1, Ordering::SeqCst);
            }
            Some(Err(e)) => jot_core::output::warn(format!(
                "warning: could not write to {}: {e}; the record: {}",
                self.path.display(),
                line.trim_end()
            )),
            None => {}
        }
    }
}

/// Opens `path` for appending, readable by the user alone when created
/// (payloads may hold anything).
fn create(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// `STATE/dead-letter/jot-serve-PID-EPOCH.ndjson` (see [`crate::state_dir`]).
fn default_path() -> PathBuf {
    let epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    crate::state_dir()
        .join("dead-letter")
        .join(format!("jot-serve-{}-{epoch}.ndjson", std::process::id()))
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
        "statusCode": if failure.condition == Condition::RetriesExhausted { 200 } else { 0 },
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
            "condition": failure.condition.as_str(),
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
