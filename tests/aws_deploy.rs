//! jot-deploy and jot-push settings read back from the AWS APIs (MiniStack):
//! every jot-deploy flag from GetFunction, environments replaced when given and
//! kept when not, the default role's trust policy, policy and tag from IAM;
//! jot-push's `--scan-on-push` and `--immutable-tags` from ECR, its fast path
//! by the registry's silence (a recording proxy) and ECR's own `imagePushedAt`,
//! and a registry that refuses the push.

use std::io::{Read, Write};
use std::net::TcpListener;

use jot_tests::aws::{self, aws_env};
use jot_tests::registry_proxy::RegistryProxy;
use jot_tests::*;
use serde_json::{Value, json as j};

const DIGEST: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn remote_descriptor(name: &str) -> String {
    aws::remote_descriptor(name, "Any", DIGEST)
}

fn deploy(name: &str, args: &[&str]) -> Value {
    let output = run_with_stdin(
        aws_env(&mut jot("jot-deploy")).args(args),
        remote_descriptor(name).as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "jot-deploy {args:?}: {stderr}");
    json(&stdout)
}

fn configuration(name: &str) -> Value {
    aws::get_function(name, None)["Configuration"].clone()
}

#[test]
fn every_deploy_flag_is_read_back_from_lambda() {
    aws::require_ministack();
    let name = aws::unique("settings");
    let _cleanup = aws::Cleanup::named(&name);
    deploy(
        &name,
        &[
            "--memory",
            "2048",
            "--timeout",
            "42",
            "--architecture",
            "arm64",
            "--ephemeral-storage",
            "1024",
            "--description",
            "read back",
            "--env",
            "FIRST=1",
            "--env",
            "SECOND=two",
        ],
    );
    let got = configuration(&name);
    assert_eq!(got["MemorySize"], 2048, "{got}");
    assert_eq!(got["Timeout"], 42);
    assert_eq!(got["Architectures"], j!(["arm64"]));
    assert_eq!(got["EphemeralStorage"]["Size"], 1024);
    assert_eq!(got["Description"], "read back");
    assert_eq!(
        got["Environment"]["Variables"],
        j!({"FIRST": "1", "SECOND": "two"})
    );

    // Given variables replace all of them.
    deploy(&name, &["--env", "THIRD=3"]);
    assert_eq!(
        configuration(&name)["Environment"]["Variables"],
        j!({"THIRD": "3"})
    );
    // A redeploy that changes only memory keeps everything else.
    deploy(&name, &["--memory", "3008"]);
    let got = configuration(&name);
    assert_eq!(got["MemorySize"], 3008);
    assert_eq!(got["Environment"]["Variables"], j!({"THIRD": "3"}));
    assert_eq!(got["Timeout"], 42);
    assert_eq!(got["Architectures"], j!(["arm64"]));
    assert_eq!(got["EphemeralStorage"]["Size"], 1024);
    assert_eq!(got["Description"], "read back");

    // The default role: Lambda may assume it, it holds only basic execution, it is jot's.
    let role_arn = got["Role"].as_str().unwrap();
    assert!(
        role_arn.ends_with(":role/jot-lambda-basic-execution"),
        "{role_arn}"
    );
    let role = "jot-lambda-basic-execution";
    let (status, answer) = aws::iam(&[("Action", "GetRole"), ("RoleName", role)]);
    assert_eq!(status, 200, "{answer}");
    let document = aws::xml_values(&answer, "AssumeRolePolicyDocument")
        .pop()
        .expect("a trust policy");
    let document = percent_encoding::percent_decode_str(&document).decode_utf8_lossy();
    let trust = json(&document.replace("&quot;", "\""));
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Effect"], "Allow", "{trust}");
    assert_eq!(statement["Principal"]["Service"], "lambda.amazonaws.com");
    assert_eq!(statement["Action"], "sts:AssumeRole");
    let (_, attached) = aws::iam(&[("Action", "ListAttachedRolePolicies"), ("RoleName", role)]);
    assert_eq!(
        aws::xml_values(&attached, "PolicyArn"),
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
    let (_, tags) = aws::iam(&[("Action", "ListRoleTags"), ("RoleName", role)]);
    assert!(
        aws::xml_values(&tags, "Key")
            .iter()
            .any(|k| k.starts_with("dev.jot")),
        "the role carries no jot tag: {tags}"
    );
}

fn repository(name: &str) -> Value {
    aws::ecr("DescribeRepositories", j!({"repositoryNames": [name]}))["repositories"][0].clone()
}

fn pushed_at(name: &str) -> Value {
    aws::ecr("DescribeImages", j!({"repositoryName": name}))["imageDetails"][0]["imagePushedAt"]
        .clone()
}

#[test]
fn push_flags_and_the_fast_path_read_back_from_ecr() {
    aws::require_ministack();
    let name = aws::unique("push-flags");
    let _cleanup = aws::Cleanup::named(&name);
    let script = script("push_flags.jl", "push_flags(x) = x\n");
    let built = build(&script.path, &["--name", &name]);
    // Through a recording proxy: the registry's side says what was sent.
    let proxy = RegistryProxy::start(aws::HOST);
    let push = |args: &[&str]| {
        let mut command = jot("jot-push");
        aws_env(&mut command).env("JOT_REGISTRY", &proxy.host);
        let output = run_with_stdin(command.args(args), built.as_bytes());
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "jot-push {args:?}: {stderr}");
        stdout
    };
    let first = push(&["--scan-on-push", "--immutable-tags"]);
    let repo = repository(&name);
    assert_eq!(
        repo["imageScanningConfiguration"]["scanOnPush"], true,
        "{repo}"
    );
    assert_eq!(repo["imageTagMutability"], "IMMUTABLE", "{repo}");
    let before = pushed_at(&name);
    assert!(!before.is_null(), "ECR lists no image");
    let sent = proxy.settle(std::time::Duration::from_secs(60));
    assert!(sent.iter().any(|e| e.is_manifest_put()), "{sent:?}");
    // A second push of the unchanged image: the registry hears nothing and
    // ECR's record is untouched.
    assert_eq!(push(&[]), first);
    assert_eq!(
        proxy.log().len(),
        0,
        "the fast path talked to the registry: {:?}",
        proxy.log()
    );
    assert_eq!(pushed_at(&name), before, "the fast path pushed again");

    let plain = aws::unique("push-plain");
    let _plain = aws::Cleanup::named(&plain);
    let plain_built = build(&script.path, &["--name", &plain]);
    let output = run_with_stdin(aws_env(&mut jot("jot-push")), plain_built.as_bytes());
    assert_eq!(outcome(&output).0, 0, "{}", outcome(&output).2);
    let repo = repository(&plain);
    assert_ne!(
        repo["imageScanningConfiguration"]["scanOnPush"], true,
        "{repo}"
    );
    assert_eq!(repo["imageTagMutability"], "MUTABLE", "{repo}");
}

#[test]
fn a_registry_that_refuses_the_push_is_one_line_and_no_descriptor() {
    aws::require_ministack();
    let name = aws::unique("refused");
    let _cleanup = aws::Cleanup::named(&name);
    // A registry that answers every request with 403.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 8192];
            let _ = stream.read(&mut buf);
            let body = r#"{"errors":[{"code":"DENIED","message":"pushes are refused here"}]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let script = script("refused.jl", "refused(x) = x\n");
    let built = build(&script.path, &["--name", &name]);
    let output = run_with_stdin(
        aws_env(&mut jot("jot-push")).args(["--registry", &format!("127.0.0.1:{port}")]),
        built.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 6, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("the registry refused the push")
            && errors[0].contains("pushes are refused here"),
        "{stderr}"
    );
}
