//! jot-serve hardened (issue 25), as a careless user and an attacker see it:
//! the Event queue holds at most `--event-queue` Events (the rest get 429,
//! memory stays flat); at SIGTERM every accepted Event either ran to its end
//! or is in the dead-letter file (counted in the exit message), and no
//! sandbox is left behind.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jot_tests::aws::unique;
use jot_tests::serve::{Client, Serve, containers_of, eventually};
use jot_tests::{build, script};

/// Sleeps `x["sleep"]` seconds, then (given an `id`) reports it to the
/// test's listener on `REPORT_PORT`: the Events that ran to their end.
const EVFUN: &str = "using Sockets\nfunction evfun(x)\n    sleep(get(x, \"sleep\", 0))\n    id = get(x, \"id\", nothing)\n    if id !== nothing\n        s = connect(ip\"127.0.0.1\", parse(Int, ENV[\"REPORT_PORT\"]))\n        write(s, string(id, \"\\n\"))\n        close(s)\n    end\n    \"done\"\nend\n";

fn evfun() -> (jot_tests::Script, String, String) {
    let source = script("evfun.jl", EVFUN);
    let name = unique("hard");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    (source, name, descriptor)
}

fn event(client: &mut Client, name: &str, payload: &[u8]) -> u16 {
    let (code, _, body) = client.request(
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        &[("X-Amz-Invocation-Type", "Event")],
        payload,
    );
    if code == 429 {
        assert!(
            String::from_utf8_lossy(&body).contains("Rate Exceeded"),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    code
}

fn function_status(serve: &Serve) -> serde_json::Value {
    serve.status()["functions"][0].clone()
}

#[test]
fn events_beyond_the_queue_get_429_while_the_sandbox_is_busy_and_memory_stays_flat() {
    let (_source, name, descriptor) = evfun();
    let mut serve = Serve::start(
        &descriptor,
        &[
            "--max-concurrency",
            "1",
            "--min-instances",
            "1",
            "--event-queue",
            "5",
        ],
    );
    let busy = {
        let (addr, name) = (serve.addr.clone(), name.clone());
        std::thread::spawn(move || Client::connect(&addr).invoke(&name, r#"{"sleep": 12}"#))
    };
    serve.wait_busy(1);
    let rss_before = serve.rss_kb();
    // 100 Events of 200 KB each: 20 MB if they were all held.
    let payload = format!(r#"{{"pad": "{}"}}"#, "x".repeat(200 * 1024));
    let mut client = serve.client();
    let codes: Vec<u16> = (0..100)
        .map(|_| event(&mut client, &name, payload.as_bytes()))
        .collect();
    let accepted = codes.iter().filter(|c| **c == 202).count();
    let throttled = codes.iter().filter(|c| **c == 429).count();
    assert_eq!(
        (accepted, throttled),
        (5, 95),
        "codes: {codes:?}; status {}",
        serve.status()
    );
    assert_eq!(
        function_status(&serve)["event_queue"],
        serde_json::json!({"depth": 5, "capacity": 5})
    );
    let grown_kb = serve.rss_kb().saturating_sub(rss_before);
    eprintln!("jot-serve's RSS grew {grown_kb} KB over 100 Events of 200 KB");
    assert!(
        grown_kb < 8 * 1024,
        "jot-serve grew {grown_kb} KB holding 5 Events of 200 KB"
    );
    // Lambda's async payload limit: 256 KB.
    let too_large = format!(r#"{{"pad": "{}"}}"#, "x".repeat(256 * 1024));
    assert_eq!(event(&mut client, &name, too_large.as_bytes()), 413);
    assert_eq!(busy.join().unwrap().0, 200);
    // The 5 accepted Events run once the sandbox is free.
    assert!(
        eventually(Duration::from_secs(60), || {
            let status = function_status(&serve);
            status["invocations"] == 6 && status["event_queue"]["depth"] == 0
        }),
        "{}",
        serve.status()
    );
    assert_eq!(serve.stop("TERM"), 143);
    assert!(serve.containers().is_empty(), "{:?}", serve.containers());
}

/// Collects the ids the function reports, until `done` is set.
fn report_listener(done: Arc<AtomicBool>) -> (u16, std::thread::JoinHandle<Vec<u64>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let collector = std::thread::spawn(move || {
        let mut ids = Vec::new();
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    let mut line = String::new();
                    BufReader::new(stream).read_line(&mut line).unwrap();
                    ids.push(line.trim().parse().expect("an id"));
                }
                Err(_) if done.load(Ordering::SeqCst) => return ids,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (port, collector)
}

#[test]
fn sigterm_with_hundreds_of_events_waiting_runs_or_records_every_one_and_leaves_no_sandbox() {
    let (source, name, descriptor) = evfun();
    let done = Arc::new(AtomicBool::new(false));
    let (port, collector) = report_listener(done.clone());
    let state = source.dir.path().join("state");
    let log = source.dir.path().join("serve.log");
    let report = format!("REPORT_PORT={port}");
    let mut serve = Serve::start_with(
        &descriptor,
        &[
            "--max-concurrency",
            "2",
            "--min-instances",
            "2",
            "--timeout",
            "3",
            "--event-queue",
            "400",
            "--env",
            &report,
        ],
        &[("XDG_STATE_HOME", state.to_str().unwrap())],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    let mut client = serve.client();
    let accepted: BTreeSet<u64> = (0..400u64)
        .filter(|id| {
            let payload = format!(r#"{{"id": {id}, "sleep": 0.5}}"#);
            event(&mut client, &name, payload.as_bytes()) == 202
        })
        .collect();
    assert_eq!(accepted.len(), 400);
    assert!(
        eventually(
            Duration::from_secs(60),
            || function_status(&serve)["invocations"].as_u64().unwrap_or(0) >= 4
        ),
        "{}",
        serve.status()
    );
    let pid = serve.pid();
    assert_eq!(serve.stop("TERM"), 143);
    done.store(true, Ordering::SeqCst);
    let ran: Vec<u64> = collector.join().unwrap();
    let stderr = std::fs::read_to_string(&log).unwrap();
    let message = stderr
        .lines()
        .find(|l| l.contains("were written to"))
        .unwrap_or_else(|| panic!("no count of recorded Events in:\n{stderr}"));
    let (count, path) = message
        .split_once(" Event invocation(s) not run to the end were written to ")
        .unwrap_or_else(|| panic!("{message}"));
    let count: usize = count.rsplit(' ').next().unwrap().parse().unwrap();
    let path = path.split(';').next().unwrap().trim();
    assert!(
        path.starts_with(state.to_str().unwrap()),
        "{path} is under XDG_STATE_HOME"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{path}");
    let records: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let recorded: Vec<u64> = records
        .iter()
        .map(|r| r["requestPayload"]["id"].as_u64().unwrap())
        .collect();
    for record in &records {
        let condition = record["requestContext"]["condition"].as_str().unwrap();
        assert!(
            [
                "ShutdownBeforeInvocation",
                "ShutdownBeforeRetry",
                "RetriesExhausted"
            ]
            .contains(&condition),
            "{record}"
        );
    }
    let ran_set: BTreeSet<u64> = ran.iter().copied().collect();
    let recorded_set: BTreeSet<u64> = recorded.iter().copied().collect();
    assert_eq!(ran.len(), ran_set.len(), "an Event ran twice: {ran:?}");
    assert_eq!(
        recorded.len(),
        recorded_set.len(),
        "an Event recorded twice"
    );
    assert!(
        ran_set.is_disjoint(&recorded_set),
        "ran and recorded: {:?}",
        ran_set.intersection(&recorded_set).collect::<Vec<_>>()
    );
    let all: BTreeSet<u64> = ran_set.union(&recorded_set).copied().collect();
    assert_eq!(
        all,
        accepted,
        "{} ran, {} recorded, {} accepted",
        ran.len(),
        recorded.len(),
        accepted.len()
    );
    assert_eq!(count, recorded.len(), "{message}");
    eprintln!(
        "census: {} accepted, {} ran to their end, {} recorded",
        accepted.len(),
        ran.len(),
        recorded.len()
    );
    assert!(
        containers_of(pid).is_empty(),
        "left: {:?}",
        containers_of(pid)
    );
}

/// Calls jot-serve from inside its sandbox (host network, raw HTTP/1.1 to
/// `AWS_ENDPOINT_URL_LAMBDA`): the control plane unsigned, and Invoke of
/// another function; returns the statuses and the sandbox's credentials.
const PROBER: &str = r#"using Sockets
function request(method, path, body)
    hostport = replace(ENV["AWS_ENDPOINT_URL_LAMBDA"], "http://" => "")
    host, port = split(hostport, ":")
    s = connect(String(host), parse(Int, port))
    write(s, string(method, " ", path, " HTTP/1.1\r\nHost: ", hostport, "\r\nContent-Length: ", sizeof(body), "\r\nConnection: close\r\n\r\n", body))
    answer = read(s, String)
    close(s)
    head, text = split(answer, "\r\n\r\n"; limit = 2)
    (parse(Int, split(head, " ")[2]), text)
end
function prober(x)
    other = x["other"]
    f = "/2015-03-31/functions"
    invoked = request("POST", "$f/$other/invocations", "{}")
    Dict("list" => request("GET", "$f/", "")[1],
         "get" => request("GET", "$f/$other", "")[1],
         "publish" => request("POST", "$f/$other/versions", "{}")[1],
         "invoke" => invoked[1], "invoked" => invoked[2],
         "key" => ENV["AWS_ACCESS_KEY_ID"], "secret" => ENV["AWS_SECRET_ACCESS_KEY"])
end
"#;

const SECRET: &str = "hunter2-db-password";

#[test]
fn a_function_can_invoke_another_but_neither_read_nor_change_the_control_plane() {
    let prober = script("prober.jl", PROBER);
    let target = script("target.jl", "target(x) = \"target ran\"\n");
    let prober_name = unique("probe");
    let target_name = unique("target");
    let descriptors = [
        build(&prober.path, &["--arg-type", "Any", "--name", &prober_name]),
        build(&target.path, &["--arg-type", "Any", "--name", &target_name]),
    ]
    .map(|d| d.trim().to_string())
    .join("\n");
    let env = format!("DB_PASSWORD={SECRET}");
    let mut serve = Serve::start(&descriptors, &["--env", &env]);
    let (code, _, body) = serve
        .client()
        .invoke(&prober_name, &format!(r#"{{"other": "{target_name}"}}"#));
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let inside: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (&inside["list"], &inside["get"], &inside["publish"]),
        (
            &serde_json::json!(403),
            &serde_json::json!(403),
            &serde_json::json!(403)
        ),
        "from inside the sandbox: {inside}"
    );
    assert_eq!(inside["invoke"], 200, "{inside}");
    assert_eq!(inside["invoked"], "\"target ran\"");

    // Signed with the sandbox's own credentials: Invoke only.
    let sandbox = jot_tests::serve::Credentials {
        access_key_id: inside["key"].as_str().unwrap().to_string(),
        secret_access_key: jot_run::auth::Secret::new(inside["secret"].as_str().unwrap()),
    };
    assert_ne!(sandbox.access_key_id, serve.credentials.access_key_id);
    let functions = "/2015-03-31/functions";
    let control = [
        ("GET", format!("{functions}/")),
        ("GET", format!("{functions}/{target_name}")),
        ("GET", format!("{functions}/{target_name}/configuration")),
        ("POST", format!("{functions}/{target_name}/versions")),
        ("POST", format!("{functions}/{target_name}/aliases")),
        ("GET", format!("{functions}/{target_name}/aliases")),
    ];
    for client in [
        Client::connect(&serve.addr).signing(sandbox.clone()),
        Client::connect(&serve.addr),
    ] {
        let mut client = client;
        for (method, path) in &control {
            let (code, headers, body) = client.request(
                method,
                path,
                &[],
                br#"{"Name": "live", "FunctionVersion": "1"}"#,
            );
            let text = String::from_utf8_lossy(&body);
            assert_eq!(code, 403, "{method} {path}: {text}");
            assert!(
                headers.contains(&("x-amzn-errortype".into(), "AccessDeniedException".into())),
                "{headers:?}"
            );
            assert!(!text.contains(SECRET), "{text}");
        }
        assert_eq!(client.invoke(&target_name, "{}").0, 200);
    }
    let signed = Client::connect(&serve.addr)
        .signing(sandbox)
        .invoke(&target_name, "{}");
    assert_eq!(
        String::from_utf8_lossy(&signed.2),
        "\"target ran\"",
        "the sandbox's credentials invoke"
    );
    // A user key with a wrong secret: refused as AWS refuses it.
    let forged = jot_tests::serve::Credentials {
        access_key_id: serve.credentials.access_key_id.clone(),
        secret_access_key: jot_run::auth::Secret::new("guessed"),
    };
    let (code, headers, _) = Client::connect(&serve.addr).signing(forged).request(
        "GET",
        &format!("{functions}/"),
        &[],
        b"",
    );
    assert_eq!(code, 403);
    assert!(headers.contains(&(
        "x-amzn-errortype".into(),
        "InvalidSignatureException".into()
    )));
    // The user sees everything, the environment too; no version was published.
    let mut user = serve.client();
    let (code, _, body) = user.request("GET", &format!("{functions}/"), &[], b"");
    assert_eq!(code, 200);
    assert!(String::from_utf8_lossy(&body).contains(SECRET));
    let (_, _, versions) = user.request(
        "GET",
        &format!("{functions}/{target_name}/versions"),
        &[],
        b"",
    );
    let versions: serde_json::Value = serde_json::from_slice(&versions).unwrap();
    assert_eq!(
        versions["Versions"].as_array().unwrap().len(),
        2,
        "{versions}"
    );
    // The status endpoint is open and shows no environment value.
    let (code, _, status) = Client::connect(&serve.addr).request("GET", "/_jot/status", &[], b"");
    assert_eq!(code, 200);
    assert!(!String::from_utf8_lossy(&status).contains(SECRET));
    assert_eq!(serve.stop("TERM"), 143);
    assert!(serve.containers().is_empty());
}

#[test]
fn requests_for_another_host_or_from_a_web_page_are_refused() {
    let (_source, name, descriptor) = evfun();
    let mut serve = Serve::start(&descriptor, &[]);
    let invoke = format!("/2015-03-31/functions/{name}/invocations");
    let port = serve.addr.rsplit(':').next().unwrap().to_string();
    let ask = |request: String| {
        jot_tests::serve::raw_exchange(&serve.addr, &request, Duration::from_secs(30))
            .unwrap_or_default()
    };
    for (path, headers) in [
        ("/_jot/status", format!("Host: evil.example:{port}\r\n")),
        ("/_jot/status", "Host: evil.example\r\n".to_string()),
        (invoke.as_str(), format!("Host: evil.example:{port}\r\n")),
        (
            invoke.as_str(),
            format!("Host: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\n"),
        ),
        ("/_jot/status", String::new()),
    ] {
        let method = if path == "/_jot/status" {
            "GET"
        } else {
            "POST"
        };
        let got = ask(format!(
            "{method} {path} HTTP/1.1\r\n{headers}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        ));
        assert!(got.starts_with("HTTP/1.1 403"), "{path} {headers:?}: {got}");
        assert!(got.contains("AccessDeniedException"), "{got}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let got = ask(format!(
            "POST {invoke} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        ));
        assert!(got.starts_with("HTTP/1.1 200"), "{host}: {got}");
    }
    assert_eq!(serve.stop("TERM"), 143);
}

#[test]
fn half_sent_requests_are_closed_after_the_header_timeout_while_others_are_served() {
    use std::io::{Read, Write};
    let (_source, name, descriptor) = evfun();
    let mut serve = Serve::start(&descriptor, &["--min-instances", "1"]);
    let started = std::time::Instant::now();
    let mut half_sent: Vec<std::net::TcpStream> = (0..200)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&serve.addr).unwrap();
            // A request head that never ends.
            write!(
                stream,
                "POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\nHost: {}\r\n",
                serve.addr
            )
            .unwrap();
            stream
        })
        .collect();
    // Meanwhile another client is answered at once.
    let mut client = serve.client();
    for _ in 0..5 {
        assert_eq!(client.invoke(&name, "{}").0, 200);
    }
    assert!(started.elapsed() < Duration::from_secs(8));
    for stream in &mut half_sent {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        // EOF (or a reset): jot-serve closed it; a read timeout fails the test.
        if let Err(e) = stream.read_to_end(&mut rest) {
            assert_ne!(
                e.kind(),
                std::io::ErrorKind::WouldBlock,
                "still open after {:?}",
                started.elapsed()
            );
            assert_ne!(e.kind(), std::io::ErrorKind::TimedOut);
        }
    }
    let closed_after = started.elapsed();
    assert!(
        closed_after >= Duration::from_secs(9) && closed_after < Duration::from_secs(25),
        "closed after {closed_after:?} (the header timeout is 10 s)"
    );
    eprintln!("200 half-sent requests closed after {closed_after:?}");
    assert_eq!(serve.client().invoke(&name, "{}").0, 200);
    assert_eq!(serve.stop("TERM"), 143);
}

#[test]
fn a_function_url_event_over_6_mb_from_a_smaller_body_is_413() {
    let (_source, name, descriptor) = evfun();
    let mut serve = Serve::start(&descriptor, &[]);
    // 5 MB of bytes that are not UTF-8: base64 in the event makes it 6.7 MB.
    let body: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 7) as u8 | 0x80).collect();
    let (code, _, answer) =
        serve
            .client()
            .request("POST", &format!("/lambda-url/{name}/upload"), &[], &body);
    assert_eq!(code, 413, "{}", String::from_utf8_lossy(&answer));
    assert!(
        String::from_utf8_lossy(&answer).contains("Lambda takes at most"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let small = serve
        .client()
        .request("POST", &format!("/lambda-url/{name}/upload"), &[], b"{}");
    assert_eq!(small.0, 200, "{}", String::from_utf8_lossy(&small.2));
    assert_eq!(serve.stop("TERM"), 143);
}

#[test]
fn a_busy_port_and_a_short_webhook_secret_are_one_line_each_not_an_internal_error() {
    let (_source, _name, descriptor) = evfun();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = jot_tests::run_with_stdin(
        jot_tests::jot("jot-serve").args(["--port", &port]),
        descriptor.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port}")) && stderr.contains("in use"),
        "{stderr}"
    );
    let output = jot_tests::run_with_stdin(
        jot_tests::jot("jot-serve")
            .args(["--port", "0"])
            .env("JOT_WEBHOOK_SECRET", "x"),
        descriptor.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at least 16"), "{stderr}");
    assert!(output.stdout.is_empty());
}
