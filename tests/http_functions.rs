//! An HTTP function (examples/http_hello.jl) through the local emulator with an
//! API-Gateway-v2-shaped event (function URLs send the same shape): the
//! request's method, path, query and base64 body reach Julia as an
//! `HTTPRequest` chosen by the function's signature, and its `HTTPResponse`
//! comes back as the Lambda proxy response.

use std::path::Path;

use jot_tests::*;

fn event(method: &str, query: &str, body: Option<&str>) -> String {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/hi",
        "rawQueryString": query,
        "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "user-agent": "curl/8"},
        "queryStringParameters": if query.is_empty() { serde_json::Value::Null } else {
            serde_json::json!({"name": query.trim_start_matches("name=")})
        },
        "requestContext": {"http": {"method": method, "path": "/hi", "sourceIp": "127.0.0.1"}},
        "body": body,
        "isBase64Encoded": body.is_some(),
    })
    .to_string()
}

#[test]
fn an_http_function_answers_an_api_gateway_v2_event() {
    let dir = workdir();
    let _built = BuiltUnder(dir.path().to_path_buf());
    let path = dir.path().join("http_hello.jl");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    std::fs::copy(examples.join("http_hello.jl"), &path).unwrap();
    let descriptor = build(&path, &[]);
    let output = run_with_stdin(
        jot("jot-invoke").args([
            "--payload",
            &event("GET", "name=ada", None),
            "--payload",
            // "Grace", base64-encoded as API Gateway sends binary bodies.
            &event("POST", "", Some("R3JhY2U=")),
            "--payload",
            &event("DELETE", "", None),
        ]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let answers: Vec<serde_json::Value> = stdout.lines().map(json).collect();
    assert_eq!(answers.len(), 3, "{stdout}");
    assert_eq!(answers[0]["statusCode"], 200);
    assert_eq!(answers[0]["body"], "hello, ada, from /hi\n");
    assert_eq!(
        answers[0]["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(answers[0]["isBase64Encoded"], false);
    assert_eq!(answers[1]["body"], "hello, Grace, from /hi\n");
    assert_eq!(answers[2]["statusCode"], 405);
    assert_eq!(answers[2]["headers"]["allow"], "GET, POST");

    // An event that is not an HTTP request is a conversion error (exit 3).
    let output = run_with_stdin(
        jot("jot-invoke").args(["--payload", "[1,2]"]),
        descriptor.as_bytes(),
    );
    let (code, stdout, _) = outcome(&output);
    assert_eq!(code, 3);
    assert_eq!(json(&stdout)["errorType"], "Runtime.ConversionError");
}
