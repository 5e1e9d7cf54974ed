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
        Route::ListFunctions => Ok(crate::control::list_functions(&service)),
        Route::GetFunction(f) => {
            find(&service, f, qualifier.as_deref()).and_then(|(function, q)| {
                crate::control::get_function(&service, function, q.as_deref())
            })
        }
        Route::GetConfiguration(f) => {
            find(&service, f, qualifier.as_deref()).and_then(|(function, q)| {
                crate::control::get_configuration(&service, function, q.as_deref())
            })
        }
        Route::ListVersions(f) => find(&service, f, None)
            .map(|(function, _)| crate::control::list_versions(&service, function)),
        Route::PublishVersion(f) => match find(&service, f, None) {
            Ok((function, _)) => {
                let function = function.clone();
                let body = crate::invoke::read_json(request).await;
                body.map(|body| crate::control::publish_version(&service, &function, &body))
            }
            Err(e) => Err(e),
        },
        Route::ListAliases(f) => find(&service, f, None)
            .map(|(function, _)| crate::control::list_aliases(&service, function)),
        Route::GetAlias(f, a) => find(&service, f, None)
            .and_then(|(function, _)| crate::control::get_alias(&service, function, a)),
        Route::CreateAlias(f) | Route::UpdateAlias(f, _) => {
            let alias = match route {
                Route::UpdateAlias(_, a) => Some(a.to_string()),
                _ => None,
            };
            match find(&service, f, None) {
                Ok((function, _)) => {
                    let function = function.clone();
                    match crate::invoke::read_json(request).await {
                        Ok(body) => {
                            crate::control::put_alias(&service, &function, alias.as_deref(), &body)
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            }
        }
    };
    Ok(result.unwrap_or_else(|e| error_reply(&e)))
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
        assert_eq!(
            query_value("a=1&Qualifier=%24LATEST", "Qualifier").as_deref(),
            Some("$LATEST")
        );
    }
}
