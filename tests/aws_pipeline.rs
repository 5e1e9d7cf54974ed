//! The whole pipeline against MiniStack with the real Docker engine and real
//! Julia: build → push (ECR lists the local image's repo digest) → push again
//! (fast path) → deploy (Active, tagged, pinned by digest) → invoke through
//! jot-serve (the answer comes from the Julia code) → re-deploy a code change
//! (new version, alias moved) → function error (exit 3) and --expect (exit 4).

use std::time::Instant;

use jot_tests::aws::{self, aws_env};
use jot_tests::serve::Serve;
use jot_tests::*;
use serde_json::Value;

const V1: &str = "function increment_vector(v::Vector{Int})\n    isempty(v) && sleep(30)\n    any(<(0), v) && throw(DomainError(v, \"negative entries\"))\n    v .+ 1\nend\n";
const V2: &str =
    "function increment_vector(v::Vector{Int})\n    isempty(v) && sleep(30)\n    v .+ 2\nend\n";

/// A jot-serve running `descriptor` on a free port (stopped when dropped);
/// MiniStack's proxy sees function errors only by a non-2xx status.
fn serve(descriptor: &str) -> Serve {
    Serve::start(
        descriptor,
        &["--timeout", "10", "--function-error-status", "500"],
    )
}

/// The function environment that makes MiniStack forward invocations to `serve`.
fn proxy_env(serve: &Serve, name: &str) -> String {
    format!(
        "MINISTACK_LAMBDA_PROXY_URL={}/2015-03-31/functions/{name}/invocations",
        serve.endpoint
    )
}

fn push(descriptor: &str) -> (String, String) {
    let output = run_with_stdin(aws_env(&mut jot("jot-push")), descriptor.as_bytes());
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "jot-push failed: {stderr}");
    (stdout, stderr)
}

fn deploy(descriptor: &str, args: &[&str]) -> Value {
    let output = run_with_stdin(
        aws_env(&mut jot("jot-deploy")).args(args),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "jot-deploy failed: {stderr}");
    json(&stdout)
}

fn invoke(descriptor: &str, args: &[&str]) -> (i32, String, String) {
    outcome(&run_with_stdin(
        aws_env(&mut jot("jot-invoke")).args(args),
        descriptor.as_bytes(),
    ))
}

#[test]
fn build_push_deploy_invoke_redeploy() {
    aws::require_ministack();
    let name = aws::unique("pipeline");
    let _cleanup = aws::Cleanup::named(&name);
    let arg_type = ["--name", name.as_str(), "--arg-type", "Vector{Int}"];

    // Build and push: ECR lists the digest the engine recorded for the push.
    let v1_script = script("increment_vector.jl", V1);
    let local_v1 = build(&v1_script.path, &arg_type);
    let (remote_v1, push_log) = push(&local_v1);
    // ECR's token (MiniStack's is base64 of AWS:ministack-auth-token) is never shown.
    for secret in ["ministack-auth-token", "QVdTOm1pbmlzdGFjay1hdXRoLXRva2Vu"] {
        assert!(
            !remote_v1.contains(secret) && !push_log.contains(secret),
            "{secret} leaked"
        );
    }
    let remote = json(&remote_v1);
    assert_eq!(remote["kind"], "remote_image");
    let tag = remote["remote_image"]["tag"].as_str().unwrap().to_string();
    let digest = remote["remote_image"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    assert_eq!(aws::ecr_digests(&name, &tag), vec![digest.clone()]);
    let image = json(&local_v1)["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        aws::repo_digests(&image).contains(&format!("{}/{name}@{digest}", aws::HOST)),
        "the engine's RepoDigests lack the pushed digest {digest}"
    );
    let repo = aws::ecr(
        "DescribeRepositories",
        serde_json::json!({"repositoryNames": [name]}),
    );
    let arn = repo["repositories"][0]["repositoryArn"].as_str().unwrap();
    let tags = aws::ecr(
        "ListTagsForResource",
        serde_json::json!({"resourceArn": arn}),
    );
    let tag_value = |key: &str| {
        tags["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["Key"] == key)
            .map(|t| t["Value"].as_str().unwrap().to_string())
    };
    assert_eq!(tag_value("dev.jot.name").as_deref(), Some(name.as_str()));
    // `Vector{Int}` is not a valid tag value: stored base64-encoded, losslessly.
    assert_eq!(
        tag_value("dev.jot.arg-type").as_deref(),
        Some("b64:VmVjdG9ye0ludH0=")
    );

    // Push again: the fast path prints the same descriptor and pushes nothing.
    ensure_built();
    let started = Instant::now();
    let (again, stderr) = push(&local_v1);
    assert_eq!(json(&again), remote);
    assert!(stderr.contains("nothing to push"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 10,
        "fast path took {:?}",
        started.elapsed()
    );

    // Deploy, with invocations forwarded to jot-serve running the same image.
    let serve_v1 = serve(&local_v1);
    let proxy_v1 = proxy_env(&serve_v1, &name);
    let function = deploy(
        &remote_v1,
        &["--alias", "live", "--timeout", "60", "--env", &proxy_v1],
    );
    assert_eq!(function["kind"], "function");
    assert_eq!(function["function"]["version"], "1");
    assert_eq!(function["function"]["alias"], "live");
    assert_eq!(function["function"]["image_digest"], digest.as_str());
    let got = aws::get_function(&name, None);
    assert_eq!(got["Configuration"]["State"], "Active");
    assert_eq!(got["Configuration"]["PackageType"], "Image");
    let repository_uri = remote["remote_image"]["repository_uri"].as_str().unwrap();
    assert_eq!(
        got["Code"]["ImageUri"],
        format!("{repository_uri}@{digest}").as_str()
    );
    assert_eq!(got["Tags"]["dev.jot.name"], name.as_str());
    assert_eq!(got["Tags"]["dev.jot.image-digest"], digest.as_str());
    assert_eq!(
        function["function"]["arn"],
        got["Configuration"]["FunctionArn"]
    );
    let function_line = function.to_string();

    // Invoke: the answer comes from Julia through MiniStack and jot-serve.
    let (code, stdout, stderr) = invoke(
        &function_line,
        &["--payload", "[1,2,3]", "--expect", "[2,3,4]", "--json"],
    );
    assert_eq!(code, 0, "invoke failed: {stderr}");
    assert_eq!(json(&stdout), serde_json::json!([2, 3, 4]));
    assert!(stderr.contains("\"first_response_ms\""), "{stderr}");
    let (code, stdout, stderr) = invoke(&function_line, &["--payload", "[1]", "--expect", "[5]"]);
    assert_eq!(code, 4, "--expect mismatch must exit 4: {stdout} {stderr}");
    // A Julia exception is a function error → exit 3 with the error JSON.
    let (code, stdout, stderr) = invoke(&function_line, &["--payload", "[-1]"]);
    assert_eq!(code, 3, "a function error must exit 3: {stdout} {stderr}");
    assert!(stdout.contains("negative entries"), "{stdout}");

    // Unchanged deploy: nothing published.
    let same = deploy(&remote_v1, &["--alias", "live"]);
    assert_eq!(same["function"]["version"], "1");

    // A code change: new image, new version, alias moved; old version kept.
    let v2_script = script("increment_vector.jl", V2);
    let local_v2 = build(&v2_script.path, &arg_type);
    let (remote_v2, _) = push(&local_v2);
    let digest_v2 = json(&remote_v2)["remote_image"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(digest_v2, digest);
    let serve_v2 = serve(&local_v2);
    let proxy_v2 = proxy_env(&serve_v2, &name);
    let function_v2 = deploy(&remote_v2, &["--alias", "live", "--env", &proxy_v2]);
    assert_eq!(function_v2["function"]["version"], "2");
    let (status, alias) = aws::lambda(
        "GET",
        &format!("/2015-03-31/functions/{name}/aliases/live"),
        None,
    );
    assert_eq!(status, 200, "{alias}");
    assert_eq!(alias["FunctionVersion"], "2");
    assert_eq!(
        aws::get_function(&name, None)["Code"]["ImageUri"],
        format!("{repository_uri}@{digest_v2}").as_str()
    );
    let by_name = |qualifier: &str| {
        invoke(
            "",
            &[
                "--function-name",
                &name,
                "--qualifier",
                qualifier,
                "--payload",
                "[1,2,3]",
            ],
        )
    };
    let (code, stdout, stderr) = by_name("live");
    assert_eq!(
        (code, json(&stdout)),
        (0, serde_json::json!([3, 4, 5])),
        "{stderr}"
    );
    let (code, stdout, stderr) = by_name("1");
    assert_eq!(
        (code, json(&stdout)),
        (0, serde_json::json!([2, 3, 4])),
        "{stderr}"
    );

    // A function error: the Julia code outlives the function's timeout, and
    // Lambda (MiniStack) reports it as a function error → exit 3.
    let function_v3 = deploy(&remote_v2, &["--alias", "live", "--timeout", "3"]);
    assert_eq!(function_v3["function"]["version"], "3");
    let (code, stdout, stderr) = invoke(&function_v3.to_string(), &["--payload", "[]"]);
    assert_eq!(code, 3, "a function error must exit 3: {stdout} {stderr}");
    assert!(stdout.contains("timed out"), "{stdout}");
    assert!(
        stderr.contains("the function returned an error"),
        "{stderr}"
    );
}
