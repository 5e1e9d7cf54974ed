//! Cold starts: the warm-up call and the build's self-test happen in init, not
//! in the first request; SnapStart's lifecycle (hooks, restore/next,
//! restore/error) through the local emulator; the cold-start split and
//! Lambda's REPORT line. Real Docker, real Julia.

use bytes::Bytes;
use jot_emulator::{InstanceConfig, LocalFunction, Outcome};
use jot_tests::*;

const SNAP: &str = r#"
const STATE = String[]
register_before_snapshot(() -> (push!(STATE, "before"); println(stderr, "hook: before")))
register_after_restore() do
    get(ENV, "FAIL_RESTORE", "") == "1" && error("the database is unreachable")
    push!(STATE, "after")
    println(stderr, "hook: after")
end
snap_state(x) = vcat(STATE, string(x))
"#;

fn error_of(outcome: &Outcome) -> (String, serde_json::Value) {
    match outcome {
        Outcome::FunctionError { error_type, body } => {
            (error_type.clone(), json(std::str::from_utf8(body).unwrap()))
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn snapstart_runs_hooks_around_restore_next_and_reports_restore_duration() {
    let (_script, image) = image_of("snap_state.jl", SNAP, &[]);
    let docker = jot_docker::connect().await.unwrap();
    let mut config = InstanceConfig::new(&image, "snap-state");
    config.initialization_type = "snap-start".into();
    let mut function = LocalFunction::new(&docker, config);
    let first = function.invoke(Bytes::from_static(b"1")).await.unwrap();
    let cold = function.first_cold_start().cloned();
    let logs = function.shutdown_with_logs().await;
    assert_eq!(
        first.outcome,
        Outcome::Response(Bytes::from_static(br#"["before","after","1"]"#)),
        "{logs}"
    );
    let at = |needle: &str| {
        logs.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the logs:\n{logs}"))
    };
    assert!(at("hook: before") < at("[jot] restored from a snapshot"));
    assert!(at("[jot] restored from a snapshot") < at("hook: after"));
    let cold = cold.expect("a cold-start split");
    let phases: Vec<&str> = cold.phases.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        phases,
        [
            "container_create_start",
            "julia_start",
            "runtime_load",
            "responder_load",
            "warm_up",
            "snapshot_restore",
            "first_response"
        ]
    );
    assert!(cold.restore.is_some());
    let report = logs
        .lines()
        .find(|l| l.starts_with("REPORT RequestId: "))
        .expect("a REPORT line");
    assert!(report.contains("\tRestore Duration: "), "{report}");

    // On demand the same image never takes a snapshot: no hooks run.
    let mut function = LocalFunction::new(&docker, InstanceConfig::new(&image, "snap-state"));
    let plain = function.invoke(Bytes::from_static(b"2")).await.unwrap();
    let logs = function.shutdown_with_logs().await;
    assert_eq!(
        plain.outcome,
        Outcome::Response(Bytes::from_static(br#"["2"]"#))
    );
    assert!(logs.contains("\tInit Duration: "), "{logs}");
}

#[tokio::test]
async fn a_failing_after_restore_hook_is_a_restore_error() {
    let (_script, image) = image_of("snap_state.jl", SNAP, &[]);
    let docker = jot_docker::connect().await.unwrap();
    let mut config = InstanceConfig::new(&image, "snap-state");
    config.initialization_type = "snap-start".into();
    config.environment = vec![("FAIL_RESTORE".into(), "1".into())];
    let mut function = LocalFunction::new(&docker, config);
    let failed = function.invoke(Bytes::from_static(b"1")).await.unwrap();
    function.shutdown().await;
    let (error_type, body) = error_of(&failed.outcome);
    assert_eq!(error_type, "Runtime.AfterRestoreError", "{body}");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("after-restore hook #1")
            && message.contains("the database is unreachable"),
        "{message}"
    );
}

#[test]
fn the_warm_up_compiles_the_responder_in_init_not_in_the_first_request() {
    let payload = r#"[{"region":"x","amount":3}]"#;
    let (_warm_script, warmed) = image_of(
        "summarise_sales.jl",
        SUMMARY,
        &[
            "--arg-type",
            "Vector{Sale}",
            "--warmup-payload",
            payload,
            "--warmup-always",
        ],
    );
    let (after_init, report) = traced_first_request(&warmed);
    assert!(
        !after_init.contains("summarise_sales") && !after_init.contains("Sale"),
        "the first request compiled the responder's methods:\n{after_init}"
    );
    let split = &report["cold_start"];
    for phase in [
        "container_create_start_ms",
        "julia_start_ms",
        "runtime_load_ms",
        "responder_load_ms",
        "warm_up_ms",
        "first_response_ms",
    ] {
        assert!(split[phase].as_f64().is_some(), "{phase} in {report}");
    }
    assert!(split["warm_up_ms"].as_f64().unwrap() > 0.0, "{report}");

    // The same responder without the warm-up compiles them in the first request.
    let (_cold_script, cold) = image_of(
        "summarise_sales.jl",
        SUMMARY,
        &["--arg-type", "Vector{Sale}"],
    );
    let (after_init, _) = traced_first_request(&cold);
    assert!(
        after_init.contains("summarise_sales"),
        "no trace of the responder in the cold request:\n{after_init}"
    );
}

#[test]
fn a_failing_warm_up_is_an_init_error_with_a_clear_message() {
    let (_script, image) = image_of(
        "summarise_sales.jl",
        SUMMARY,
        &[
            "--arg-type",
            "Vector{Sale}",
            "--warmup-payload",
            r#""not sales""#,
            "--warmup-always",
        ],
    );
    let output = run(jot("jot-invoke").args(["--local", "--image", &image, "--payload", "[]"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 3, "{stderr}");
    let error = json(&stdout);
    assert_eq!(error["errorType"], "Runtime.WarmupError", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("the warm-up call with --warmup-payload \"not sales\" failed: "),
        "{error}"
    );
    // Bad JSON never reaches an image.
    let script = script("echo_back.jl", "echo_back(x) = x\n");
    let (code, _, stderr) = outcome(&run(jot("jot-build")
        .arg(&script.path)
        .args(["--warmup-payload", "{oops"])));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("--warmup-payload is not valid JSON"),
        "{stderr}"
    );
}

#[test]
fn the_build_time_self_test_fails_a_build_whose_caches_would_be_rebuilt_at_run_time() {
    // The script makes a package at load time and loads it: Julia precompiles
    // it into the writable depot, as it would at every cold start on Lambda.
    let code = r#"
dir = mktempdir()
mkpath(joinpath(dir, "Helper", "src"))
write(joinpath(dir, "Helper", "src", "Helper.jl"), "module Helper\nhelp(x) = x + 1\nend\n")
push!(LOAD_PATH, dir)
using Helper
helped(x::Int) = Helper.help(x)
"#;
    let script = script("helped.jl", code);
    let output = run(jot("jot-build").arg(&script.path).args([
        "--arg-type",
        "Int",
        "--test-payload",
        "1",
        "--expect",
        "2",
    ]));
    let (code, stdout, stderr) = outcome(&output);
    assert_ne!(code, 0, "the build passed:\n{stderr}");
    assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
    assert!(
        stderr.contains("Runtime.SelfTestFailed")
            && stderr.contains("would be precompiled again at every cold start"),
        "{stderr}"
    );
    // Without a test event, the self-test of every test build (a load) fails it too.
    let (code, stdout, stderr) = outcome(&run(jot("jot-build").arg(&script.path).args([
        "--arg-type",
        "Int",
        "--self-test",
    ])));
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
    assert!(stderr.contains("Runtime.SelfTestFailed"), "{stderr}");
    // The same image runs fine without the self-test: it is the test that
    // catches the rebuilt cache.
    let output = run(jot("jot-build")
        .arg(&script.path)
        .args(["--arg-type", "Int"])
        .env("JOT_BUILD_SELF_TEST", "0"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plain = String::from_utf8_lossy(&output.stdout).into_owned();
    let image = json(plain.trim())["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, stdout, stderr) = outcome(&run(jot("jot-invoke").args([
        "--local",
        "--image",
        &image,
        "--payload",
        "1",
    ])));
    assert_eq!((code, stdout.as_str()), (0, "2"), "{stderr}");
}

/// `--warmup-payload` makes the runtime call the function with that event
/// in init (docs/reference.md); the trace test above cannot tell, since the
/// warm-up without a payload precompiles the same methods. The function
/// prints each event it gets: the warm-up's comes before the init line, the
/// request's after it, and no other.
#[test]
fn the_warm_up_calls_the_function_with_its_payload_during_init() {
    let code = "function warm_probe(x::Int)\n    println(\"warm_probe called with \", x)\n    x + 1\nend\n";
    let (_script, image) = image_of(
        "warm_probe.jl",
        code,
        &[
            "--arg-type",
            "Int",
            "--warmup-payload",
            "7",
            "--warmup-always",
        ],
    );
    let output =
        run(jot("jot-invoke").args(["--local", "--image", &image, "--payload", "1", "--logs"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!((code, stdout.as_str()), (0, "2"), "{stderr}");
    let (init, after) = stderr
        .split_once("[jot] init: ")
        .unwrap_or_else(|| panic!("no init line:\n{stderr}"));
    let calls = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.contains("warm_probe called with "))
            .map(|l| l.trim().to_string())
            .collect()
    };
    assert_eq!(calls(init), ["warm_probe called with 7"], "{stderr}");
    assert_eq!(calls(after), ["warm_probe called with 1"], "{stderr}");
}

/// The seconds an init took, from jot-build's one error line.
fn init_seconds(stderr: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("jot-build: error: "))
        .unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    assert!(
        line.contains(" s, over Lambda's 10 s init budget; "),
        "{line}"
    );
    line.split("init took ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap_or_else(|| panic!("no time in: {line}"))
}

#[test]
fn an_init_over_lambdas_ten_second_budget_fails_the_self_test_with_the_time_it_took() {
    // On Lambda this init is cut off at 10 s and run again in the first request.
    let slow = script("slow_init.jl", "sleep(11)\nslow_init(x) = x\n");
    let build = |args: &[&str]| outcome(&run(jot("jot-build").arg(&slow.path).args(args)));
    let (code, stdout, stderr) = build(&["--test-payload", "1", "--expect", "1"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
    let took = init_seconds(&stderr);
    assert!((11.0..60.0).contains(&took), "{took}: {stderr}");
    // Without a test event: the load self-test.
    let (code, stdout, stderr) = build(&["--self-test"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
    let took = init_seconds(&stderr);
    assert!((11.0..60.0).contains(&took), "{took}: {stderr}");
    // Within the budget the same code passes.
    let quick = script("quick_init.jl", "sleep(2)\nquick_init(x) = x\n");
    let (code, stdout, stderr) = outcome(&run(jot("jot-build").arg(&quick.path).args([
        "--self-test",
        "--test-payload",
        "1",
        "--expect",
        "1",
    ])));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"local_image\""), "{stdout}");
    // The slow image itself is built (and so owned, and removed, by the test)
    // when the self-test is off.
    let output = run(jot("jot-build")
        .arg(&slow.path)
        .env("JOT_BUILD_SELF_TEST", "0"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
