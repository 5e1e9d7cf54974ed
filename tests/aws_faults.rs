//! Bad input and faults of jot-push, jot-deploy and remote jot-invoke, each
//! with a clear one-line error, its documented exit code, and nothing
//! half-done: no credentials or region, a dead endpoint, names and limits AWS
//! would refuse (checked before any call), resources jot did not create, and
//! a push interrupted half-way.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jot_tests::aws::{self, aws_env, isolate};
use jot_tests::registry_proxy::RegistryProxy;
use jot_tests::*;
use serde_json::{Value, json as j};

const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn remote_descriptor(name: &str) -> String {
    aws::remote_descriptor(name, "Vector{Int}", DIGEST)
}

fn local_descriptor(name: &str) -> String {
    j!({
        "jot": 1, "kind": "local_image", "name": name,
        "responder": {"source": "/src/f.jl", "kind": "script", "function": "f",
                      "arg_type": "Any", "tree_hash": "00"},
        "local_image": {"image": format!("{name}:t1"), "id": "sha256:00"}
    })
    .to_string()
}

/// Runs `tool` with the given environment (AWS settings cleared first).
fn run_tool(tool: &str, env: &[(&str, &str)], args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut command = jot(tool);
    isolate(&mut command);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jot tool");
    // A tool that refuses its flags exits before reading stdin: ignore EPIPE.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    outcome(&child.wait_with_output().expect("wait for jot tool"))
}

/// A Julia script whose image has a large layer of its own (random bytes in
/// a comment), so pushing it takes long enough to be interrupted.
fn bulky_script(function: &str, megabytes: usize) -> Script {
    let mut state: u64 = std::process::id() as u64 ^ 0x9e37_79b9_7f4a_7c15;
    let mut filler = String::with_capacity(megabytes << 20);
    while filler.len() < megabytes << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        filler.push_str(&format!("{state:016x}"));
        if filler.len() % 4096 < 16 {
            filler.push_str("\n# ");
        }
    }
    script(
        &format!("{function}.jl"),
        &format!("{function}(x) = x\n# {filler}\n"),
    )
}

fn assert_one_line(stderr: &str) {
    assert_eq!(stderr.lines().count(), 1, "expected one line: {stderr}");
}

const CREDENTIALS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
];

#[test]
fn no_credentials_or_no_region_say_how_to_set_them() {
    let descriptor = remote_descriptor("no-credentials");
    let (code, _, stderr) = run_tool(
        "jot-deploy",
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", aws::ENDPOINT),
        ],
        &[],
        &descriptor,
    );
    assert_eq!(code, 8, "{stderr}");
    assert_one_line(&stderr);
    assert!(
        stderr.contains("no AWS credentials") && stderr.contains("AWS_ACCESS_KEY_ID"),
        "{stderr}"
    );

    let (code, _, stderr) = run_tool(
        "jot-invoke",
        &[
            CREDENTIALS[0],
            CREDENTIALS[1],
            ("AWS_ENDPOINT_URL", aws::ENDPOINT),
        ],
        &["--function-name", "anything"],
        "",
    );
    assert_eq!(code, 8, "{stderr}");
    assert_one_line(&stderr);
    assert!(
        stderr.contains("no AWS region") && stderr.contains("AWS_REGION"),
        "{stderr}"
    );
}

#[test]
fn a_dead_endpoint_fails_fast_with_one_line() {
    let env = [
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT),
    ];
    for (tool, args, stdin) in [
        ("jot-deploy", vec![], remote_descriptor("dead-endpoint")),
        (
            "jot-invoke",
            vec!["--function-name", "dead-endpoint"],
            String::new(),
        ),
    ] {
        ensure_built();
        let started = Instant::now();
        let (code, _, stderr) = run_tool(tool, &env, &args, &stdin);
        assert_eq!(code, 8, "{tool}: {stderr}");
        assert_one_line(&stderr);
        assert!(
            stderr.contains("127.0.0.1:1") && stderr.contains("gave up after"),
            "{tool}: {stderr}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{tool} took {:?} to give up",
            started.elapsed()
        );
    }
}

#[test]
fn names_and_limits_are_refused_before_any_aws_call() {
    // A dead endpoint proves no call was made: a call would exit 8, not 5.
    let env = [
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT),
    ];
    // Repository names ECR would reject.
    for bad in ["Upper-Case", "a___b", "-lead"] {
        let (code, _, stderr) = run_tool("jot-push", &env, &[], &local_descriptor(bad));
        assert_eq!(code, 5, "{bad}: {stderr}");
        assert!(
            stderr.contains("line 1") && stderr.contains("name"),
            "{stderr}"
        );
    }
    let (code, _, stderr) = run_tool(
        "jot-push",
        &env,
        &["--registry", "http://127.0.0.1:4566"],
        &local_descriptor("fine-name"),
    );
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("--registry"), "{stderr}");

    let descriptor = remote_descriptor("limits");
    for (args, says) in [
        (vec!["--memory", "64"], "128 to 10240 MB"),
        (vec!["--memory", "20000"], "128 to 10240 MB"),
        (vec!["--timeout", "0"], "1 to 900 seconds"),
        (vec!["--timeout", "901"], "1 to 900 seconds"),
        (vec!["--ephemeral-storage", "100"], "512 to 10240 MB"),
        (vec!["--env", "AWS_REGION=eu-west-1"], "reserved"),
        (vec!["--env", "NOVALUE"], "NAME=VALUE"),
        (vec!["--alias", "42"], "--alias"),
        (vec!["--role", "my-role"], "--role"),
    ] {
        let (code, _, stderr) = run_tool("jot-deploy", &env, &args, &descriptor);
        assert_eq!(code, 5, "{args:?}: {stderr}");
        assert_one_line(&stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let big = format!("BIG={}", "x".repeat(5000));
    let (code, _, stderr) = run_tool("jot-deploy", &env, &["--env", &big], &descriptor);
    assert_eq!(code, 5, "{stderr}");
    let bad_digest = descriptor.replace(DIGEST, "sha256:nothex");
    let (code, _, stderr) = run_tool("jot-deploy", &env, &[], &bad_digest);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("digest"), "{stderr}");
    let (code, _, stderr) = run_tool(
        "jot-invoke",
        &env,
        &["--function-name", "f", "--qualifier", "no:colons"],
        "",
    );
    assert_eq!(code, 5, "{stderr}");
}

#[test]
fn a_function_jot_did_not_create_is_refused_without_force() {
    aws::require_ministack();
    let name = aws::unique("foreign");
    let _cleanup = aws::Cleanup::named(&name);
    let foreign_image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/someone-else:v1";
    let (status, created) = aws::lambda(
        "POST",
        "/2015-03-31/functions",
        Some(j!({
            "FunctionName": name,
            "PackageType": "Image",
            "Code": {"ImageUri": foreign_image},
            "Role": "arn:aws:iam::123456789012:role/someone-elses-role",
        })),
    );
    assert!(
        status == 200 || status == 201,
        "CreateFunction: {status} {created}"
    );

    let descriptor = remote_descriptor(&name);
    let output = run_with_stdin(aws_env(&mut jot("jot-deploy")), descriptor.as_bytes());
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_one_line(&stderr);
    assert!(
        stderr.contains("not created by jot") && stderr.contains("--force"),
        "{stderr}"
    );
    let untouched = aws::get_function(&name, None);
    assert_eq!(untouched["Code"]["ImageUri"], foreign_image);
    assert!(untouched["Tags"].get("dev.jot.name").is_none());

    let output = run_with_stdin(
        aws_env(&mut jot("jot-deploy")).arg("--force"),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stdout)["function"]["image_digest"], DIGEST);
    let taken = aws::get_function(&name, None);
    assert!(
        taken["Code"]["ImageUri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("@{DIGEST}")),
        "{taken}"
    );
}

#[test]
fn a_role_lambda_cannot_assume_is_refused_before_any_function_changes() {
    aws::require_ministack();
    let role = aws::unique("ec2-only");
    let _role = aws::Cleanup::default().role(&role);
    let ec2_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let (status, answer) = aws::iam(&[
        ("Action", "CreateRole"),
        ("RoleName", &role),
        ("AssumeRolePolicyDocument", ec2_trust),
    ]);
    assert_eq!(status, 200, "CreateRole: {answer}");
    let name = aws::unique("role-check");
    let _cleanup = aws::Cleanup::named(&name);
    let descriptor = remote_descriptor(&name);
    for (role_arn, expected) in [
        (
            format!("arn:aws:iam::123456789012:role/{role}"),
            "cannot be assumed by Lambda",
        ),
        (
            format!("arn:aws:iam::123456789012:role/{}", aws::unique("missing")),
            "no such IAM role",
        ),
    ] {
        let output = run_with_stdin(
            aws_env(&mut jot("jot-deploy")).args(["--role", &role_arn]),
            descriptor.as_bytes(),
        );
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 5, "{stderr}");
        assert!(stdout.is_empty());
        assert_one_line(&stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
    let (status, _) = aws::lambda("GET", &format!("/2015-03-31/functions/{name}"), None);
    assert_eq!(status, 404, "no function was created");
}

#[test]
fn a_push_into_a_repository_jot_did_not_create_is_refused() {
    aws::require_ministack();
    let name = aws::unique("foreign-repo");
    let _cleanup = aws::Cleanup::named(&name);
    aws::ecr("CreateRepository", j!({"repositoryName": name}));
    // Bound to a name: a dropped Script removes its images.
    let responder = script("foreign_repo.jl", "foreign_repo(x) = x\n");
    let built = build(&responder.path, &["--name", &name]);
    let output = run_with_stdin(aws_env(&mut jot("jot-push")), built.as_bytes());
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("not created by jot"), "{stderr}");
    let images = aws::ecr("DescribeImages", j!({"repositoryName": name}));
    assert_eq!(
        images["imageDetails"],
        Value::Array(vec![]),
        "nothing was pushed"
    );
}

/// A hand-edited descriptor (another jot's image under this name, or a tree
/// hash or image its labels contradict) is refused before any AWS call:
/// exit 5, one line, and no repository or image appears in ECR.
#[test]
fn a_forged_descriptor_is_refused_and_nothing_reaches_ecr() {
    aws::require_ministack();
    let name = aws::unique("forge-src");
    let target = aws::unique("forge-dst");
    let _cleanup = (aws::Cleanup::named(&name), aws::Cleanup::named(&target));
    let responder = script("forge_src.jl", "forge_src(x) = x\n");
    let built: Value = json(&build(&responder.path, &["--name", &name]));
    let mut renamed = built.clone();
    renamed["name"] = j!(target);
    let mut rehashed = built.clone();
    rehashed["responder"]["tree_hash"] = j!("ab".repeat(32));
    let mut retagged = built.clone();
    retagged["local_image"]["image"] = j!(format!("{name}:forged"));
    for (forged, expected) in [
        (&renamed, format!("labelled dev.jot.name=\"{name}\"")),
        (&rehashed, format!("tree hash {}", "ab".repeat(32))),
        (&retagged, format!("image {name}:forged is not a name")),
    ] {
        let output = run_with_stdin(
            aws_env(&mut jot("jot-push")).args(["--registry", "127.0.0.1:4566"]),
            format!("{forged}\n").as_bytes(),
        );
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 5, "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_one_line(&stderr);
        assert!(stderr.contains(&expected), "{expected}: {stderr}");
    }
    for repository in [&name, &target] {
        let (status, body) = aws::ecr_call(
            "DescribeRepositories",
            &j!({"repositoryNames": [repository]}),
        )
        .unwrap();
        assert!(
            status == 400 && body.contains("RepositoryNotFoundException"),
            "{repository} exists in ECR after refused pushes: {status} {body}"
        );
    }
}

/// The registry's side of an interrupted push: a recording proxy in front of
/// MiniStack stops answering once the first blob is stored, jot-push is
/// killed, and the run again must not send any blob the registry already has.
#[test]
fn an_interrupted_push_is_completed_by_running_it_again() {
    aws::require_ministack();
    let name = aws::unique("interrupted");
    let _cleanup = aws::Cleanup::named(&name);
    let responder = bulky_script("interrupted", 48);
    let built = build(&responder.path, &["--name", &name]);
    let proxy = RegistryProxy::start(aws::HOST);
    proxy.hold_after_first_blob();
    let push = || {
        let mut command = jot("jot-push");
        aws_env(&mut command).env("JOT_REGISTRY", &proxy.host);
        command
    };
    let mut child = push()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jot-push");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(built.as_bytes())
        .unwrap();
    let stored = proxy.wait_for_first_blob(Duration::from_secs(300));
    let _ = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stored, "no blob reached the registry: {stderr}");
    assert!(
        !status.success() && stdout.is_empty(),
        "the killed push printed a descriptor: {stdout}"
    );
    let first = proxy.settle(Duration::from_secs(120));
    let sent_first: Vec<String> = first.iter().filter_map(|e| e.sent_blob()).collect();
    assert!(!sent_first.is_empty(), "{first:?}");
    assert!(
        !first.iter().any(|e| e.is_manifest_put()),
        "the push was not interrupted: a manifest went through {first:?}"
    );
    let tag = json(&built)["local_image"]["image"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert!(
        aws::ecr_digests(&name, &tag).is_empty(),
        "the push was not interrupted: ECR already lists {name}:{tag}"
    );
    // The registry itself (not through the proxy) holds what was sent.
    for digest in &sent_first {
        let path = format!("/v2/{name}/blobs/{digest}");
        let answer = http_request(aws::HOST, "HEAD", &path, &[], b"").unwrap();
        assert_eq!(answer.status, 200, "HEAD {path}: {}", answer.head);
    }

    // Running it again completes the push without sending those blobs again.
    let output = run_with_stdin(&mut push(), built.as_bytes());
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let second = proxy.log();
    assert!(
        second
            .iter()
            .any(|e| e.is_manifest_put() && e.status == 201),
        "{second:?}"
    );
    let sent_again: Vec<String> = second
        .iter()
        .filter_map(|e| e.sent_blob())
        .filter(|d| sent_first.contains(d))
        .collect();
    assert!(
        sent_again.is_empty(),
        "blobs the registry already held were sent again: {sent_again:?}\nfirst push: {first:?}\nsecond push: {second:?}"
    );
    let remote = json(&stdout);
    let digest = remote["remote_image"]["digest"].as_str().unwrap();
    let tag = remote["remote_image"]["tag"].as_str().unwrap();
    assert_eq!(aws::ecr_digests(&name, tag), vec![digest.to_string()]);
    let image = remote["local_image"]["image"].as_str().unwrap();
    assert!(aws::repo_digests(image).contains(&format!("{}/{name}@{digest}", proxy.host)));
}

/// An endpoint that accepts connections and never answers: the real case of
/// a hung service, unlike a port that refuses at once.
fn silent_endpoint() -> (
    std::net::TcpListener,
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepting = listener.try_clone().unwrap();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in accepting.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (listener, url, connections)
}

/// An endpoint that answers jot-invoke's state check (GetFunctionConfiguration,
/// a GET) with an Active function and holds every other request unanswered;
/// it counts the connections of those others (the Invoke calls).
fn silent_invoke_endpoint() -> (
    std::net::TcpListener,
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepting = listener.try_clone().unwrap();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in accepting.incoming().flatten() {
            let mut first = [0u8; 4];
            if stream.read_exact(&mut first).is_ok() && &first == b"GET " {
                let body = r#"{"FunctionName":"silent","State":"Active"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (listener, url, connections)
}

/// Credentials, a region, and every service at `url`.
fn endpoint_env(url: &str) -> [(&str, &str); 4] {
    [
        CREDENTIALS[0],
        CREDENTIALS[1],
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", url),
    ]
}

/// The Invoke call is bounded (`--timeout` plus 15 s of headroom) and made
/// once: an invocation that timed out may still run, so it is never sent
/// again (it would run twice).
#[test]
fn an_endpoint_that_never_answers_is_abandoned_not_waited_on_for_ever() {
    let (_listener, url, connections) = silent_invoke_endpoint();
    let env = endpoint_env(&url);
    ensure_built();
    let started = Instant::now();
    let (code, stdout, stderr) = run_tool(
        "jot-invoke",
        &env,
        &["--function-name", "silent", "--timeout", "3"],
        "",
    );
    let took = started.elapsed();
    assert_eq!(code, 8, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_one_line(&stderr);
    assert!(
        took < Duration::from_secs(30),
        "jot-invoke --timeout 3 waited {took:?} on a silent endpoint"
    );
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a timed-out invocation was sent again"
    );
}

/// Every other AWS call has a total deadline (12 s, retries included): jot-ls
/// and jot-deploy against an endpoint that accepts and never answers give up
/// within 15 s, one line per failed call. (Before, each call waited 3 × 30 s.)
#[test]
fn a_silent_endpoint_fails_every_tool_within_fifteen_seconds() {
    let (_listener, url, connections) = silent_endpoint();
    let env = endpoint_env(&url);
    ensure_built();
    let deadline = format!("{url} did not answer within 12 s");
    let started = Instant::now();
    let (code, _, stderr) = run_tool(
        "jot-ls",
        &env,
        &["--remote", "no-such-jot-*", "--color", "never"],
        "",
    );
    let took = started.elapsed();
    assert_eq!(code, 9, "{stderr}");
    assert!(took < Duration::from_secs(15), "jot-ls took {took:?}");
    for service in ["ECR", "Lambda"] {
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("jot-ls: {service}: ")))
            .collect();
        assert_eq!(lines.len(), 1, "{service}: {stderr}");
        assert!(lines[0].contains(&deadline), "{stderr}");
    }

    let started = Instant::now();
    let (code, stdout, stderr) = run_tool("jot-deploy", &env, &[], &remote_descriptor("silent"));
    let took = started.elapsed();
    assert_eq!(code, 8, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_one_line(&stderr);
    assert!(stderr.contains(&deadline), "{stderr}");
    assert!(took < Duration::from_secs(15), "jot-deploy took {took:?}");
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) > 0);
}
