//! The Lambda Runtime API (`/2018-06-01/runtime/...`) for one sandbox, served
//! with hyper on a loopback port. Events flow in through a queue that
//! `GET /next` drains; responses and errors resolve the waiting invocation.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{EmulatorError, MAX_RESPONSE_BYTES};
pub use jot_core::invocation::{Invocation, Outcome};

const API_PATH: &str = "/2018-06-01/runtime/";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";
/// jot's own Runtime API extension, offered on every `/next` answer (Lambda
/// never sends it): a runtime that posts its response with `Jot-Chain: next`
/// gets the next event as the answer to that POST instead of a 202, one round
/// trip per warm invocation instead of two. Any other runtime ignores it.
const CHAIN_HEADER: &str = "jot-chain";
const CHAIN_NEXT: &str = "next";

/// The sandbox's state as seen by invokers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Health {
    Starting,
    Ready,
    /// The sandbox cannot answer any more: init error, exit or timeout.
    Failed(Outcome),
}

pub(crate) struct Event {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub trace_id: String,
    /// Sent as `Jot-Log-Marker` when the caller wants this invocation's log:
    /// the runtime writes it on both streams once the function is done.
    pub log_marker: Option<String>,
}

/// State shared between the server and the invokers of one sandbox.
pub(crate) struct RuntimeApi {
    events_tx: mpsc::UnboundedSender<Event>,
    events_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    pub health: watch::Sender<Health>,
    pub first_next: OnceLock<Instant>,
    pub function_arn: String,
    /// The unguessable path prefix (`/` + 128 random bits) only this sandbox
    /// is told: with host networking any local process can reach the port,
    /// so a request outside the prefix never sees or answers an event.
    pub prefix: String,
    /// The runtime's own init timings (its `Jot-Init-Phases` header on the first `GET /next`).
    pub init_phases: OnceLock<crate::phases::RuntimePhases>,
    /// When the runtime asked `GET /runtime/restore/next` (SnapStart: the snapshot point).
    pub restore_next: OnceLock<Instant>,
    /// The sandbox's container, once created (its cgroup's I/O statistics).
    pub container_id: OnceLock<String>,
    /// Bytes the sandbox had read from storage at its first `GET /next`.
    pub init_bytes_read: OnceLock<u64>,
    /// Set when the sandbox is being stopped: a waiting `/next` answers 410.
    closing: watch::Sender<bool>,
    /// Events handed over as the answer to a chained response.
    pub chained: AtomicU64,
}

impl RuntimeApi {
    /// The value of `AWS_LAMBDA_RUNTIME_API` for this sandbox:
    /// `HOST:PORT/PREFIX`, with `host` where the sandbox reaches jot
    /// (`127.0.0.1` with host networking).
    pub fn address(&self, host: IpAddr, port: u16) -> String {
        format!("{}{}", SocketAddr::new(host, port), self.prefix)
    }

    /// Binds `listen` (loopback with host networking) on an ephemeral port
    /// and serves until the returned task is aborted.
    pub async fn serve(
        function_arn: String,
        listen: IpAddr,
    ) -> Result<(Arc<RuntimeApi>, SocketAddr, tokio::task::JoinHandle<()>), EmulatorError> {
        let listener = TcpListener::bind((listen, 0))
            .await
            .map_err(EmulatorError::Bind)?;
        let addr = listener.local_addr().map_err(EmulatorError::Bind)?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let api = Arc::new(RuntimeApi {
            events_tx,
            events_rx: tokio::sync::Mutex::new(events_rx),
            pending: Mutex::new(HashMap::new()),
            health: watch::Sender::new(Health::Starting),
            first_next: OnceLock::new(),
            function_arn,
            prefix: format!("/{}", uuid::Uuid::new_v4().simple()),
            init_phases: OnceLock::new(),
            restore_next: OnceLock::new(),
            container_id: OnceLock::new(),
            init_bytes_read: OnceLock::new(),
            closing: watch::Sender::new(false),
            chained: AtomicU64::new(0),
        });
        let server = tokio::spawn(accept_loop(listener, api.clone()));
        Ok((api, addr, server))
    }

    /// Queues an event and returns the receiver of its outcome.
    pub fn dispatch(&self, event: Event) -> oneshot::Receiver<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.lock_pending().insert(event.request_id.clone(), tx);
        // The receiver lives as long as `self`, so sending cannot fail.
        let _ = self.events_tx.send(event);
        rx
    }

    /// The sandbox is being stopped: a runtime waiting in `/next` (or asking
    /// again) gets 410, on which jot's runtime exits.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Forgets an invocation that ended without an answer (timeout, crash).
    pub fn abandon(&self, request_id: &str) {
        self.lock_pending().remove(request_id);
    }

    fn resolve(&self, request_id: &str, outcome: Outcome) -> bool {
        match self.lock_pending().remove(request_id) {
            Some(tx) => {
                let _ = tx.send(outcome);
                true
            }
            None => false,
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Outcome>>> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks the sandbox failed unless it already is (the first reason wins).
    pub fn fail(&self, outcome: Outcome) {
        self.health.send_if_modified(|health| {
            if matches!(health, Health::Failed(_)) {
                false
            } else {
                *health = Health::Failed(outcome);
                true
            }
        });
    }
}

async fn accept_loop(listener: TcpListener, api: Arc<RuntimeApi>) {
    crate::http::serve(listener, move |request| handle(api.clone(), request)).await
}

type Reply = Response<Full<Bytes>>;

pub(crate) fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `GET /runtime/restore/next`: Lambda snapshots the sandbox here and answers
/// in a restored copy. Locally (no CRIU) the same sandbox goes on at once.
fn restore_next(api: &RuntimeApi) -> Reply {
    api.restore_next.get_or_init(Instant::now);
    reply(StatusCode::OK, Bytes::new())
}

fn error_reply(status: StatusCode, error_type: &str, message: &str) -> Reply {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    reply(status, body.to_string())
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn handle(api: Arc<RuntimeApi>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_string();
    let route = path
        .strip_prefix(api.prefix.as_str())
        .and_then(|rest| rest.strip_prefix(API_PATH));
    let Some(route) = route else {
        return Ok(error_reply(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no such Runtime API path",
        ));
    };
    let reply = match (request.method(), route) {
        (&Method::GET, "invocation/next") => {
            crate::phases::record(&api.init_phases, request.headers());
            next_event(&api).await
        }
        (&Method::GET, "restore/next") => restore_next(&api),
        // Both end the sandbox: it failed to initialise, or to come back from a snapshot.
        (&Method::POST, "init/error" | "restore/error") => sandbox_failed(&api, request).await,
        (&Method::POST, route) => match route
            .strip_prefix("invocation/")
            .and_then(|rest| rest.rsplit_once('/'))
        {
            Some((id, "response")) => {
                let id = id.to_string();
                let chained = request
                    .headers()
                    .get(CHAIN_HEADER)
                    .is_some_and(|v| v.as_bytes() == CHAIN_NEXT.as_bytes());
                match read_body(request).await {
                    Ok(body) => {
                        let reply = resolve_or_reject(&api, &id, Outcome::Response(body));
                        // Only an accepted response chains: on a 400 the runtime asks `/next` itself.
                        if chained && reply.status() == StatusCode::ACCEPTED {
                            let next = next_event(&api).await;
                            if next.status() == StatusCode::OK {
                                api.chained.fetch_add(1, Ordering::Relaxed);
                            }
                            next
                        } else {
                            reply
                        }
                    }
                    Err(too_large) => {
                        api.resolve(
                            &id,
                            Outcome::error(
                                "Function.ResponseSizeTooLarge",
                                &format!("Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
                            ),
                        );
                        too_large
                    }
                }
            }
            Some((id, "error")) => {
                let id = id.to_string();
                let error_type = error_type_header(&request, "Function.Unknown");
                match read_body(request).await {
                    Ok(body) => {
                        resolve_or_reject(&api, &id, Outcome::FunctionError { error_type, body })
                    }
                    Err(reply) => reply,
                }
            }
            _ => error_reply(
                StatusCode::NOT_FOUND,
                "NotFound",
                "no such Runtime API path",
            ),
        },
        _ => error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed",
        ),
    };
    Ok(reply)
}

/// An init or restore error: the sandbox answers no more; every invocation gets this error.
async fn sandbox_failed(api: &RuntimeApi, request: Request<Incoming>) -> Reply {
    let error_type = error_type_header(&request, "Runtime.Unknown");
    match read_body(request).await {
        Ok(body) => {
            api.fail(Outcome::FunctionError { error_type, body });
            accepted()
        }
        Err(reply) => reply,
    }
}

fn resolve_or_reject(api: &RuntimeApi, id: &str, outcome: Outcome) -> Reply {
    if api.resolve(id, outcome) {
        accepted()
    } else {
        error_reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "Invalid request ID",
        )
    }
}

/// Blocks until an event is queued, then hands it over with Lambda's headers
/// (and jot's offer to chain); 410 once the sandbox is being stopped.
async fn next_event(api: &RuntimeApi) -> Reply {
    if api.first_next.set(Instant::now()).is_ok()
        && let Some(read) = api
            .container_id
            .get()
            .and_then(|id| crate::phases::bytes_read(id))
    {
        let _ = api.init_bytes_read.set(read);
    }
    api.health.send_if_modified(|health| {
        let starting = *health == Health::Starting;
        if starting {
            *health = Health::Ready;
        }
        starting
    });
    let mut closing = api.closing.subscribe();
    let event = {
        let mut events = api.events_rx.lock().await;
        tokio::select! {
            event = events.recv() => event,
            _ = closing.wait_for(|closing| *closing) => None,
        }
    };
    let Some(event) = event else {
        return error_reply(
            StatusCode::GONE,
            "ShuttingDown",
            "the sandbox is shutting down",
        );
    };
    let mut response = reply(StatusCode::OK, event.payload);
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &event.request_id);
    set("lambda-runtime-deadline-ms", &event.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &api.function_arn);
    set("lambda-runtime-trace-id", &event.trace_id);
    if let Some(marker) = &event.log_marker {
        set("jot-log-marker", marker);
    }
    headers.insert(CHAIN_HEADER, HeaderValue::from_static(CHAIN_NEXT));
    response
}

/// The error type header if it has Lambda's shape, else the fallback.
fn error_type_header(request: &Request<Incoming>, fallback: &str) -> String {
    request
        .headers()
        .get(ERROR_TYPE_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_error_type(v))
        .unwrap_or(fallback)
        .to_string()
}

/// `(Runtime|Function)\.[A-Z][a-zA-Z]+`
pub(crate) fn valid_error_type(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("Runtime.")
        .or_else(|| value.strip_prefix("Function."))
    else {
        return false;
    };
    let mut chars = rest.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && rest.len() >= 2
        && chars.all(|c| c.is_ascii_alphabetic())
}

/// Reads a body of at most the response limit; larger ones get Lambda's 413.
async fn read_body(request: Request<Incoming>) -> Result<Bytes, Reply> {
    let too_large = || {
        error_reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
        )
    };
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_RESPONSE_BYTES) {
        return Err(too_large());
    }
    match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(too_large()),
    }
}

/// Milliseconds since the Unix epoch, as Lambda's deadline header carries.
pub(crate) fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An X-Ray style trace id: `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`.
pub(crate) fn trace_id(request_id: &uuid::Uuid) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let hex = request_id.simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &hex[..24],
        &hex[16..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_error_types_like_lambda() {
        assert!(valid_error_type("Function.DomainError"));
        assert!(valid_error_type("Runtime.InitError"));
        assert!(!valid_error_type("DomainError"));
        assert!(!valid_error_type("Function.domainError"));
        assert!(!valid_error_type("Function."));
        assert!(!valid_error_type("Function.Bad-Name"));
    }

    /// One HTTP/1.1 request to the Runtime API; returns the status.
    async fn call(
        addr: SocketAddr,
        method: &str,
        path: &str,
        header: Option<&str>,
        body: &str,
    ) -> u16 {
        let header = header
            .map(|value| format!("Lambda-Runtime-Function-Error-Type: {value}\r\n"))
            .unwrap_or_default();
        let answer = exchange(addr, method, path, &header, body).await;
        answer.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// One HTTP/1.1 request with extra header lines; returns the whole answer.
    async fn exchange(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer.to_ascii_lowercase()
    }

    fn event(request_id: &str, payload: &'static str) -> Event {
        Event {
            request_id: request_id.into(),
            payload: Bytes::from_static(payload.as_bytes()),
            deadline_ms: 0,
            trace_id: "t".into(),
            log_marker: None,
        }
    }

    /// jot's chain: a response posted with `Jot-Chain: next` is answered with
    /// the next event (no 202, no `/next` between), an unknown request id with
    /// the 400 and no event, and a stopping sandbox with 410; without the
    /// header the answer is Lambda's 202.
    #[tokio::test]
    async fn a_chained_response_is_answered_with_the_next_event() {
        let (api, addr, server) =
            RuntimeApi::serve("arn:aws:lambda:x".into(), [127, 0, 0, 1].into())
                .await
                .unwrap();
        let base = format!("{}{API_PATH}invocation", api.prefix);
        let first = api.dispatch(event("r1", "[1]"));
        let second = api.dispatch(event("r2", "[2]"));
        let next = exchange(addr, "GET", &format!("{base}/next"), "", "").await;
        assert!(next.contains("lambda-runtime-aws-request-id: r1"), "{next}");
        assert!(next.contains("jot-chain: next"), "the offer: {next}");

        let chain = "Jot-Chain: next\r\n";
        let answer = exchange(addr, "POST", &format!("{base}/r1/response"), chain, "2").await;
        assert!(answer.starts_with("http/1.1 200"), "{answer}");
        assert!(
            answer.contains("lambda-runtime-aws-request-id: r2"),
            "{answer}"
        );
        assert!(answer.ends_with("[2]"), "{answer}");
        assert_eq!(first.await.unwrap(), Outcome::Response(Bytes::from("2")));
        assert_eq!(api.chained.load(Ordering::Relaxed), 1);

        let unknown = exchange(addr, "POST", &format!("{base}/r9/response"), chain, "0").await;
        assert!(unknown.starts_with("http/1.1 400"), "{unknown}");

        let plain = exchange(addr, "POST", &format!("{base}/r2/response"), "", "3").await;
        assert!(plain.starts_with("http/1.1 202"), "{plain}");
        assert_eq!(second.await.unwrap(), Outcome::Response(Bytes::from("3")));

        let third = api.dispatch(event("r3", "[3]"));
        let _ = exchange(addr, "GET", &format!("{base}/next"), "", "").await;
        let waiting = tokio::spawn(async move {
            exchange(addr, "POST", &format!("{base}/r3/response"), chain, "4").await
        });
        assert_eq!(third.await.unwrap(), Outcome::Response(Bytes::from("4")));
        api.close();
        let stopped = waiting.await.unwrap();
        assert!(stopped.starts_with("http/1.1 410"), "{stopped}");
        server.abort();
    }

    /// DESIGN.md: a header that is missing or not `(Runtime|Function)\.[A-Z][a-zA-Z]+`
    /// becomes `Function.Unknown` (an invocation error) or `Runtime.Unknown`
    /// (an init error); the body is passed on untouched either way.
    #[tokio::test]
    async fn an_error_type_header_missing_or_misshapen_falls_back_to_unknown() {
        let (api, addr, server) =
            RuntimeApi::serve("arn:aws:lambda:x".into(), [127, 0, 0, 1].into())
                .await
                .unwrap();
        let base = format!("{}{API_PATH}", api.prefix);
        let body = r#"{"errorMessage":"boom","errorType":42}"#;
        for (n, (header, expected)) in [
            (None, "Function.Unknown"),
            (Some("DomainError"), "Function.Unknown"),
            (Some("Function.Bad_Name"), "Function.Unknown"),
            (Some("Runtime.X"), "Function.Unknown"),
            (Some("Function.DomainError"), "Function.DomainError"),
        ]
        .into_iter()
        .enumerate()
        {
            let request_id = format!("request-{n}");
            let outcome = api.dispatch(event(&request_id, "{}"));
            assert_eq!(
                call(addr, "GET", &format!("{base}invocation/next"), None, "").await,
                200
            );
            let path = format!("{base}invocation/{request_id}/error");
            assert_eq!(call(addr, "POST", &path, header, body).await, 202);
            assert_eq!(
                outcome.await.unwrap(),
                Outcome::FunctionError {
                    error_type: expected.into(),
                    body: Bytes::from(body)
                },
                "header {header:?}"
            );
        }
        let path = format!("{base}init/error");
        assert_eq!(
            call(addr, "POST", &path, Some("Function.bad"), body).await,
            202
        );
        assert_eq!(
            *api.health.borrow(),
            Health::Failed(Outcome::FunctionError {
                error_type: "Runtime.Unknown".into(),
                body: Bytes::from(body)
            })
        );
        server.abort();
    }

    #[test]
    fn trace_ids_have_xray_shape() {
        let id = trace_id(&uuid::Uuid::new_v4());
        assert!(
            id.starts_with("Root=1-") && id.ends_with(";Sampled=0"),
            "{id}"
        );
        assert_eq!(id.split(';').count(), 3);
    }
}
