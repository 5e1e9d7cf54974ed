//! Routes a request of the Lambda REST API (or jot's own `/_jot/…`
//! endpoints) to its handler, and resolves the function it names: a name, a
//! `name:qualifier`, a partial ARN or a full ARN (of this account and region).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::error::ApiError;
use crate::registry::Function;
use crate::service::Service;

pub type Reply = Response<Full<Bytes>>;

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

/// The function a path segment names, and the qualifier it carries (if any).
pub(crate) fn find<'s>(
    service: &'s Service,
    segment: &str,
    qualifier: Option<&str>,
) -> Result<(&'s Arc<Function>, Option<String>), ApiError> {
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned();
    let (name, in_name) = split_identifier(
        &decoded,
        &service.options.account_id,
        &service.options.region,
    )
    .ok_or_else(|| ApiError::not_found(format!("Function not found: {decoded}")))?;
    let qualifier = match (in_name, qualifier) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid_parameter(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (a, b) => a.or(b.map(str::to_string)),
    };
    let function = service.function(&name).ok_or_else(|| {
        ApiError::not_found(format!(
            "Function not found: {}",
            service.function_arn(&name)
        ))
    })?;
    Ok((function, qualifier))
}

/// (name, qualifier) of `name`, `name:q`, `account:function:name[:q]` or
/// `arn:aws:lambda:region:account:function:name[:q]`; None when an ARN names
/// another account or region.
fn split_identifier(id: &str, account: &str, region: &str) -> Option<(String, Option<String>)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (name_and_qualifier, arn_account, arn_region) = match parts.as_slice() {
        [
            "arn",
            _partition,
            "lambda",
            region,
            account,
            "function",
            rest @ ..,
        ] => (rest, Some(*account), Some(*region)),
        [account, "function", rest @ ..] => (rest, Some(*account), None),
        rest => (rest, None, None),
    };
    if arn_account.is_some_and(|a| a != account) || arn_region.is_some_and(|r| r != region) {
        return None;
    }
    match name_and_qualifier {
        [name] => Some((name.to_string(), None)),
        [name, qualifier] => Some((name.to_string(), Some(qualifier.to_string()))),
        _ => None,
    }
}

/// The percent-decoded value of `key` in a query string.
pub(crate) fn query_value(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

pub(crate) fn reply(status: StatusCode, body: Bytes) -> Reply {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn json_reply(status: StatusCode, body: serde_json::Value) -> Reply {
    reply(status, Bytes::from(body.to_string()))
}

pub(crate) fn error_reply(error: &ApiError) -> Reply {
    let mut response = json_reply(error.status, error.body());
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static(error.error_type),
    );
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
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
    fn identifiers_carry_names_qualifiers_and_only_our_account() {
        let split = |id| split_identifier(id, "000000000000", "us-east-1");
        assert_eq!(split("f"), Some(("f".into(), None)));
        assert_eq!(split("f:live"), Some(("f".into(), Some("live".into()))));
        assert_eq!(
            split("arn:aws:lambda:us-east-1:000000000000:function:f:3"),
            Some(("f".into(), Some("3".into())))
        );
        assert_eq!(split("000000000000:function:f"), Some(("f".into(), None)));
        assert_eq!(
            split("arn:aws:lambda:us-east-1:123456789012:function:f"),
            None
        );
        assert_eq!(
            split("arn:aws:lambda:eu-west-1:000000000000:function:f"),
            None
        );
        assert_eq!(split("f:1:2"), None);
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
        assert_eq!(
            query_value("a=1&Qualifier=%24LATEST", "Qualifier").as_deref(),
            Some("$LATEST")
        );
    }
}
