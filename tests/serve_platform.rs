//! jot-serve's platform settings end to end: the webhook rebuilds only on a
//! correctly signed push; --min-instances starts provisioned sandboxes
//! (initialised before the first request, told they are provisioned) and
//! --idle-timeout stops the extra ones; a sandbox out of memory is reported
//! as Lambda does, Runtime.OutOfMemory.

use std::process::Command;
use std::time::Duration;

use jot_tests::aws::unique;
use jot_tests::serve::{Client, Serve, eventually, header};
use jot_tests::{build, script};

/// GitHub's X-Hub-Signature-256 of `body` under `secret` (computed by Python's hmac).
fn github_signature(secret: &str, body: &str) -> String {
    let output = Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys; print('sha256=' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
            secret,
            body,
        ])
        .output()
        .expect("python3");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn body_of(answer: &jot_tests::serve::Answer) -> serde_json::Value {
    serde_json::from_slice(&answer.2).expect("a JSON answer")
}

#[test]
fn the_webhook_rebuilds_on_a_signed_push_and_refuses_anything_else() {
    let source = script("hookfun.jl", "hookfun(x) = \"v1\"\n");
    let name = unique("hook");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    // The webhook's rebuild prints no descriptor to this test: its image is
    // found by name and source folder, after jot-serve has stopped.
    let _rebuilt = jot_tests::LocalImagesOf {
        name: name.clone(),
        dir: source.dir.path().to_path_buf(),
    };
    let secret = "a-shared-secret-of-32-bytes-long";
    let serve = Serve::start_with_env(
        &descriptor,
        &[],
        &[
            ("JOT_WEBHOOK_SECRET", secret),
            ("JOT_BASE_IMAGE", &jot_tests::base_image()),
        ],
    );
    let mut client = serve.client();
    std::fs::write(&source.path, "hookfun(x) = \"v2\"\n").unwrap();
    let push = r#"{"ref":"refs/heads/main"}"#;
    let hook = format!("/_jot/hooks/{name}");
    let wrong = github_signature("another-secret", push);
    for headers in [vec![], vec![("X-Hub-Signature-256", wrong.as_str())]] {
        let (code, _, body) = client.request("POST", &hook, &headers, push.as_bytes());
        assert_eq!(code, 401, "{}", String::from_utf8_lossy(&body));
    }
    assert_eq!(serve.status()["functions"][0]["latest"], 1);
    assert_eq!(body_of(&client.invoke(&name, "{}")), "v1");

    let signature = github_signature(secret, push);
    let delivery = [
        ("X-Hub-Signature-256", signature.as_str()),
        ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ];
    let (code, _, body) = client.request("POST", &hook, &delivery, push.as_bytes());
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["Version"], "2");
    assert_eq!(body_of(&client.invoke(&name, "{}")), "v2");
    // The same delivery again (a replay): answered, ignored.
    std::fs::write(&source.path, "hookfun(x) = \"v3\"\n").unwrap();
    let (code, _, body) = client.request("POST", &hook, &delivery, push.as_bytes());
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(body_of(&(code, vec![], body))["Ignored"], true);
    assert_eq!(serve.status()["functions"][0]["latest"], 2);
    assert_eq!(body_of(&client.invoke(&name, "{}")), "v2");
}

#[test]
fn provisioned_sandboxes_start_first_and_idle_extras_stop() {
    let code = "const STARTED = time()\nfunction provfun(x)\n    sleep(get(x, \"slow\", 0))\n    Dict(\"type\" => ENV[\"AWS_LAMBDA_INITIALIZATION_TYPE\"], \"version\" => ENV[\"AWS_LAMBDA_FUNCTION_VERSION\"], \"started\" => STARTED)\nend\n";
    let source = script("provfun.jl", code);
    let name = unique("prov");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(
        &descriptor,
        &[
            "--min-instances",
            "2",
            "--max-concurrency",
            "3",
            "--idle-timeout",
            "1",
        ],
    );
    // Before any request: two initialised sandboxes, nothing starting.
    let status = serve.status();
    let instances = &status["functions"][0]["versions"][0]["instances"];
    assert_eq!(instances["idle"], 2, "{status}");
    assert_eq!(instances["starting"], 0, "{status}");
    assert_eq!(serve.containers().len(), 2);
    // Sandboxes share the host's clock: init is over before the request is sent.
    let sent = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let answer = serve.client().invoke(&name, "{}");
    let body = body_of(&answer);
    assert_eq!(body["type"], "provisioned-concurrency", "{body}");
    assert_eq!(body["version"], "$LATEST", "{body}");
    assert!(
        body["started"].as_f64().unwrap() < sent,
        "init ran before the first request, off its path: {body}, sent at {sent}"
    );
    assert!(
        header(&answer, "x-amz-log-result").is_none(),
        "no tail unless asked"
    );

    // Three at once: one on-demand sandbox more, stopped again once idle.
    let slow: Vec<_> = (0..3)
        .map(|_| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            std::thread::spawn(move || Client::connect(&addr).invoke(&name, "{\"slow\": 1.5}"))
        })
        .collect();
    let types: Vec<String> = slow
        .into_iter()
        .map(|t| {
            body_of(&t.join().unwrap())["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(types.contains(&"on-demand".to_string()), "{types:?}");
    assert_eq!(serve.containers().len(), 3);
    assert!(
        eventually(Duration::from_secs(15), || serve.containers().len() == 2),
        "the idle on-demand sandbox was not stopped: {}",
        serve.status()
    );
}

#[test]
fn a_sandbox_out_of_memory_is_reported_as_runtime_out_of_memory() {
    let code = "function oomfun(x)\n    get(x, \"oom\", false) || return \"fine\"\n    a = Vector{UInt8}[]\n    while true\n        push!(a, ones(UInt8, 32 * 1024 * 1024))\n    end\nend\n";
    let source = script("oomfun.jl", code);
    let name = unique("oom");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(&descriptor, &["--memory", "256"]);
    let mut client = serve.client();
    assert_eq!(body_of(&client.invoke(&name, "{}")), "fine");
    let before = running_sandboxes(&serve);
    assert_eq!(before.len(), 1, "one warm sandbox: {before:?}");
    let answer = client.invoke(&name, "{\"oom\": true}");
    assert_eq!(answer.0, 200);
    assert_eq!(header(&answer, "x-amz-function-error"), Some("Unhandled"));
    let body = body_of(&answer);
    assert_eq!(body["errorType"], "Runtime.OutOfMemory", "{body}");
    // The next request gets a fresh sandbox: the killed one is not reused.
    assert_eq!(body_of(&client.invoke(&name, "{}")), "fine");
    let after = running_sandboxes(&serve);
    assert_eq!(after.len(), 1, "one warm sandbox: {after:?}");
    assert_ne!(
        before, after,
        "the sandbox killed out of memory served again"
    );
}

/// The ids of this server's sandboxes that are running now.
fn running_sandboxes(serve: &Serve) -> Vec<String> {
    let output = std::process::Command::new("docker")
        .args(["ps", "-q", "--no-trunc", "--filter", "status=running"])
        .args(["--filter", "label=dev.jot.serve.owner"])
        .output()
        .expect("docker ps");
    let running = String::from_utf8_lossy(&output.stdout).into_owned();
    let mine = serve.containers();
    running
        .lines()
        .filter(|id| mine.iter().any(|m| id.starts_with(m.as_str())))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_function_url_turns_plain_http_into_a_payload_v2_event_and_back() {
    let code = "function urlfun(x)\n    x[\"rawPath\"] == \"/boom\" && error(\"secret detail\")\n    x[\"rawPath\"] == \"/teapot\" || return Dict(\"path\" => x[\"rawPath\"], \"version\" => x[\"version\"], \"base64\" => x[\"isBase64Encoded\"])\n    http = x[\"requestContext\"][\"http\"]\n    Dict(\"statusCode\" => 418, \"headers\" => Dict(\"x-made-by\" => \"julia\"), \"body\" => string(http[\"method\"], \" \", http[\"path\"], \" \", x[\"rawQueryString\"], \" \", x[\"body\"], \" \", x[\"headers\"][\"x-custom\"]))\nend\n";
    let source = script("urlfun.jl", code);
    let name = unique("url");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(&descriptor, &[]);
    let addr = serve.host();
    let got = jot_tests::serve::raw_exchange(
        addr,
        &format!(
            "POST /lambda-url/{name}/teapot?a=1&b=two HTTP/1.1\r\nHost: {addr}\r\nX-Custom: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
        ),
        Duration::from_secs(60),
    )
    .expect("an answer");
    assert!(got.starts_with("HTTP/1.1 418"), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("x-made-by: julia"),
        "{got}"
    );
    assert!(got.ends_with("POST /teapot a=1&b=two hello yes"), "{got}");

    let bare = jot_tests::serve::raw_exchange(
        addr,
        &format!("GET /lambda-url/{name}/some/where HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
        Duration::from_secs(60),
    )
    .expect("an answer");
    assert!(bare.starts_with("HTTP/1.1 200"), "{bare}");
    let json = bare.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(json).unwrap(),
        serde_json::json!({"path": "/some/where", "version": "2.0", "base64": false})
    );

    // A function error is a 502 whose body says nothing of the error (README).
    let failed = jot_tests::serve::raw_exchange(
        addr,
        &format!(
            "GET /lambda-url/{name}/boom HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        ),
        Duration::from_secs(60),
    )
    .expect("an answer");
    assert!(failed.starts_with("HTTP/1.1 502 "), "{failed}");
    assert_eq!(
        failed.split("\r\n\r\n").nth(1),
        Some(r#"{"Message":"Internal Server Error"}"#),
        "{failed}"
    );
}

#[test]
fn a_second_ctrl_c_during_shutdown_stops_at_once_and_leaves_nothing() {
    let source = script("slowfun.jl", "slowfun(x) = (sleep(25); x)\n");
    let name = unique("ctrlc");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let mut serve = Serve::start(&descriptor, &["--timeout", "60"]);
    let caller = {
        let (addr, name) = (serve.addr.clone(), name.clone());
        std::thread::spawn(move || {
            let mut client = Client::connect(&addr);
            client.send(
                "POST",
                &format!("/2015-03-31/functions/{name}/invocations"),
                &[],
                b"1",
            );
            client.receive().map(|a| {
                (
                    a.0,
                    header(&a, "x-amz-function-error").map(str::to_string),
                    String::from_utf8_lossy(&a.2).into_owned(),
                )
            })
        })
    };
    // The invocation is in its sandbox (not only accepted) when the signal comes.
    serve.wait_busy(1);
    let pid = serve.pid();
    jot_tests::serve::signal_process(pid, "INT");
    // The first Ctrl-C is taken once the server stops accepting connections;
    // it then waits for the invocation (25 s of sleep) with its sandbox.
    assert!(
        eventually(Duration::from_secs(10), || std::net::TcpStream::connect(
            &serve.addr
        )
        .is_err()),
        "the first Ctrl-C was not taken"
    );
    assert_eq!(serve.containers().len(), 1, "the invocation's sandbox");
    assert!(
        matches!(serve.child.try_wait(), Ok(None)),
        "the first Ctrl-C waits for the invocation"
    );
    let started = std::time::Instant::now();
    assert_eq!(serve.stop("INT"), 130);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        jot_tests::serve::containers_of(pid).is_empty(),
        "a sandbox was left"
    );
    // The cut request gets a function error, an error status (its sandbox is
    // gone and no new one starts during shutdown) or a closed connection,
    // never a success.
    if let Ok((status, function_error, body)) = caller.join().unwrap() {
        assert!(
            function_error.as_deref() == Some("Unhandled") || status >= 500,
            "the cut request was answered {status} ({function_error:?}): {body}"
        );
    }
}

#[test]
fn an_event_waiting_to_retry_at_shutdown_is_recorded_in_the_dead_letter_file() {
    let source = script("failfun.jl", "failfun(x) = error(\"boom\")\n");
    let name = unique("retry");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let dead_letter = source.dir.path().join("dead-letter.ndjson");
    let mut serve = Serve::start(
        &descriptor,
        &[
            "--event-retry-delay",
            "30000",
            "--dead-letter",
            dead_letter.to_str().unwrap(),
        ],
    );
    let (code, _, _) = serve.client().request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("X-Amz-Invocation-Type", "Event")],
        b"{\"n\": 7}",
    );
    assert_eq!(code, 202);
    assert!(eventually(Duration::from_secs(60), || {
        serve.status()["functions"][0]["errors"] == 1
    }));
    let started = std::time::Instant::now();
    assert_eq!(serve.stop("TERM"), 143);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "shutdown waited out the retry"
    );
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&dead_letter)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let context = &records[0]["requestContext"];
    assert_eq!(context["condition"], "ShutdownBeforeRetry", "{records:?}");
    assert_eq!(context["approximateInvokeCount"], 1);
    assert_eq!(records[0]["requestPayload"], serde_json::json!({"n": 7}));
}

#[test]
fn a_functions_serve_section_sets_its_memory_timeout_and_environment() {
    let code = "cfgfun(x) = Dict(\"memory\" => ENV[\"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\"], \"greeting\" => ENV[\"GREETING\"], \"other\" => get(ENV, \"OTHER\", \"\"))\n";
    let source = script("cfgfun.jl", code);
    std::fs::write(
        source.dir.path().join("jot.toml"),
        "[serve]\nmemory = 256\ntimeout = 7\nenvironment = { GREETING = \"from the file\", OTHER = \"file\" }\n",
    )
    .unwrap();
    let name = unique("cfg");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    {
        let serve = Serve::start(&descriptor, &["--env", "OTHER=flag"]);
        let mut client = serve.client();
        let body = body_of(&client.invoke(&name, "{}"));
        assert_eq!(
            body,
            serde_json::json!({"memory": "256", "greeting": "from the file", "other": "flag"})
        );
        let (_, _, config) = client.request(
            "GET",
            &format!("/2015-03-31/functions/{name}/configuration"),
            &[],
            b"",
        );
        let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(
            (config["MemorySize"].as_u64(), config["Timeout"].as_u64()),
            (Some(256), Some(7))
        );
    }
    // A flag wins over the file.
    let serve = Serve::start(&descriptor, &["--memory", "512"]);
    assert_eq!(
        body_of(&serve.client().invoke(&name, "{}"))["memory"],
        "512"
    );
    drop(serve);
    // A bad value in the file: one line naming file, line and key; exit 5.
    std::fs::write(source.dir.path().join("jot.toml"), "[serve]\nmemory = 1\n").unwrap();
    let output = jot_tests::run_with_stdin(
        jot_tests::jot("jot-serve").args(["--port", "0"]),
        descriptor.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("jot.toml:2: memory"), "{stderr}");
    assert!(output.stdout.is_empty());
}
