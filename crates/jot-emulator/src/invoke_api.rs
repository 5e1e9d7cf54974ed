//! The AWS side of Lambda, locally: the Invoke API
//! (`POST /2015-03-31/functions/{name}/invocations`) served on loopback, so
//! any AWS SDK or CLI pointed at it (or MiniStack's proxy) runs the function
//! image through the emulator.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
pub use hyper::StatusCode;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response};
use tokio::net::TcpListener;

use crate::pool::FunctionPool;
use crate::{MAX_PAYLOAD_BYTES, Outcome};

type Reply = Response<Full<Bytes>>;

/// Functions served by name.
pub struct InvokeApi {
    functions: HashMap<String, Arc<FunctionPool>>,
    function_error_status: StatusCode,
}

impl InvokeApi {
    /// `function_error_status` is the HTTP status of a function error: 200 as
    /// Lambda answers (with `X-Amz-Function-Error`), or another for proxies
    /// that only see the status (MiniStack's `MINISTACK_LAMBDA_PROXY_URL`).
    pub fn new(
        functions: HashMap<String, Arc<FunctionPool>>,
        function_error_status: StatusCode,
    ) -> Arc<Self> {
        Arc::new(InvokeApi {
            functions,
            function_error_status,
        })
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        crate::http::serve(listener, move |request| self.clone().handle(request)).await
    }

    /// Removes every sandbox of every function.
    pub async fn shutdown(&self) {
        for pool in self.functions.values() {
            pool.shutdown().await;
        }
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Result<Reply, Infallible> {
        let path = request.uri().path().to_string();
        let name = path
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|rest| rest.strip_suffix("/invocations"))
            .map(function_name);
        let (Some(name), &Method::POST) = (name, request.method()) else {
            return Ok(aws_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                "unknown path; use POST /2015-03-31/functions/{name}/invocations",
            ));
        };
        let Some(pool) = self.functions.get(&name).cloned() else {
            return Ok(aws_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!("Function not found: {name}"),
            ));
        };
        let invocation_type = request
            .headers()
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("RequestResponse")
            .to_string();
        let payload = match Limited::new(request.into_body(), MAX_PAYLOAD_BYTES)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return Ok(aws_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "RequestTooLargeException",
                    &format!(
                        "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation"
                    ),
                ));
            }
        };
        let payload = if payload.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            payload
        };
        if serde_json::from_slice::<serde_json::Value>(&payload).is_err() {
            return Ok(aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                "Could not parse request body into json",
            ));
        }
        match invocation_type.as_str() {
            "DryRun" => return Ok(reply(StatusCode::NO_CONTENT, Bytes::new())),
            "Event" => {
                tokio::spawn(async move {
                    let _ = pool.invoke(payload).await;
                });
                return Ok(reply(StatusCode::ACCEPTED, Bytes::new()));
            }
            _ => {}
        }
        Ok(match pool.invoke(payload).await {
            Ok(invocation) => {
                let (body, error) = match invocation.outcome {
                    Outcome::Response(body) => (body, false),
                    Outcome::FunctionError { body, .. } => (body, true),
                };
                let status = if error {
                    self.function_error_status
                } else {
                    StatusCode::OK
                };
                let mut response = reply(status, body);
                let headers = response.headers_mut();
                headers.insert(
                    "x-amz-executed-version",
                    HeaderValue::from_static("$LATEST"),
                );
                if let Ok(id) = HeaderValue::from_str(&invocation.request_id) {
                    headers.insert("x-amzn-requestid", id);
                }
                if error {
                    headers.insert(
                        "x-amz-function-error",
                        HeaderValue::from_static("Unhandled"),
                    );
                }
                response
            }
            Err(e) => aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServiceException",
                &e.to_string(),
            ),
        })
    }
}

/// The function name from a path segment that may be an ARN or carry a qualifier.
fn function_name(segment: &str) -> String {
    let decoded = segment.replace("%3A", ":").replace("%3a", ":");
    let name = decoded
        .rsplit_once(":function:")
        .map_or(decoded.as_str(), |(_, n)| n);
    name.split(':').next().unwrap_or(name).to_string()
}

fn reply(status: StatusCode, body: Bytes) -> Reply {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn aws_error(status: StatusCode, error_type: &str, message: &str) -> Reply {
    let mut response = reply(
        status,
        Bytes::from(serde_json::json!({ "Type": "User", "message": message }).to_string()),
    );
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn names_from_arns_and_qualifiers() {
        assert_eq!(function_name("increment-vector"), "increment-vector");
        assert_eq!(function_name("increment-vector:live"), "increment-vector");
        assert_eq!(
            function_name("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af1%3A3"),
            "f1"
        );
    }
}
