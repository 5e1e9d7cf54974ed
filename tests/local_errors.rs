//! Bad input and failing functions, end to end: each gets a clear one-line
//! error and its documented exit code, and nothing half-done.

use jot_tests::*;

const BAD_INPUT: i32 = 5;
const FUNCTION_ERROR: i32 = 3;

fn invoke(descriptor: &str, args: &[&str]) -> (i32, String, String) {
    outcome(&run_with_stdin(
        jot("jot-invoke").args(args),
        descriptor.as_bytes(),
    ))
}

#[test]
fn a_missing_file_is_refused_before_building() {
    let (code, stdout, stderr) = outcome(&run(jot("jot-build").arg("/nonexistent/f.jl")));
    assert_eq!(code, BAD_INPUT, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("/nonexistent/f.jl") && stderr.contains("cannot read it"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_function_that_is_not_defined_is_refused() {
    let undefined = script("handler.jl", "other(x) = x\n");
    let (code, _, stderr) = outcome(&run(jot("jot-build").arg(&undefined.path)));
    assert_eq!(code, BAD_INPUT);
    assert!(
        stderr.contains("function `handler` is not defined") && stderr.contains("--function"),
        "{stderr}"
    );
    // Mentioned but never defined: the runtime reports an init error at once.
    let mentioned = script("handler.jl", "# handler is planned\nother(x) = x\n");
    let descriptor = build(&mentioned.path, &[]);
    let (code, stdout, stderr) = invoke(&descriptor, &["--timeout", "60"]);
    assert_eq!(code, FUNCTION_ERROR, "{stderr}");
    let error = json(&stdout);
    assert_eq!(error["errorType"], "Runtime.HandlerNotFound", "{error}");
    assert!(
        error["errorMessage"].as_str().unwrap().contains(
            "function handler is not defined in /var/task/handler.jl; pass --function NAME"
        ),
        "{error}"
    );
}

/// Containers of jot-build's parse (label `dev.jot.parse.owner`) owned by the
/// process `pid`.
fn parse_containers_of(pid: u32) -> Vec<String> {
    let listed = run(std::process::Command::new("docker").args([
        "ps",
        "-a",
        "--filter",
        "label=dev.jot.parse.owner",
        "--format",
        "{{.ID}} {{.Label \"dev.jot.parse.owner\"}}",
    ]));
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|line| line.contains(&format!("/{pid}/")))
        .map(str::to_string)
        .collect()
}

/// Builds `path` and returns (exit code, stdout, stderr, containers of the
/// build's parse left behind).
fn build_outcome(path: &std::path::Path) -> (i32, String, String, Vec<String>) {
    let child = jot("jot-build")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (code, stdout, stderr) = outcome(&child.wait_with_output().unwrap());
    (code, stdout, stderr, parse_containers_of(pid))
}

#[test]
fn a_syntax_error_fails_the_build_with_its_file_and_line() {
    // A stray of a parse whose jot-build died (a pid that runs no process).
    let stray = run(std::process::Command::new("docker").args([
        "create",
        "--label",
        "dev.jot.parse.owner=gone/999999999/1",
        &base_image(),
        "true",
    ]));
    let stray = String::from_utf8_lossy(&stray.stdout).trim().to_string();
    assert!(!stray.is_empty(), "the stray was not created");

    let broken = script("broken.jl", "broken(x) = (x +\nfunction end end\n");
    let (code, stdout, stderr, left) = build_outcome(&broken.path);
    assert_eq!(code, BAD_INPUT, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "jot-build: error: {}:2: syntax: unexpected \"end\"",
            broken.path.display()
        ),
        "one line with the file and line"
    );
    assert!(left.is_empty(), "parse containers left: {left:?}");
    assert!(
        jot_images_from(&broken.dir.path().to_string_lossy()).is_empty(),
        "nothing is built from code that does not parse"
    );
    let gone = run(std::process::Command::new("docker").args(["inspect", &stray]));
    assert!(
        !gone.status.success(),
        "the dead parse's container {stray} is still there"
    );

    // In a package: the file under src/ and the line where the unclosed
    // `function` begins.
    let dir = workdir();
    let _built = BuiltUnder(dir.path().to_path_buf());
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Project.toml"),
        "name = \"Sums\"\nuuid = \"0b8c5e4a-54e1-4c2f-9d3e-6a1f0b2c7d11\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/Sums.jl"),
        "module Sums\ninclude(\"add.jl\")\nsums(x) = add(x, 1)\nend\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/add.jl"),
        "# adds\n\nfunction add(a, b)\n    a + b\n\nhalf(x) = x / 2\n",
    )
    .unwrap();
    let (code, stdout, stderr, left) = build_outcome(dir.path());
    assert_eq!(code, BAD_INPUT, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let file = dir.path().join("src/add.jl");
    // (After the note on the image name the package's name gives.)
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("error"))
            .collect::<Vec<_>>(),
        [format!(
            "jot-build: error: {}:3: syntax: incomplete: \"function\" requires end",
            file.display()
        )]
    );
    assert!(left.is_empty(), "parse containers left: {left:?}");
}

#[test]
fn argument_types_that_do_not_parse_or_exist() {
    let script = script("echo_back.jl", "echo_back(x) = x\n");
    for bad in ["Vector{Int", "Int; run(`ls`)", ""] {
        let (code, stdout, stderr) = outcome(&run(jot("jot-build")
            .arg(&script.path)
            .args(["--arg-type", bad])));
        assert_eq!(code, BAD_INPUT, "{bad:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("does not parse as a Julia type"),
            "{stderr}"
        );
    }
    let descriptor = build(&script.path, &["--arg-type", "Vector{NoSuchType}"]);
    let (code, stdout, _) = invoke(&descriptor, &["--payload", "[1]"]);
    assert_eq!(code, FUNCTION_ERROR);
    assert_eq!(
        json(&stdout)["errorType"],
        "Runtime.InvalidArgumentType",
        "{stdout}"
    );
    assert!(
        json(&stdout)["errorMessage"]
            .as_str()
            .unwrap()
            .contains("NoSuchType"),
        "{stdout}"
    );
}

#[test]
fn payloads_that_are_not_json_or_do_not_convert() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let descriptor = build(&script.path, &["--arg-type", "Vector{Int}"]);
    let (code, _, stderr) = invoke(&descriptor, &["--payload", "[1, 2"]);
    assert_eq!(code, BAD_INPUT);
    assert!(stderr.contains("--payload is not valid JSON"), "{stderr}");
    // A payload of the wrong shape is a function error with a useful message,
    // and the same sandbox goes on serving the next payload.
    let (code, stdout, stderr) = invoke(
        &descriptor,
        &["--payload", r#"["a"]"#, "--payload", "[1]", "--json"],
    );
    assert_eq!(code, FUNCTION_ERROR, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let error = json(lines[0]);
    assert_eq!(error["errorType"], "Runtime.ConversionError", "{error}");
    // Julia before 1.6 prints Vector{Int64} as Array{Int64,1}.
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        ["Array{Int64,1}", "Vector{Int64}"].iter().any(|t| message
            == format!(
                "cannot convert the event [\"a\"] to {t}: at [1]: expected Int64, got string \"a\""
            )),
        "{message}"
    );
    assert_eq!(lines[1], "[2]");
    let report = json(stderr.lines().find(|l| l.starts_with('{')).unwrap());
    assert_eq!(
        report["warm"]["count"], 1,
        "the second payload ran warm: {report}"
    );
}

#[test]
fn a_responder_that_throws() {
    let code =
        "checked_sqrt(x::Float64) = x < 0 ? throw(DomainError(x, \"no real root\")) : sqrt(x)\n";
    let script = script("checked_sqrt.jl", code);
    let descriptor = build(&script.path, &["--arg-type", "Float64"]);
    let (code, stdout, stderr) = invoke(&descriptor, &["--payload", "-4", "--payload", "16"]);
    assert_eq!(code, FUNCTION_ERROR, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let error = json(lines[0]);
    assert_eq!(error["errorType"], "DomainError");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no real root"),
        "{error}"
    );
    let frames = error["stackTrace"].to_string();
    assert!(
        frames.contains("checked_sqrt"),
        "the user's frame is in the trace: {frames}"
    );
    assert_eq!(json(lines[1]), serde_json::json!(4.0));
}

#[test]
fn a_responder_that_never_returns_times_out_and_the_next_call_gets_a_new_sandbox() {
    let code = "slow(x::Int) = x == 0 ? (while true; sleep(1); end) : x + 1\n";
    let script = script("slow.jl", code);
    let descriptor = build(&script.path, &["--arg-type", "Int"]);
    let (code, stdout, stderr) = invoke(
        &descriptor,
        &["--timeout", "8", "--payload", "0", "--payload", "1"],
    );
    assert_eq!(code, FUNCTION_ERROR, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let error = json(lines[0]);
    assert_eq!(error["errorType"], "Sandbox.Timedout");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Task timed out after 8.00 seconds"),
        "{error}"
    );
    assert_eq!(lines[1], "2");
}

#[test]
fn docker_not_running_says_how_to_start_it() {
    let script = script("echo_back.jl", "echo_back(x) = x\n");
    let output = run(jot("jot-build")
        .arg(&script.path)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 6, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("cannot reach the Docker engine at unix:///nonexistent/docker.sock"),
        "{stderr}"
    );
    assert!(stderr.contains("start it"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn descriptor_lines_that_are_not_json_or_lack_fields() {
    let (code, stdout, stderr) = invoke("{\"jot\": 1, \"kind\": \"local_image\"\n", &[]);
    assert_eq!(code, BAD_INPUT);
    assert!(stdout.is_empty());
    assert!(stderr.contains("stdin line 1: not valid JSON"), "{stderr}");
    let (code, _, stderr) = invoke(
        "\n{\"jot\": 1, \"kind\": \"local_image\", \"name\": \"f\"}\n",
        &[],
    );
    assert_eq!(code, BAD_INPUT);
    assert!(
        stderr.contains("stdin line 2") && stderr.contains("missing field `responder`"),
        "{stderr}"
    );
    for tool in ["jot-invoke", "jot-serve", "jot-push", "jot-deploy"] {
        let output = run_with_stdin(&mut jot(tool), b"\n");
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, BAD_INPUT, "{tool}: {stderr}");
        assert!(
            stderr.contains(&format!("did the tool before {tool} fail?")),
            "{stderr}"
        );
    }
}

#[test]
fn payloads_over_six_megabytes() {
    let script = script(
        "count_bytes.jl",
        "count_bytes(s::String) = length(s)\nbig(n::Int) = repeat(\"x\", n)\n",
    );
    let descriptor = build(&script.path, &["--arg-type", "String"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    std::fs::write(&file, format!("\"{}\"", "x".repeat(6 * 1024 * 1024))).unwrap();
    let (code, _, stderr) = invoke(&descriptor, &["--payload-file", file.to_str().unwrap()]);
    assert_eq!(code, BAD_INPUT);
    assert!(stderr.contains("at most 6291456 bytes"), "{stderr}");
    // A response over the limit is a function error, and the sandbox goes on.
    let descriptor = build(&script.path, &["--function", "big", "--arg-type", "Int"]);
    let (code, stdout, stderr) = invoke(&descriptor, &["--payload", "7000000", "--payload", "3"]);
    assert_eq!(code, FUNCTION_ERROR, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        json(lines[0])["errorType"],
        "Function.ResponseSizeTooLarge",
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "\"xxx\"");
}

/// An endless payload file is read to Lambda's limit and one byte, no
/// further: exit 5 at once, in little memory. (Before, jot-invoke read
/// `/dev/zero` until it ran out of memory; the child's address space is
/// capped at 1 GiB here so that a regression fails fast instead.)
#[test]
// The child is reaped by wait4 below, which clippy does not see.
#[allow(clippy::zombie_processes)]
fn an_endless_payload_file_is_refused_at_the_limit_in_bounded_memory() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    ensure_built();
    let mut command = jot("jot-invoke");
    command.args(["--image", "never-run:t", "--payload-file", "/dev/zero"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs before exec.
    unsafe {
        command.pre_exec(|| {
            let cap = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &cap) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let started = std::time::Instant::now();
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn jot-invoke");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // wait4 rather than Child::wait: it also returns the child's peak memory.
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    // SAFETY: pid is our own unwaited child; the pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let took = started.elapsed();
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status),
        "jot-invoke did not exit (status {status:#x}): {stderr}"
    );
    assert_eq!(libc::WEXITSTATUS(status), BAD_INPUT, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("--payload-file /dev/zero") && stderr.contains("at most 6291456 bytes"),
        "{stderr}"
    );
    // Issue 25: "exits 5 within 1 s" (0.05 s measured).
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    // ru_maxrss is in KiB: the 6 MiB read and the program itself.
    let peak_mib = usage.ru_maxrss / 1024;
    assert!(peak_mib < 64, "jot-invoke peaked at {peak_mib} MiB");
}

#[test]
fn build_test_payload_gates_the_descriptor() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let passing = build(
        &script.path,
        &[
            "--arg-type",
            "Vector{Int}",
            "--test-payload",
            "[1]",
            "--expect",
            "[2]",
        ],
    );
    assert_eq!(json(passing.trim())["kind"], "local_image");
    let output = run(jot("jot-build").arg(&script.path).args([
        "--arg-type",
        "Vector{Int}",
        "--test-payload",
        "[1]",
        "--expect",
        "[5]",
    ]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stdout.is_empty(),
        "no descriptor for a failing image: {stdout}"
    );
    assert!(stderr.contains("failed its test run"), "{stderr}");
}

#[test]
fn a_missing_base_image_is_not_pulled_by_surprise() {
    let script = script("echo_back.jl", "echo_back(x) = x\n");
    let output = run(jot("jot-build")
        .arg(&script.path)
        .env("JOT_BASE_IMAGE", "jot/no-such-base:0"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 7, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("jot/no-such-base:0 is not in the local engine")
            && stderr.contains("--pull"),
        "{stderr}"
    );
}

#[test]
fn an_interrupted_invoke_removes_its_sandbox() {
    let name = format!("interrupted-sleeper-{}", std::process::id());
    let label = format!("label=dev.jot.name={name}");
    let containers = || {
        let output = std::process::Command::new("docker")
            .args(["ps", "-aq", "--filter", &label])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    let script = script(
        "sleeper.jl",
        "sleeper(x) = (println(\"sleeping now\"); flush(stdout); sleep(120); x)\n",
    );
    let descriptor = build(&script.path, &["--name", &name]);
    let child = spawn_with_stdin(
        jot("jot-invoke").args(["--timeout", "300"]),
        descriptor.as_bytes(),
    );
    ensure_built();
    let started = std::time::Instant::now();
    // Wait for the event, not a while: the function says it has started.
    let logs = |id: &str| {
        let output = std::process::Command::new("docker")
            .args(["logs", id])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    loop {
        let id = containers();
        if !id.is_empty() && logs(&id).contains("sleeping now") {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the invocation never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let (code, _, stderr) = outcome(&output);
    assert_eq!(
        code, 143,
        "SIGTERM is 128 + 15, after cleaning up: {stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(containers(), "", "the sandbox was removed");
}
