//! The HTTP server of a service: it routes a request of the Lambda REST API
//! (or jot's own `/_jot/…` endpoints) to its handler.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use tokio::net::TcpListener;

use crate::error::ApiError;
use crate::identify::find;
use crate::reply::{Reply, error_reply, json_reply, query_value};
use crate::service::Service;

const FUNCTIONS: &str = "/2015-03-31/functions";

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Invoke(&'a str),
    ListFunctions,
    GetFunction(&'a str),
    GetConfiguration(&'a str),
    ListVersions(&'a str),
    PublishVersion(&'a str),
    ListAliases(&'a str),
    CreateAlias(&'a str),
    GetAlias(&'a str, &'a str),
    UpdateAlias(&'a str, &'a str),
    Status,
    Webhook(&'a str),
    /// `/lambda-url/{name}/…`, any method: the function's URL.
    FunctionUrl(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    if path == "/_jot/status" && method == Method::GET {
        return Some(Route::Status);
    }
    if let Some(rest) = path.strip_prefix("/lambda-url/") {
        return Some(Route::FunctionUrl(rest));
    }
    if let Some(name) = path.strip_prefix("/_jot/hooks/") {
        return (method == Method::POST).then_some(Route::Webhook(name));
    }
    let rest = path.strip_prefix(FUNCTIONS)?;
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    Some(match (method, parts.as_slice()) {
        (&Method::GET, []) => Route::ListFunctions,
        (&Method::GET, [f]) => Route::GetFunction(f),
        (&Method::GET, [f, "configuration"]) => Route::GetConfiguration(f),
        (&Method::POST, [f, "invocations"]) => Route::Invoke(f),
        (&Method::GET, [f, "versions"]) => Route::ListVersions(f),
        (&Method::POST, [f, "versions"]) => Route::PublishVersion(f),
        (&Method::GET, [f, "aliases"]) => Route::ListAliases(f),
        (&Method::POST, [f, "aliases"]) => Route::CreateAlias(f),
        (&Method::GET, [f, "aliases", a]) => Route::GetAlias(f, a),
        (&Method::PUT, [f, "aliases", a]) => Route::UpdateAlias(f, a),
        _ => return None,
    })
}

pub async fn handle(
    service: Arc<Service>,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let Some(route) = route(request.method(), &path) else {
        return Ok(error_reply(&ApiError::not_found(format!(
            "no such API: {} {path}",
            request.method()
        ))));
    };
    // The webhook proves itself with its own HMAC (and comes from a git
    // server that may name this host otherwise); everything else answers
    // only requests addressed to this server.
    if !matches!(route, Route::Webhook(_))
        && let Err(refused) = check_addressed(request.headers(), service.address.port())
    {
        return Ok(error_reply(&refused));
    }
    let qualifier = query_value(&query, "Qualifier");
    let result = match route {
        Route::Invoke(f) => {
            return Ok(crate::invoke::invoke(service, f, qualifier, request).await);
        }
        Route::FunctionUrl(rest) => {
            return Ok(crate::function_url::handle(service, rest, request).await);
        }
        Route::Status => Ok(json_reply(StatusCode::OK, crate::control::status(&service))),
        Route::Webhook(name) => crate::hooks::webhook(&service, name, request).await,
        _ => match authorize_user(&service, request).await {
            Ok(body) => control(&service, &route, qualifier.as_deref(), &body),
            Err(e) => Err(e),
        },
    };
    Ok(result.unwrap_or_else(|e| error_reply(&e)))
}

/// The control plane's answer to `route`, for the user.
fn control(
    service: &Service,
    route: &Route<'_>,
    qualifier: Option<&str>,
    body: &serde_json::Value,
) -> Result<Reply, ApiError> {
    use crate::control as c;
    match *route {
        Route::ListFunctions => Ok(c::list_functions(service)),
        Route::GetFunction(f) => find(service, f, qualifier)
            .and_then(|(function, q)| c::get_function(service, function, q.as_deref())),
        Route::GetConfiguration(f) => find(service, f, qualifier)
            .and_then(|(function, q)| c::get_configuration(service, function, q.as_deref())),
        Route::ListVersions(f) => {
            find(service, f, None).map(|(function, _)| c::list_versions(service, function))
        }
        Route::PublishVersion(f) => {
            find(service, f, None).map(|(function, _)| c::publish_version(service, function, body))
        }
        Route::ListAliases(f) => {
            find(service, f, None).map(|(function, _)| c::list_aliases(service, function))
        }
        Route::GetAlias(f, a) => {
            find(service, f, None).and_then(|(function, _)| c::get_alias(service, function, a))
        }
        Route::CreateAlias(f) => find(service, f, None)
            .and_then(|(function, _)| c::put_alias(service, function, None, body)),
        Route::UpdateAlias(f, a) => find(service, f, None)
            .and_then(|(function, _)| c::put_alias(service, function, Some(a), body)),
        Route::Invoke(_) | Route::FunctionUrl(_) | Route::Status | Route::Webhook(_) => {
            Err(ApiError::service("not a control-plane request"))
        }
    }
}

/// Reads a control-plane request's body (1 MB at most) and checks that the
/// user signed it; a sandbox's credentials or none get AccessDenied.
async fn authorize_user(
    service: &Service,
    request: Request<Incoming>,
) -> Result<serde_json::Value, ApiError> {
    let (parts, body) = request.into_parts();
    let body = crate::invoke::read_body(body, 1 << 20).await?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let caller = crate::auth::caller(
        &service.options.keys,
        parts.method.as_str(),
        &path_and_query,
        &parts.headers,
        &body,
        std::time::SystemTime::now(),
    )?;
    match caller {
        crate::auth::Caller::User => crate::invoke::parse_json(&body),
        crate::auth::Caller::Sandbox => Err(ApiError::access_denied(
            "a function's credentials allow lambda:InvokeFunction only",
        )),
        crate::auth::Caller::Anonymous => Err(ApiError::access_denied(
            "this call needs the credentials jot-serve printed at start (sign the request as the AWS SDKs and CLI do)",
        )),
    }
}

/// Refuses a request whose `Host` (or `Origin`, sent by browsers) is not
/// this server: `localhost` or an IP address, with this port. A DNS name
/// that resolves here (DNS rebinding) or a cross-site page gets 403.
fn check_addressed(headers: &hyper::HeaderMap, port: u16) -> Result<(), ApiError> {
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok());
    if !host.is_some_and(|h| is_own_authority(h, port)) {
        return Err(ApiError::access_denied(format!(
            "Host {} is not this server (127.0.0.1:{port} or localhost:{port})",
            host.unwrap_or("(none)")
        )));
    }
    if let Some(origin) = headers.get(hyper::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let own = origin
            .strip_prefix("http://")
            .is_some_and(|authority| is_own_authority(authority, port));
        if !own {
            return Err(ApiError::access_denied(format!(
                "requests from the web page {origin} are refused"
            )));
        }
    }
    Ok(())
}

/// `localhost:PORT` or `IP:PORT` (`[v6]:PORT`) with this server's port.
fn is_own_authority(authority: &str, port: u16) -> bool {
    let (host, given_port) = match authority.rsplit_once(':') {
        Some((host, p)) if !host.ends_with(':') && !p.contains(']') => (host, p.parse().ok()),
        _ => (authority, Some(80)),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let named = host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok();
    named && given_port == Some(port)
}

impl Service {
    /// Serves the Lambda API on `listener` until [`Service::stop`]; returns
    /// once every open connection has had its answer.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let stop = self.stopping.subscribe();
        let service = self.clone();
        jot_emulator::http::serve_until(
            listener,
            move |request| handle(service.clone(), request),
            stop,
            Some(crate::service::HEADER_TIMEOUT),
        )
        .await
    }
}

/// `--function-error-status` as an HTTP status.
pub fn status_code(code: u16) -> jot_core::Result<StatusCode> {
    StatusCode::from_u16(code)
        .map_err(|e| jot_core::Error::Usage(format!("--function-error-status: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_lambdas_rest_paths() {
        let get = Method::GET;
        assert_eq!(
            route(&get, "/2015-03-31/functions/"),
            Some(Route::ListFunctions)
        );
        assert_eq!(
            route(&get, "/2015-03-31/functions"),
            Some(Route::ListFunctions)
        );
        assert_eq!(
            route(&Method::POST, "/2015-03-31/functions/f/invocations"),
            Some(Route::Invoke("f"))
        );
        assert_eq!(
            route(&Method::PUT, "/2015-03-31/functions/f/aliases/live"),
            Some(Route::UpdateAlias("f", "live"))
        );
        assert_eq!(route(&Method::DELETE, "/2015-03-31/functions/f"), None);
        assert_eq!(route(&get, "/2018-06-01/runtime/invocation/next"), None);
    }

    #[test]
    fn only_requests_addressed_to_this_server_are_answered() {
        for own in [
            "127.0.0.1:9001",
            "localhost:9001",
            "LOCALHOST:9001",
            "[::1]:9001",
            "10.0.0.2:9001",
        ] {
            assert!(is_own_authority(own, 9001), "{own}");
        }
        for other in [
            "evil.example:9001",
            "127.0.0.1:9002",
            "127.0.0.1",
            "localhost.evil.example:9001",
            "[::1]",
            "",
        ] {
            assert!(!is_own_authority(other, 9001), "{other}");
        }
        assert!(is_own_authority("127.0.0.1", 80));
    }
}
