//! jot-serve's settings end to end: two functions in one server, each with
//! memory, CPUs, timeout, processes and environment from its descriptor's
//! `settings` over the jot.toml beside it, read back from inside the sandbox
//! (environment and cgroup limits) and through GetFunction; flags beat
//! descriptors; and the server keys of `[serve]` (bind, port,
//! function_error_status) under their environment variables and flags.

use std::io::{BufRead, BufReader};

use jot_tests::aws::unique;
use jot_tests::serve::{Client, Serve, header};
use jot_tests::{build, json, script};

/// Reports what the sandbox was given: Lambda's variables, the user's and
/// the cgroup limits (v1 paths, else v2); sleeps `x["sleep"]` seconds first.
const REPORTER: &str = r#"readfirst(paths) = (for p in paths; isfile(p) && return strip(read(p, String)); end; "")
function settingsfun(x)
    sleep(get(x, "sleep", 0))
    Dict("memory_env" => ENV["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
         "memory_limit" => readfirst(["/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max"]),
         "cpu_quota" => readfirst(["/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max"]),
         "pids_max" => readfirst(["/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max"]),
         "greeting" => get(ENV, "GREETING", ""),
         "other" => get(ENV, "OTHER", ""))
end
"#;

fn body_of(answer: &jot_tests::serve::Answer) -> serde_json::Value {
    serde_json::from_slice(&answer.2).expect("a JSON answer")
}

fn configuration(client: &mut Client, name: &str) -> serde_json::Value {
    let (code, _, body) = client.request(
        "GET",
        &format!("/2015-03-31/functions/{name}/configuration"),
        &[],
        b"",
    );
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// The descriptor line `jot-build` printed, with `settings` added.
fn with_settings(descriptor: &str, settings: serde_json::Value) -> String {
    let mut value = json(descriptor.trim());
    value["settings"] = settings;
    format!("{value}\n")
}

#[test]
fn each_function_runs_with_its_descriptors_settings_over_its_jot_toml() {
    let source = script("settingsfun.jl", REPORTER);
    std::fs::write(
        source.dir.path().join("jot.toml"),
        "[serve]\nmemory = 512\ntimeout = 20\nenvironment = { GREETING = \"file\", OTHER = \"file\" }\n",
    )
    .unwrap();
    let small = unique("small");
    let plain = unique("plain");
    let descriptors = with_settings(
        &build(&source.path, &["--arg-type", "Any", "--name", &small]),
        serde_json::json!({"memory": 256, "timeout": 2, "cpus": 0.5, "pids_limit": 64,
                           "environment": {"GREETING": "descriptor"}}),
    ) + &with_settings(
        &build(&source.path, &["--arg-type", "Any", "--name", &plain]),
        serde_json::json!({"environment": {"OTHER": "descriptor"}}),
    );
    {
        let serve = Serve::start(&descriptors, &[]);
        let mut client = serve.client();
        let a = body_of(&client.invoke(&small, "{}"));
        assert_eq!(a["memory_env"], "256", "{a}");
        assert_eq!(a["memory_limit"], (256u64 << 20).to_string(), "{a}");
        assert_eq!(
            (&a["greeting"], &a["other"]),
            (&"descriptor".into(), &"file".into())
        );
        assert_eq!(a["pids_max"], "64", "{a}");
        // v1's quota for 0.5 CPU of a 100 ms period; v2's "50000 100000".
        assert!(a["cpu_quota"].as_str().unwrap().starts_with("50000"), "{a}");
        let b = body_of(&client.invoke(&plain, "{}"));
        assert_eq!(b["memory_env"], "512", "{b}");
        assert_eq!(b["memory_limit"], (512u64 << 20).to_string(), "{b}");
        assert_eq!(
            (&b["greeting"], &b["other"]),
            (&"file".into(), &"descriptor".into())
        );
        assert_ne!(b["pids_max"], "64", "{b}");
        // CPU in proportion to memory: 512 / 1769 of one CPU.
        let quota: f64 = b["cpu_quota"]
            .as_str()
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((quota - 512.0 / 1769.0 * 1e5).abs() < 10.0, "{b}");
        let config = configuration(&mut client, &small);
        assert_eq!(
            (
                &config["MemorySize"],
                &config["Timeout"],
                &config["Environment"]["Variables"]
            ),
            (
                &256.into(),
                &2.into(),
                &serde_json::json!({"GREETING": "descriptor", "OTHER": "file"})
            )
        );
        let config = configuration(&mut client, &plain);
        assert_eq!(
            (&config["MemorySize"], &config["Timeout"]),
            (&512.into(), &20.into())
        );
        // The timeouts differ too: 3 s is too long for the 2 s function only.
        let late = client.invoke(&small, r#"{"sleep": 3}"#);
        assert_eq!(header(&late, "x-amz-function-error"), Some("Unhandled"));
        assert!(
            String::from_utf8_lossy(&late.2).contains("Task timed out after 2.00 seconds"),
            "{}",
            String::from_utf8_lossy(&late.2)
        );
        let fine = client.invoke(&plain, r#"{"sleep": 3}"#);
        assert_eq!(header(&fine, "x-amz-function-error"), None);
    }
    // Flags beat the descriptor (and the file) for every function.
    let serve = Serve::start(
        &descriptors,
        &["--memory", "1024", "--env", "GREETING=flag"],
    );
    let mut client = serve.client();
    for name in [&small, &plain] {
        let body = body_of(&client.invoke(name, "{}"));
        assert_eq!(
            (&body["memory_env"], &body["greeting"]),
            (&"1024".into(), &"flag".into()),
            "{name}: {body}"
        );
    }
}

/// Starts jot-serve with `descriptors`, `args` and `env` (and no `JOT_SERVE_*`
/// of the caller's): the server and its endpoint, or its exit code and stderr.
fn start_in(
    descriptors: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(std::process::Child, String), (Option<i32>, String)> {
    let mut child = jot_tests::spawn_with_stdin(
        jot_tests::jot("jot-serve")
            .args(args)
            .env_remove("JOT_SERVE_BIND")
            .env_remove("JOT_SERVE_PORT")
            .env_remove("JOT_SERVE_FUNCTION_ERROR_STATUS")
            .envs(env.iter().copied()),
        descriptors.as_bytes(),
    );
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.starts_with("http://") {
        return Ok((child, line.trim().to_string()));
    }
    let output = child.wait_with_output().unwrap();
    Err((
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

fn stop(mut child: std::process::Child) {
    jot_tests::serve::signal_process(child.id(), "TERM");
    let _ = child.wait();
}

#[test]
fn the_serve_sections_bind_port_and_error_status_sit_under_environment_and_flags() {
    let source = script(
        "statusfun.jl",
        "statusfun(x) = get(x, \"fail\", false) ? error(\"boom\") : \"fine\"\n",
    );
    std::fs::write(
        source.dir.path().join("jot.toml"),
        "[serve]\nbind = \"127.0.0.2\"\nport = 0\nfunction_error_status = 500\n",
    )
    .unwrap();
    let name = unique("status");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let error_status = |endpoint: &str| {
        let mut client = Client::connect(endpoint.trim_start_matches("http://"));
        client.invoke(&name, r#"{"fail": true}"#).0
    };
    // The file alone: its address, a free port (not the default 9001), its status.
    let (child, endpoint) = start_in(&descriptor, &[], &[]).unwrap();
    assert!(endpoint.starts_with("http://127.0.0.2:"), "{endpoint}");
    assert!(!endpoint.ends_with(":9001"), "{endpoint}");
    assert_eq!(error_status(&endpoint), 500);
    stop(child);
    // The environment beats the file; a flag beats the environment.
    let (child, endpoint) = start_in(
        &descriptor,
        &["--bind", "127.0.0.1"],
        &[
            ("JOT_SERVE_BIND", "127.0.0.3"),
            ("JOT_SERVE_FUNCTION_ERROR_STATUS", "502"),
        ],
    )
    .unwrap();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    assert_eq!(error_status(&endpoint), 502);
    stop(child);
    let (child, endpoint) =
        start_in(&descriptor, &["--function-error-status", "200"], &[]).unwrap();
    assert_eq!(error_status(&endpoint), 200);
    stop(child);
    // A bad file value: one line naming file, line and key; exit 5.
    std::fs::write(
        source.dir.path().join("jot.toml"),
        "[serve]\nport = 0\nfunction_error_status = 700\n",
    )
    .unwrap();
    let (code, stderr) = start_in(&descriptor, &[], &[]).unwrap_err();
    assert_eq!(code, Some(5), "{stderr}");
    assert!(
        stderr.contains("jot.toml:3: function_error_status"),
        "{stderr}"
    );
}
