//! What the handlers answer with: a JSON reply, Lambda's error form, and
//! the values of a request's query string.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

use crate::error::ApiError;

pub type Reply = Response<Full<Bytes>>;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(
            query_value("a=1&Qualifier=%24LATEST", "Qualifier").as_deref(),
            Some("$LATEST")
        );
    }
}
