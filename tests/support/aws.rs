//! Helpers for the AWS tests: MiniStack on 127.0.0.1:4566 (started by
//! scripts/ensure-ministack.sh), the test credentials, unique names, and
//! direct calls to MiniStack's ECR and Lambda APIs to check what the jot tools
//! did (plain HTTP with std, so the test crate needs no AWS SDK).

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

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
        "{prefix}-{}-{}-{:x}-{}",
        run_marker(),
        std::process::id(),
        nanos % 0xffff_ffff,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The part of every [`unique`] name that says which `cargo test` run made it
/// (`r` and the run id of [`crate::run_prefix`]), so a run can find its own leftovers.
pub fn run_marker() -> String {
    let prefix = crate::run_prefix();
    format!(
        "r{}",
        prefix.trim_start_matches("jot-test-").trim_end_matches('-')
    )
}

/// Deletes, when dropped (whether the test passed or failed), the ECR
/// repositories, Lambda functions and IAM roles a test created in MiniStack.
#[derive(Default)]
pub struct Cleanup {
    pub repositories: Vec<String>,
    pub functions: Vec<String>,
    pub roles: Vec<String>,
}

impl Cleanup {
    /// The repository and the function that jot names `name`.
    pub fn named(name: &str) -> Cleanup {
        Cleanup {
            repositories: vec![name.to_string()],
            functions: vec![name.to_string()],
            roles: Vec::new(),
        }
    }

    pub fn role(mut self, role: &str) -> Cleanup {
        self.roles.push(role.to_string());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for repository in &self.repositories {
            let _ = ecr_call(
                "DeleteRepository",
                &serde_json::json!({"repositoryName": repository, "force": true}),
            );
        }
        for function in &self.functions {
            let _ = lambda("DELETE", &format!("/2015-03-31/functions/{function}"), None);
            // The log group Lambda made at its first invocation, if it ran.
            let group = format!("/aws/lambda/{function}");
            let _ = logs_call(
                "DeleteLogGroup",
                &serde_json::json!({"logGroupName": group}),
            );
        }
        for role in &self.roles {
            delete_role(role);
        }
    }
}

/// Detaches a role's managed policies, then deletes it (IAM refuses otherwise).
pub fn delete_role(role: &str) {
    delete_role_with(&authorization("iam"), role);
}

fn delete_role_with(auth: &str, role: &str) {
    let (_, attached) = iam_with(
        auth,
        &[("Action", "ListAttachedRolePolicies"), ("RoleName", role)],
    );
    for arn in xml_values(&attached, "PolicyArn") {
        iam_with(
            auth,
            &[
                ("Action", "DetachRolePolicy"),
                ("RoleName", role),
                ("PolicyArn", &arn),
            ],
        );
    }
    iam_with(auth, &[("Action", "DeleteRole"), ("RoleName", role)]);
}

/// The text of every `<tag>…</tag>` element in an XML answer.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(v, _)| v.to_string()))
        .collect()
}

/// MiniStack's repositories, functions and roles whose names carry `marker`.
pub fn resources_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok((200, body)) = ecr_call("DescribeRepositories", &serde_json::json!({})) {
        let answer: Value = serde_json::from_str(&body).unwrap_or_default();
        for repo in answer["repositories"].as_array().into_iter().flatten() {
            let name = repo["repositoryName"].as_str().unwrap_or_default();
            if name.contains(marker) {
                found.push(format!("ECR repository {name}"));
            }
        }
    }
    let (_, functions) = lambda("GET", "/2015-03-31/functions/?MaxItems=10000", None);
    for function in functions["Functions"].as_array().into_iter().flatten() {
        let name = function["FunctionName"].as_str().unwrap_or_default();
        if name.contains(marker) {
            found.push(format!("Lambda function {name}"));
        }
    }
    let (_, roles) = iam(&[("Action", "ListRoles"), ("MaxItems", "1000")]);
    for name in xml_values(&roles, "RoleName") {
        if name.contains(marker) {
            found.push(format!("IAM role {name}"));
        }
    }
    found
}

/// One HTTP/1.1 request to MiniStack; returns the status and the body.
pub fn http(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    let answer = crate::http_request(HOST, method, path, headers, body.as_bytes())?;
    let chunked = answer
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(&answer.body)
    } else {
        answer.body
    };
    Ok((answer.status, body))
}

/// A remote_image descriptor with no image behind it (MiniStack's Lambda
/// does not check), for tests of jot-deploy alone.
pub fn remote_descriptor(name: &str, arg_type: &str, digest: &str) -> String {
    serde_json::json!({
        "jot": 1, "kind": "remote_image", "name": name,
        "responder": {"source": "/src/f.jl", "kind": "script", "function": "f",
                      "arg_type": arg_type, "tree_hash": "00"},
        "remote_image": {
            "repository_uri": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"),
            "tag": "t1", "digest": digest
        }
    })
    .to_string()
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
    authorization_as("test", "us-east-1", service)
}

/// The same for another account (MiniStack takes a 12-digit access key as
/// the account id) and region.
fn authorization_as(key: &str, region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={key}/20240101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// A Lambda REST call as `account` in `region`; the status and the JSON answer.
pub fn lambda_as(account: &str, region: &str, method: &str, path: &str) -> (u16, Value) {
    let auth = authorization_as(account, region, "lambda");
    let (status, text) =
        http(method, path, &[("Authorization", &auth)], "").expect("Lambda call to MiniStack");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Deletes jot's shared role in `account` (detached first), as IAM needs.
pub fn delete_jot_role_as(account: &str) {
    let auth = authorization_as(account, "us-east-1", "iam");
    delete_role_with(&auth, "jot-lambda-basic-execution");
}

/// An ECR API call (JSON 1.1 protocol); returns the status and the body.
pub fn ecr_call(action: &str, input: &Value) -> std::io::Result<(u16, String)> {
    json_call("ecr", "AmazonEC2ContainerRegistry_V20150921", action, input)
}

/// A CloudWatch Logs API call (JSON 1.1 protocol); returns the status and the body.
pub fn logs_call(action: &str, input: &Value) -> std::io::Result<(u16, String)> {
    json_call("logs", "Logs_20140328", action, input)
}

/// A call of a JSON 1.1 protocol service (`X-Amz-Target: PREFIX.ACTION`).
fn json_call(
    service: &str,
    prefix: &str,
    action: &str,
    input: &Value,
) -> std::io::Result<(u16, String)> {
    let target = format!("{prefix}.{action}");
    let auth = authorization(service);
    http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &target),
            ("Authorization", &auth),
        ],
        &input.to_string(),
    )
}

/// Creates a Python function (MiniStack runs it and writes what it prints to
/// `/aws/lambda/NAME`, as Lambda does; it cannot run jot's image functions,
/// having no Docker client). `handler` is the source of `handler.py`, whose
/// `handler(event, context)` is called. The zip is made by python3's zipfile.
pub fn create_python_function(name: &str, handler: &str) {
    create_python_function_with(name, handler, serde_json::json!({}));
}

/// The same with more CreateFunction settings (`{"SnapStart": …}`).
pub fn create_python_function_with(name: &str, handler: &str, settings: Value) {
    let zip = Command::new("python3")
        .args([
            "-c",
            "import base64,io,sys,zipfile\nb=io.BytesIO()\nwith zipfile.ZipFile(b,'w') as z: z.writestr('handler.py', sys.argv[1])\nprint(base64.b64encode(b.getvalue()).decode())",
            handler,
        ])
        .output()
        .expect("run python3 to zip the handler");
    assert!(zip.status.success(), "python3 zip: {zip:?}");
    let input = serde_json::json!({
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": "arn:aws:iam::123456789012:role/jot-test-python",
        "Handler": "handler.handler",
        "Timeout": 10,
        "Code": {"ZipFile": String::from_utf8_lossy(&zip.stdout).trim()},
    });
    let mut input = input;
    for (key, value) in settings.as_object().into_iter().flatten() {
        input[key] = value.clone();
    }
    let (status, answer) = lambda("POST", "/2015-03-31/functions", Some(input));
    assert_eq!(status, 201, "CreateFunction {name}: {answer}");
}

/// An ECR API call; panics unless it succeeds.
pub fn ecr(action: &str, input: Value) -> Value {
    let (status, body) = ecr_call(action, &input).expect("ECR call to MiniStack");
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
    iam_with(&authorization("iam"), params)
}

fn iam_with(auth: &str, params: &[(&str, &str)]) -> (u16, String) {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let body = params
        .iter()
        .chain([("Version", "2010-05-08")].iter())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    http(
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", auth),
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

/// Every image digest ECR holds in `repository`, sorted.
pub fn ecr_images(repository: &str) -> Vec<String> {
    let answer = ecr(
        "DescribeImages",
        serde_json::json!({"repositoryName": repository}),
    );
    let mut digests: Vec<String> = answer["imageDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["imageDigest"].as_str().unwrap().to_string())
        .collect();
    digests.sort();
    digests
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

/// The published versions of a function (`$LATEST` left out), oldest first.
pub fn published_versions(name: &str) -> Vec<String> {
    let (status, answer) = lambda(
        "GET",
        &format!("/2015-03-31/functions/{name}/versions"),
        None,
    );
    assert_eq!(status, 200, "{answer}");
    answer["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["Version"].as_str())
        .filter(|v| *v != "$LATEST")
        .map(str::to_string)
        .collect()
}
