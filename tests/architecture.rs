//! --architecture from build to deploy: jot-build refuses a base image of
//! another instruction set and records the image's; jot-deploy refuses a
//! function architecture that differs from the image's, before any AWS call.

use jot_tests::aws::{self, aws_env};
use jot_tests::{jot, outcome, run, run_with_stdin, script};

#[test]
fn build_refuses_a_base_image_of_another_architecture() {
    let s = script("arch_check.jl", "arch_check(x) = x\n");
    let (code, stdout, stderr) = outcome(&run(jot("jot-build")
        .arg(&s.path)
        .args(["--architecture", "arm64"])));
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--architecture arm64") && stderr.contains("x86_64"),
        "{stderr}"
    );
}

#[test]
fn deploy_refuses_a_mismatch_before_calling_aws() {
    let s = script("arch_check.jl", "arch_check(x) = x\n");
    let descriptor = serde_json::json!({
        "jot": 1, "kind": "remote_image", "name": "arch-check",
        "responder": {"source": s.path, "kind": "script", "function": "arch_check", "arg_type": "Any", "tree_hash": "ab".repeat(32)},
        "local_image": {"image": "arch-check:abc", "id": "sha256:00", "architecture": "x86_64"},
        "remote_image": {"repository_uri": "127.0.0.1:4566/arch-check", "tag": "abc", "digest": format!("sha256:{}", "0".repeat(64))},
    })
    .to_string();
    // An endpoint nothing listens on: the refusal must come before any call.
    let mut deploy = jot("jot-deploy");
    deploy
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1");
    for args in [&["--architecture", "arm64"][..], &[]] {
        if args.is_empty() {
            std::fs::write(s.dir.path().join("jot.toml"), "architecture = \"arm64\"\n").unwrap();
        }
        let output = run_with_stdin(deploy.args(args), descriptor.as_bytes());
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 5, "{stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("built for x86_64") && stderr.contains("arm64"),
            "{stderr}"
        );
    }
}

/// A remote_image descriptor whose image jot-build recorded as `arch`; no
/// image behind it (MiniStack's Lambda does not pull).
fn remote_of(name: &str, arch: &str, digit: char) -> String {
    serde_json::json!({
        "jot": 1, "kind": "remote_image", "name": name,
        "responder": {"source": "/src/f.jl", "kind": "script", "function": "f", "arg_type": "Any", "tree_hash": "00"},
        "local_image": {"image": format!("{name}:t{digit}"), "id": "sha256:00", "architecture": arch},
        "remote_image": {
            "repository_uri": format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"),
            "tag": format!("t{digit}"), "digest": format!("sha256:{}", digit.to_string().repeat(64))
        }
    })
    .to_string()
}

/// The function's architectures and image, as Lambda holds them.
fn function_state(name: &str) -> (serde_json::Value, serde_json::Value) {
    let function = aws::get_function(name, None);
    (
        function["Configuration"]["Architectures"].clone(),
        function["Code"]["ImageUri"].clone(),
    )
}

#[test]
fn deploy_refuses_an_image_of_another_architecture_than_the_existing_functions() {
    aws::require_ministack();
    let name = aws::unique("arch-fn");
    let _cleanup = aws::Cleanup::named(&name);
    let deploy = |descriptor: &str, args: &[&str]| {
        outcome(&run_with_stdin(
            aws_env(&mut jot("jot-deploy")).args(args),
            descriptor.as_bytes(),
        ))
    };
    // An arm64 image makes an arm64 function.
    let (code, _, stderr) = deploy(&remote_of(&name, "arm64", 'a'), &[]);
    assert_eq!(code, 0, "{stderr}");
    let arm = function_state(&name);
    assert_eq!(arm.0, serde_json::json!(["arm64"]), "{arm:?}");
    let versions = aws::published_versions(&name);

    // An x86_64 image on it, with no --architecture: one line, exit 5, the
    // function untouched (same architecture, same image, no new version).
    let (code, stdout, stderr) = deploy(&remote_of(&name, "x86_64", 'b'), &[]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr,
        format!(
            "jot-deploy: error: {name}: the function runs arm64 but the image is built for x86_64; pass --architecture x86_64 to switch the function, or rebuild for arm64"
        )
    );
    assert_eq!(
        function_state(&name),
        arm,
        "the refused deploy changed the function"
    );
    assert_eq!(aws::published_versions(&name), versions);

    // --architecture x86_64 switches it.
    let (code, _, stderr) = deploy(
        &remote_of(&name, "x86_64", 'b'),
        &["--architecture", "x86_64"],
    );
    assert_eq!(code, 0, "{stderr}");
    let switched = function_state(&name);
    assert_eq!(switched.0, serde_json::json!(["x86_64"]), "{switched:?}");
    assert!(
        switched.1.as_str().unwrap().ends_with(&"b".repeat(64)),
        "{switched:?}"
    );
}
