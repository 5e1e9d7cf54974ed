//! Function URLs (`/lambda-url/{name}/…`): a plain HTTP request becomes
//! Lambda's function-URL event (payload format 2.0) and the function's proxy
//! answer (`{statusCode, headers, body, isBase64Encoded}`, or any other value
//! → 200 with that value as JSON) becomes the HTTP response, so a browser or
//! curl talks to the function as it would to its URL on Lambda.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Request, StatusCode};
use jot_core::invocation::{MAX_PAYLOAD_BYTES, Outcome};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::identify::find;
use crate::reply::{Reply, error_reply, query_value, reply};
use crate::service::Service;

/// Answers `request` for `rest` (`NAME[/path…]`, after `/lambda-url/`).
pub async fn handle(service: Arc<Service>, rest: &str, request: Request<Incoming>) -> Reply {
    match try_handle(service, rest, request).await {
        Ok(reply) => reply,
        Err(error) => error_reply(&error),
    }
}

async fn try_handle(
    service: Arc<Service>,
    rest: &str,
    request: Request<Incoming>,
) -> Result<Reply, ApiError> {
    let working = service.in_flight.enter();
    if service.is_stopping() {
        return Err(ApiError::unavailable("jot-serve is shutting down"));
    }
    let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (function, _) = find(&service, name, None)?;
    let function = function.clone();
    let target = function
        .resolve(None)
        .ok_or_else(|| ApiError::not_found(format!("Function not found: {name}")))?;
    let event = event(name, &format!("/{path}"), request).await?;
    // Headers and base64 make the event larger than the body: Lambda
    // refuses an event over its payload limit as too large, not as a fault.
    if event.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::too_large(format!(
            "the function URL's event is {} bytes; Lambda takes at most {MAX_PAYLOAD_BYTES}",
            event.len()
        )));
    }
    let ran = crate::invoke::run_sync(&function, &target, event, false, working).await?;
    Ok(match ran.invocation.outcome {
        Outcome::Response(body) => proxy_response(&body),
        // As Lambda's function URLs: the error stays in the logs.
        Outcome::FunctionError { .. } => reply(
            StatusCode::BAD_GATEWAY,
            Bytes::from_static(br#"{"Message":"Internal Server Error"}"#),
        ),
    })
}

/// The payload-format-2.0 event of an HTTP request.
async fn event(name: &str, raw_path: &str, request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_PAYLOAD_BYTES)
        .collect()
        .await
        .map_err(|_| {
            ApiError::too_large(format!(
                "Request must be smaller than {MAX_PAYLOAD_BYTES} bytes"
            ))
        })?
        .to_bytes();
    let mut headers = Map::new();
    for (key, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(key.as_str()) {
            Some(Value::String(joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                headers.insert(key.as_str().to_string(), Value::String(value));
            }
        }
    }
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let mut query = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if let Some(value) = query_value(&raw_query, key) {
            query.insert(key.to_string(), Value::String(value));
        }
    }
    let (body, base64_encoded) = match std::str::from_utf8(&body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(&body),
            true,
        ),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let header = |name: &str| headers.get(name).cloned().unwrap_or(Value::Null);
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers.clone(),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": name,
            "domainName": header("host"),
            "domainPrefix": name,
            "http": {
                "method": parts.method.as_str(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": header("user-agent"),
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": jot_core::labels::rfc3339(SystemTime::now()),
            "timeEpoch": now.as_millis() as u64,
        },
        "isBase64Encoded": base64_encoded,
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    Ok(Bytes::from(event.to_string()))
}

/// The HTTP response a function's answer stands for.
fn proxy_response(answer: &[u8]) -> Reply {
    let value: Value = serde_json::from_slice(answer).unwrap_or(Value::Null);
    let Some(fields) = value.as_object().filter(|o| o.contains_key("statusCode")) else {
        return reply(StatusCode::OK, Bytes::copy_from_slice(answer));
    };
    let status = fields["statusCode"]
        .as_u64()
        .and_then(|code| StatusCode::from_u16(u16::try_from(code).ok()?).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = match &fields.get("body") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let body = if fields.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap_or_default()
    } else {
        text.into_bytes()
    };
    let mut response = reply(status, Bytes::from(body));
    if let Some(headers) = fields.get("headers").and_then(Value::as_object) {
        for (key, value) in headers {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            if let (Ok(key), Ok(value)) = (
                HeaderName::from_bytes(key.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().insert(key, value);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_answers_become_http_responses() {
        let bare = proxy_response(b"[1,2]");
        assert_eq!(bare.status(), StatusCode::OK);
        let proxied = proxy_response(
            br#"{"statusCode":201,"headers":{"x-made-by":"julia"},"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(proxied.status(), StatusCode::CREATED);
        assert_eq!(proxied.headers()["x-made-by"], "julia");
        let bad = proxy_response(br#"{"statusCode":"teapot"}"#);
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
