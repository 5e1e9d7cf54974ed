//! The hooks service: `POST /_jot/hooks/{name}` from a git server's push hook
//! rebuilds and rolls out the function, authenticated as GitHub signs its
//! webhooks (`X-Hub-Signature-256: sha256=HEX`, an HMAC-SHA256 of the body
//! under the shared secret). Anything unsigned or wrongly signed gets 401
//! and changes nothing. Each delivery id (`X-GitHub-Delivery`,
//! `X-Gitea-Delivery`, GitLab's `X-Gitlab-Event-UUID`) is acted on once: a
//! replay is answered 200 and ignored.

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};

use crate::error::ApiError;
use crate::reply::{Reply, json_reply};
use crate::service::Service;

/// The shortest webhook secret jot-serve accepts.
pub const MIN_SECRET_BYTES: usize = 16;

/// Delivery ids seen (the newest [`REMEMBERED`]).
static DELIVERIES: std::sync::Mutex<std::collections::VecDeque<String>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());
const REMEMBERED: usize = 10_000;

/// Records `id`; false when it was seen already (a replay).
fn first_delivery(id: &str) -> bool {
    let mut seen = DELIVERIES.lock().unwrap_or_else(|p| p.into_inner());
    if seen.iter().any(|s| s == id) {
        return false;
    }
    if seen.len() == REMEMBERED {
        seen.pop_front();
    }
    seen.push_back(id.to_string());
    true
}

pub async fn webhook(
    service: &Arc<Service>,
    name: &str,
    request: Request<Incoming>,
) -> Result<Reply, ApiError> {
    let Some(secret) = &service.options.webhook_secret else {
        return Err(ApiError::not_found(
            "no webhook is configured (set JOT_WEBHOOK_SECRET)",
        ));
    };
    let signature = request
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let delivery = [
        "x-github-delivery",
        "x-gitea-delivery",
        "x-gitlab-event-uuid",
    ]
    .iter()
    .find_map(|h| request.headers().get(*h))
    .and_then(|v| v.to_str().ok())
    .map(str::to_string);
    let body = Limited::new(request.into_body(), 1 << 20)
        .collect()
        .await
        .map_err(|_| ApiError::too_large("the webhook body is larger than 1 MB"))?
        .to_bytes();
    if !signature.is_some_and(|s| verify(secret.expose().as_bytes(), &body, &s)) {
        return Err(ApiError::unauthorized(
            "missing or wrong X-Hub-Signature-256 (sha256=HMAC of the body under the shared secret)",
        ));
    }
    // Checked after the signature, so unsigned requests cannot use up ids.
    let Some(delivery) = delivery else {
        return Err(ApiError::invalid_parameter(
            "missing X-GitHub-Delivery (or X-Gitea-Delivery, X-Gitlab-Event-UUID): each delivery needs its id",
        ));
    };
    if !first_delivery(&format!("{name}/{delivery}")) {
        return Ok(json_reply(
            StatusCode::OK,
            serde_json::json!({ "FunctionName": name, "Replay": delivery, "Ignored": true }),
        ));
    }
    let function = service
        .function(name)
        .ok_or_else(|| ApiError::not_found(format!("Function not found: {name}")))?
        .clone();
    let rebuilt = crate::watch::rebuild(service, &function)
        .await
        .map_err(|e| {
            ApiError::service(format!(
                "the rebuild failed; the old version keeps serving: {e}"
            ))
        })?;
    Ok(json_reply(
        StatusCode::OK,
        serde_json::json!({ "FunctionName": name, "Version": rebuilt.to_string() }),
    ))
}

/// Checks `sha256=HEX` against the HMAC-SHA256 of `body`, in constant time.
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    use hmac::{KeyInit, Mac};
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_id_is_taken_once() {
        let id = uuid::Uuid::new_v4().to_string();
        assert!(first_delivery(&id));
        assert!(!first_delivery(&id));
        assert!(first_delivery(&format!("{id}-other")));
    }

    #[test]
    fn github_signatures_are_checked() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            good
        ));
        assert!(!verify(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            good
        ));
        assert!(!verify(b"another secret", b"Hello, World!", good));
        assert!(!verify(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            "sha1=00"
        ));
        assert!(!verify(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            "sha256=zz"
        ));
    }
}
