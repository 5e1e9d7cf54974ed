//! The outcome of one invocation, local or remote: the shared noun of the
//! emulator, the AWS client and the command-line verdicts.

use std::time::Duration;

use bytes::Bytes;

/// Lambda's limit on a synchronous invocation's request and response payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// How one invocation ended, as Lambda's Invoke API would report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function's response payload (JSON as the function wrote it).
    Response(Bytes),
    /// The function failed (raised, timed out, did not initialise, crashed):
    /// `error_type` is the validated `Runtime.*` / `Function.*` / `Sandbox.*`
    /// type and `body` the error JSON (`errorMessage`, `errorType`, ...).
    FunctionError { error_type: String, body: Bytes },
}

impl Outcome {
    /// An error outcome with a message and type, shaped as Lambda shapes its own errors.
    pub fn error(error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
        Outcome::FunctionError {
            error_type: error_type.to_string(),
            body: Bytes::from(body.to_string()),
        }
    }
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From handing the event over to the answer.
    pub duration: Duration,
    /// True for the first invocation of a sandbox (includes init).
    pub cold: bool,
}
