//! Lambda's Invoke: `POST /2015-03-31/functions/{name}/invocations` with a
//! qualifier, the invocation type (RequestResponse, Event → 202, DryRun →
//! 204), an optional log tail, and Lambda's headers and errors. A synchronous
//! invocation runs in a task of its own holding its concurrency slot, so a
//! client that disconnects mid-invocation never frees the slot early nor
//! leaves the sandbox unaccounted: the run finishes and the sandbox goes back.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, StatusCode};
use jot_core::invocation::{MAX_PAYLOAD_BYTES, Outcome};

use crate::error::ApiError;
use crate::events::{MAX_EVENT_BYTES, QueuedEvent};
use crate::identify::find;
use crate::pool::Ran;
use crate::registry::Function;
use crate::reply::{Reply, error_reply, reply};
use crate::report::{self, log_report};
use crate::service::Service;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

fn header<'r>(request: &'r Request<Incoming>, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

pub async fn invoke(
    service: Arc<Service>,
    segment: &str,
    qualifier: Option<String>,
    request: Request<Incoming>,
) -> Reply {
    match try_invoke(service, segment, qualifier, request).await {
        Ok(reply) => reply,
        Err(error) => error_reply(&error),
    }
}

async fn try_invoke(
    service: Arc<Service>,
    segment: &str,
    qualifier: Option<String>,
    request: Request<Incoming>,
) -> Result<Reply, ApiError> {
    let working = service.in_flight.enter();
    if service.is_stopping() {
        return Err(ApiError::unavailable("jot-serve is shutting down"));
    }
    let (function, qualifier) = find(&service, segment, qualifier.as_deref())?;
    let function = function.clone();
    let kind = match header(&request, "x-amz-invocation-type").unwrap_or("RequestResponse") {
        "RequestResponse" => InvocationType::RequestResponse,
        "Event" => InvocationType::Event,
        "DryRun" => InvocationType::DryRun,
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )));
        }
    };
    let tail = match header(&request, "x-amz-log-type").unwrap_or("None") {
        "None" => false,
        "Tail" => true,
        other => {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{other}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]"
            )));
        }
    };
    let limit = if kind == InvocationType::Event {
        MAX_EVENT_BYTES
    } else {
        MAX_PAYLOAD_BYTES
    };
    let payload = read_payload(request, limit).await?;
    let Some(target) = function.resolve(qualifier.as_deref()) else {
        return Err(ApiError::not_found(format!(
            "Function not found: {}:{}",
            service.function_arn(&function.name),
            qualifier.unwrap_or_default()
        )));
    };
    match kind {
        InvocationType::DryRun => Ok(reply(StatusCode::NO_CONTENT, Bytes::new())),
        InvocationType::Event => {
            let entry = &service.entries[&function.name];
            // A place in the queue first: none free → 429, nothing accepted.
            let Ok(place) = entry.places.clone().try_acquire_owned() else {
                function
                    .admission
                    .throttled
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Err(ApiError::throttled("EventQueueFull"));
            };
            let request_id = uuid::Uuid::new_v4().to_string();
            let event = QueuedEvent {
                request_id: request_id.clone(),
                payload,
                qualifier,
                queued_at: SystemTime::now(),
                place,
            };
            // The channel holds as many as there are places: only a
            // shutdown (its worker gone) refuses.
            if entry.events.try_send(event).is_err() {
                return Err(ApiError::unavailable("jot-serve is shutting down"));
            }
            let mut response = reply(StatusCode::ACCEPTED, Bytes::new());
            set(&mut response, "x-amzn-requestid", &request_id);
            Ok(response)
        }
        InvocationType::RequestResponse => {
            let ran = run_sync(&function, &target, payload, tail, working).await?;
            Ok(answer(&service, &function, &target.executed, ran))
        }
    }
}

/// Runs a synchronous invocation in a task of its own that holds its
/// concurrency slot and `working` until the sandbox is done (a client that
/// goes away never frees either early); 429 beyond the reserved concurrency.
pub(crate) async fn run_sync(
    function: &Arc<Function>,
    target: &crate::registry::Target,
    payload: Bytes,
    tail: bool,
    working: crate::scheduler::Working,
) -> Result<Ran, ApiError> {
    let slot =
        function.admission.admit().await.map_err(|_| {
            ApiError::throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        })?;
    let version = target.version.clone();
    let executed = target.executed.clone();
    let run = tokio::spawn(async move {
        let ran = version.pool.invoke(payload, tail, &executed).await;
        drop(slot);
        drop(working);
        ran
    });
    let ran = run
        .await
        .map_err(|e| ApiError::service(format!("the invocation task failed: {e}")))?
        .map_err(|e| ApiError::service(e.to_string()))?;
    log_report(function, &target.executed, &ran);
    Ok(ran)
}

/// Lambda's answer to a synchronous invocation.
fn answer(service: &Service, function: &Function, executed: &str, ran: Ran) -> Reply {
    let log = ran
        .log
        .is_some()
        .then(|| report::invocation_log(&ran, executed, function.settings.memory_mb));
    let request_id = ran.invocation.request_id.clone();
    let (status, body, error) = match ran.invocation.outcome {
        Outcome::Response(body) => (StatusCode::OK, body, false),
        Outcome::FunctionError { body, .. } => (service.options.function_error_status, body, true),
    };
    let mut response = reply(status, body);
    set(&mut response, "x-amz-executed-version", executed);
    set(&mut response, "x-amzn-requestid", &request_id);
    if error {
        set(&mut response, "x-amz-function-error", "Unhandled");
    }
    if let Some(log) = log {
        set(&mut response, "x-amz-log-result", &report::tail(&log));
    }
    response
}

fn set(response: &mut Reply, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// The payload (empty → `{}`), at most `limit` bytes, and valid JSON.
async fn read_payload(request: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let payload = match Limited::new(request.into_body(), limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return Err(ApiError::too_large(format!(
                "Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )));
        }
    };
    let payload = if payload.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        payload
    };
    // Checked, not kept: IgnoredAny builds no value tree.
    if serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_err() {
        return Err(ApiError::invalid_content(
            "Could not parse request body into json: the payload is not valid JSON",
        ));
    }
    Ok(payload)
}

/// A body of at most `limit` bytes.
pub(crate) async fn read_body(body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    Limited::new(body, limit)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|_| ApiError::too_large(format!("the request body is larger than {limit} bytes")))
}

/// A control-plane request's JSON body (empty → `{}`).
pub(crate) fn parse_json(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid_content(format!("the request body is not JSON: {e}")))
}
