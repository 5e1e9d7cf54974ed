//! --architecture from build to deploy: jot-build refuses a base image of
//! another instruction set and records the image's; jot-deploy refuses a
//! function architecture that differs from the image's, before any AWS call.

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
