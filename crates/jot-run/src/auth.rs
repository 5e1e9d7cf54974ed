//! Who is calling jot-serve. Lambda's control plane (listing, configuration,
//! versions, aliases) answers the user alone: a request signed with AWS
//! Signature Version 4, as every AWS SDK and the AWS CLI sign, under the
//! credentials jot-serve made at start (written to a user-only file). Each
//! sandbox gets credentials of its own that are good for Invoke only, as a
//! Lambda role allowing `lambda:InvokeFunction` would be. Invoke and function
//! URLs stay open to local callers (a function URL's AuthType NONE): the
//! [`crate::router`] refuses any request whose `Host` or `Origin` is not this
//! server, so a web page cannot reach them through DNS rebinding or a
//! cross-site form either.

use std::time::{Duration, SystemTime};

use hmac::{KeyInit, Mac};
use hyper::HeaderMap;
pub use jot_core::image_ref::Secret;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// One access key and its secret.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl Credentials {
    /// Fresh random credentials; `prefix` tells user keys from sandbox keys.
    pub fn generate(prefix: &str) -> Credentials {
        let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Credentials {
            access_key_id: format!("{prefix}{}", &id[..16]),
            secret_access_key: Secret::new(secret),
        }
    }

    /// An AWS shared-credentials file holding these under `profile`.
    pub fn shared_file(&self, profile: &str) -> String {
        format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.access_key_id,
            self.secret_access_key.expose()
        )
    }
}

/// The user's credentials and the ones every sandbox gets.
#[derive(Debug, Clone)]
pub struct Keys {
    pub user: Credentials,
    pub sandbox: Credentials,
}

impl Keys {
    pub fn generate() -> Keys {
        Keys {
            user: Credentials::generate("JOTU"),
            sandbox: Credentials::generate("JOTS"),
        }
    }
}

/// Who signed a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    User,
    Sandbox,
    /// No signature (or one under a key jot-serve did not make).
    Anonymous,
}

/// How far a signature's time may be from now (AWS allows 15 minutes).
const SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of a SigV4 `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    /// `DATE/REGION/SERVICE/aws4_request`.
    scope: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let (access_key_id, scope) = credential?.split_once('/')?;
    Some(Authorization {
        access_key_id,
        scope,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// The caller of a request (`path_and_query` as sent), checked against
/// `keys` at `now`. Unsigned → Anonymous; a key of ours with a wrong or
/// stale signature → 403, as AWS answers.
pub fn caller(
    keys: &Keys,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Caller, ApiError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(Caller::Anonymous);
    };
    let parsed = value.to_str().ok().and_then(parse_authorization);
    let Some(authorization) = parsed else {
        return Err(ApiError::forbidden(
            "IncompleteSignatureException",
            "the Authorization header is not an AWS Signature Version 4",
        ));
    };
    let (credentials, caller) = if authorization.access_key_id == keys.user.access_key_id {
        (&keys.user, Caller::User)
    } else if authorization.access_key_id == keys.sandbox.access_key_id {
        (&keys.sandbox, Caller::Sandbox)
    } else {
        return Err(ApiError::forbidden(
            "UnrecognizedClientException",
            "The security token included in the request is invalid: sign with the credentials jot-serve printed at start",
        ));
    };
    let Some(amz_date) = header(headers, "x-amz-date") else {
        return Err(ApiError::forbidden(
            "IncompleteSignatureException",
            "X-Amz-Date is missing",
        ));
    };
    if !authorization.signed_headers.contains(&"host") {
        return Err(ApiError::forbidden(
            "IncompleteSignatureException",
            "the signature must cover the Host header",
        ));
    }
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| ApiError::forbidden("InvalidSignatureException", "bad X-Amz-Date"))?;
    let skew = now
        .duration_since(signed_at)
        .or_else(|_| signed_at.duration_since(now))
        .unwrap_or_default();
    if skew > SKEW {
        return Err(ApiError::forbidden(
            "InvalidSignatureException",
            "Signature expired: X-Amz-Date is more than 15 minutes from the server's time",
        ));
    }
    let expected = signature(
        credentials,
        method,
        path_and_query,
        headers,
        &authorization.signed_headers,
        body,
        amz_date,
        authorization.scope,
    );
    let given = hex::decode(authorization.signature).unwrap_or_default();
    if expected.verify_slice(&given).is_err() {
        return Err(ApiError::forbidden(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(caller)
}

/// The `Authorization` header (and `X-Amz-Date`) for a request with
/// `headers` (every one is signed), as an AWS SDK would sign it; for jot's
/// own clients and tests.
pub fn sign(
    credentials: &Credentials,
    region: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: SystemTime,
) -> (String, String) {
    let amz_date = format_amz_date(now);
    let scope = format!("{}/{region}/lambda/aws4_request", &amz_date[..8]);
    let mut with_date = HeaderMap::new();
    for (name, value) in headers.iter().chain([&("x-amz-date", amz_date.as_str())]) {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            with_date.append(name, value);
        }
    }
    let mut names: Vec<&str> = with_date.keys().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mac = signature(
        credentials,
        method,
        path_and_query,
        &with_date,
        &names,
        body,
        &amz_date,
        &scope,
    );
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={}",
        credentials.access_key_id,
        names.join(";"),
        hex::encode(mac.finalize().into_bytes())
    );
    (authorization, amz_date)
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac
}

/// The HMAC whose output is the request's signature.
#[allow(clippy::too_many_arguments)]
fn signature(
    credentials: &Credentials,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    body: &[u8],
    amz_date: &str,
    scope: &str,
) -> HmacSha256 {
    let canonical = canonical_request(method, path_and_query, headers, signed_headers, body);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = format!("AWS4{}", credentials.secret_access_key.expose()).into_bytes();
    for part in scope.split('/') {
        key = hmac(&key, part.as_bytes()).finalize().into_bytes().to_vec();
    }
    hmac(&key, string_to_sign.as_bytes())
}

/// SigV4's canonical request: the path normalised and encoded twice (as
/// every service but S3), the query re-encoded and sorted, the signed
/// headers trimmed, and the payload's SHA-256.
fn canonical_request(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    body: &[u8],
) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{}",
        encode(&normalize_path(path), true),
        canonical_query(query),
        signed_headers.join(";"),
        hex::encode(Sha256::digest(body)),
    )
}

/// The path without `.` and `..` segments or repeated slashes (its trailing slash kept).
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut normalized = format!("/{}", segments.join("/"));
    if path.ends_with('/') && normalized.len() > 1 {
        normalized.push('/');
    }
    normalized
}

fn canonical_query(query: &str) -> String {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(k), false), encode(&decode(v), false))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding: unreserved characters kept (and `/` when `path`).
fn encode(text: &str, path: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) || (path && byte == b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `YYYYMMDDTHHMMSSZ` as a time.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u64>().ok();
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year as i64, month as i64, day as i64);
    let seconds = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

fn format_amz_date(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let (days, rest) = ((seconds / 86_400) as i64, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_keys() -> Keys {
        // The credentials of AWS's Signature Version 4 test suite.
        let user = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        };
        Keys {
            user,
            sandbox: Credentials::generate("JOTS"),
        }
    }

    fn at(date: &str) -> SystemTime {
        parse_amz_date(date).unwrap()
    }

    #[test]
    fn dates_round_trip() {
        for date in ["20150830T123600Z", "20000229T000000Z", "20261205T235959Z"] {
            assert_eq!(format_amz_date(at(date)), date);
        }
        assert_eq!(
            at("19700101T000001Z"),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1)
        );
        assert!(parse_amz_date("2015-08-30").is_none());
    }

    #[test]
    fn the_aws_test_suites_get_vanilla_signature_is_accepted_and_a_forgery_is_not() {
        // get-vanilla from AWS's SigV4 test suite (service "service").
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        headers.insert("authorization", good.parse().unwrap());
        let keys = example_keys();
        let now = at("20150830T123700Z");
        assert_eq!(
            caller(&keys, "GET", "/", &headers, b"", now),
            Ok(Caller::User)
        );
        // Another method, path or body, or a day later: refused.
        for (method, path, body, now) in [
            ("POST", "/", &b""[..], now),
            ("GET", "/x", b"", now),
            ("GET", "/", b"{}", now),
            ("GET", "/", b"", at("20150831T123600Z")),
        ] {
            let refused = caller(&keys, method, path, &headers, body, now).unwrap_err();
            assert_eq!(refused.status, hyper::StatusCode::FORBIDDEN, "{refused:?}");
        }
        headers.remove("authorization");
        assert_eq!(
            caller(&keys, "GET", "/", &headers, b"", now),
            Ok(Caller::Anonymous)
        );
    }

    #[test]
    fn what_sign_signs_is_accepted_for_its_key_alone() {
        let keys = Keys::generate();
        let now = SystemTime::now();
        let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af?Qualifier=%24LATEST&A=b%20c";
        let sent = [
            ("Host", "127.0.0.1:9001"),
            ("Content-Type", "application/json"),
        ];
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9001".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        for (credentials, expected) in
            [(&keys.user, Caller::User), (&keys.sandbox, Caller::Sandbox)]
        {
            let (authorization, date) =
                sign(credentials, "us-east-1", "POST", path, &sent, b"{}", now);
            let mut signed = headers.clone();
            signed.insert("authorization", authorization.parse().unwrap());
            signed.insert("x-amz-date", date.parse().unwrap());
            assert_eq!(
                caller(&keys, "POST", path, &signed, b"{}", now),
                Ok(expected)
            );
            signed.insert("host", "evil.example".parse().unwrap());
            assert!(caller(&keys, "POST", path, &signed, b"{}", now).is_err());
        }
        let stranger = Credentials::generate("AKIA");
        let (authorization, date) = sign(&stranger, "us-east-1", "GET", "/", &sent, b"", now);
        let mut signed = headers.clone();
        signed.insert("authorization", authorization.parse().unwrap());
        signed.insert("x-amz-date", date.parse().unwrap());
        let refused = caller(&keys, "GET", "/", &signed, b"", now).unwrap_err();
        assert_eq!(refused.error_type, "UnrecognizedClientException");
    }

    #[test]
    fn paths_and_queries_are_canonical() {
        assert_eq!(normalize_path("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(encode("/f%3Ax", true), "/f%253Ax");
        assert_eq!(canonical_query("b=2&a=%24LATEST&c"), "a=%24LATEST&b=2&c=");
    }
}
