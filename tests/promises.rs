//! Promises of the documentation that no other test exercised, each proved
//! from the outside: from inside the sandbox (cgroup files) or from the
//! server's side (a proxy counting calls in flight).

use jot_tests::aws::{self, aws_env};
use jot_tests::registry_proxy::RegistryProxy;
use jot_tests::serve::Serve;
use jot_tests::*;

/// The CPU quota of the sandbox's cgroup at init (the script's top level) and
/// at the invocation: v1's `cpu.cfs_quota_us`, else v2's `cpu.max`.
const CPU_REPORTER: &str = r#"cpuquota() = (for p in ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max"]; isfile(p) && return strip(read(p, String)); end; "none")
const AT_INIT = cpuquota()
cpureport(x) = Dict("init" => AT_INIT, "invocation" => cpuquota())
"#;

/// docs/reference.md, jot-serve: "`--cpus` … in force from the first event:
/// init runs without the limit, as Lambda gives init a CPU burst".
#[test]
fn cpus_are_in_force_from_the_first_event_and_init_runs_without_the_limit() {
    let source = script("cpureport.jl", CPU_REPORTER);
    let name = aws::unique("cpus");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(&descriptor, &["--cpus", "0.5"]);
    let mut client = serve.client();
    let answer = client.invoke(&name, "{}");
    assert_eq!(answer.0, 200, "{}", String::from_utf8_lossy(&answer.2));
    let report: serde_json::Value = serde_json::from_slice(&answer.2).unwrap();
    let init = report["init"].as_str().unwrap();
    let invocation = report["invocation"].as_str().unwrap();
    // Unlimited is -1 on cgroup v1, "max 100000" on v2.
    assert!(
        init == "-1" || init.starts_with("max"),
        "init ran under a CPU limit: {report}"
    );
    // 0.5 CPU of a 100 ms period: 50000 (v1), "50000 100000" (v2).
    assert!(
        invocation.starts_with("50000"),
        "the invocation ran without --cpus 0.5: {report}"
    );
}

/// A jot as jot-push and jot-deploy tag it: an ECR repository with one image
/// and a function pinned to it, both with jot's tags.
fn make_jot(name: &str) {
    let tags = serde_json::json!({
        "dev.jot.name": name, "dev.jot.function": "f", "dev.jot.tree-hash": "00",
        "dev.jot.responder-kind": "script", "org.opencontainers.image.source": "/promises/f.jl"
    });
    let ecr_tags: Vec<_> = tags
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| serde_json::json!({"Key": k, "Value": v}))
        .collect();
    let repository = aws::ecr(
        "CreateRepository",
        serde_json::json!({"repositoryName": name, "tags": ecr_tags}),
    );
    let manifest = serde_json::json!({"schemaVersion": 2, "config": {"digest": format!("sha256:{:064x}", 7)}, "name": name}).to_string();
    let put = aws::ecr(
        "PutImage",
        serde_json::json!({"repositoryName": name, "imageManifest": manifest, "imageTag": "t1"}),
    );
    let digest = put["image"]["imageId"]["imageDigest"].as_str().unwrap();
    let uri = repository["repository"]["repositoryUri"].as_str().unwrap();
    let (status, answer) = aws::lambda(
        "POST",
        "/2015-03-31/functions",
        Some(serde_json::json!({
            "FunctionName": name, "PackageType": "Image",
            "Code": {"ImageUri": format!("{uri}@{digest}")},
            "Role": "arn:aws:iam::123456789012:role/promises", "Tags": tags
        })),
    );
    assert_eq!(status, 201, "CreateFunction {name}: {answer}");
}

/// README/docs/reference.md, jot-ls: "AWS calls run at most `--concurrency`
/// (16) at a time". Counted at a proxy in front of MiniStack: the bound is
/// reached and never passed, and a larger bound lets more through.
#[test]
fn jot_ls_keeps_at_most_its_concurrency_of_aws_calls_in_flight() {
    aws::require_ministack();
    let base = aws::unique("lsconc");
    let names: Vec<String> = (0..12).map(|i| format!("{base}-{i}")).collect();
    let _cleanups: Vec<_> = names.iter().map(|n| aws::Cleanup::named(n)).collect();
    for name in &names {
        make_jot(name);
    }
    let glob = format!("{base}-*");
    let mut peaks = Vec::new();
    for concurrency in ["2", "6"] {
        let proxy = RegistryProxy::start(aws::HOST);
        let output = run(aws_env(&mut jot("jot-ls"))
            .env("AWS_ENDPOINT_URL", format!("http://{}", proxy.host))
            .args(["--remote", "--json", "--concurrency", concurrency, &glob]));
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "jot-ls --concurrency {concurrency}: {stderr}");
        assert_eq!(stdout.lines().count(), names.len(), "{stdout}");
        assert!(
            proxy.log().len() > names.len() * 2,
            "only {} calls reached the proxy",
            proxy.log().len()
        );
        peaks.push(proxy.peak_in_flight());
    }
    assert_eq!(
        peaks[0], 2,
        "--concurrency 2 must keep exactly 2 calls in flight at its peak: {peaks:?}"
    );
    assert!(
        peaks[1] > 2 && peaks[1] <= 6,
        "--concurrency 6 let {} calls in flight at once",
        peaks[1]
    );
}
