//! Helpers for the AWS tests: MiniStack on 127.0.0.1:4566 (started by
//! scripts/ensure-ministack.sh), the test credentials, unique names, and
//! direct calls to MiniStack's ECR and Lambda APIs to check what the jot tools
//! did (plain HTTP with std, so the test crate needs no AWS SDK).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

/// Where MiniStack listens.
pub const HOST: &str = "127.0.0.1:4566";
pub const ENDPOINT: &str = "http://127.0.0.1:4566";
/// An address where nothing answers (connections are refused at once).
pub const DEAD_ENDPOINT: &str = "http://127.0.0.1:1";

/// Fails the test (never skips it) when MiniStack does not answer.
pub fn require_ministack() {
    let healthy = http("GET", "/_ministack/health", &[], "")
        .map(|(status, body)| status == 200 && body.contains("services"))
        .unwrap_or(false);
    assert!(
        healthy,
        "MiniStack is not reachable at {ENDPOINT}: run `bash scripts/ensure-ministack.sh` (make ministack) before the AWS tests"
    );
}

/// Points a jot tool at MiniStack with the test credentials, isolated from
/// any AWS profile of the machine.
pub fn aws_env(command: &mut Command) -> &mut Command {
    isolate(command)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", ENDPOINT)
        .env("JOT_REGISTRY", HOST)
}

/// Removes every AWS setting the machine may have, so a test decides them.
pub fn isolate(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            command.env_remove(&key);
        }
    }
    command
        .env("AWS_CONFIG_FILE", "/nonexistent/jot-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/jot-test/credentials",
        )
        .env_remove("JOT_REGISTRY")
}

/// A name no other test (or earlier run) uses: MiniStack is shared by tests
/// running in parallel and is not reset between them.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{:x}-{}",
        std::process::id(),
        nanos % 0xffff_ffff,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// One HTTP/1.1 request to MiniStack; returns the status and the body.
pub fn http(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(HOST)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        body.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    body
}

/// The unsigned stand-in for SigV4 that tells MiniStack which service is meant.
fn authorization(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// An ECR API call (JSON 1.1 protocol); panics unless it succeeds.
pub fn ecr(action: &str, input: Value) -> Value {
    let target = format!("AmazonEC2ContainerRegistry_V20150921.{action}");
    let auth = authorization("ecr");
    let (status, body) = http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &target),
            ("Authorization", &auth),
        ],
        &input.to_string(),
    )
    .expect("ECR call to MiniStack");
    assert!(status == 200, "ECR {action} answered {status}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("ECR {action}: not JSON ({e}): {body}"))
}

/// A Lambda REST API call; returns the status and the JSON answer (Null when empty).
pub fn lambda(method: &str, path: &str, input: Option<Value>) -> (u16, Value) {
    let auth = authorization("lambda");
    let body = input.map(|v| v.to_string()).unwrap_or_default();
    let (status, text) = http(
        method,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
        ],
        &body,
    )
    .expect("Lambda call to MiniStack");
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// An IAM Query API call (form-encoded); returns the status and the XML answer.
pub fn iam(params: &[(&str, &str)]) -> (u16, String) {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let body = params
        .iter()
        .chain([("Version", "2010-05-08")].iter())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let auth = authorization("iam");
    http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &auth),
        ],
        &body,
    )
    .expect("IAM call to MiniStack")
}

/// GetFunction (optionally of a version or alias); panics unless it exists.
pub fn get_function(name: &str, qualifier: Option<&str>) -> Value {
    let path = match qualifier {
        Some(q) => format!("/2015-03-31/functions/{name}?Qualifier={q}"),
        None => format!("/2015-03-31/functions/{name}"),
    };
    let (status, value) = lambda("GET", &path, None);
    assert_eq!(status, 200, "GetFunction {name}: {value}");
    value
}

/// The digests ECR lists for `tag` in `repository` (DescribeImages).
pub fn ecr_digests(repository: &str, tag: &str) -> Vec<String> {
    let answer = ecr(
        "DescribeImages",
        serde_json::json!({"repositoryName": repository, "imageIds": [{"imageTag": tag}]}),
    );
    answer["imageDetails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["imageDigest"].as_str().map(str::to_string))
        .collect()
}

/// The local image's RepoDigests, as the Docker engine records them after a push.
pub fn repo_digests(image: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            image,
        ])
        .output()
        .expect("run docker image inspect");
    assert!(
        output.status.success(),
        "docker image inspect {image}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("RepoDigests JSON")
}
