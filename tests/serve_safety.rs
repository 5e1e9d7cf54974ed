//! jot-serve as an attacker and an impatient crowd see it: a sandbox's Runtime
//! API cannot be hijacked, clients that disconnect leak nothing, overload is
//! answered with 429 and never loses or duplicates a request, a killed
//! sandbox fails only its own request, SIGTERM finishes what is in flight,
//! and a SIGKILLed server's sandboxes are removed by the next one.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jot_tests::aws::unique;
use jot_tests::serve::{
    Serve, busy_at, containers_of, eventually, header, listening_ports, raw_exchange,
};
use jot_tests::{build, script};

/// A descriptor for `code` (a script defining `name`) under a unique function name.
fn function(file: &str, code: &str, arg_type: &str) -> (jot_tests::Script, String, String) {
    let script = script(file, code);
    let name = unique("serve");
    let descriptor = build(&script.path, &["--arg-type", arg_type, "--name", &name]);
    (script, name, descriptor)
}

#[test]
fn a_process_that_finds_a_sandbox_port_can_neither_take_nor_answer_its_events() {
    let (_s, name, descriptor) = function("probe.jl", "probe(x) = (sleep(1.5); x)\n", "Any");
    let serve = Serve::start(&descriptor, &["--min-instances", "1"]);
    let main_port: u16 = serve.addr.rsplit(':').next().unwrap().parse().unwrap();
    let sandbox_ports: Vec<u16> = listening_ports(serve.pid())
        .into_iter()
        .filter(|p| *p != main_port)
        .collect();
    assert!(
        !sandbox_ports.is_empty(),
        "the sandbox's Runtime API port was found"
    );
    let secret = "\"the caller's secret payload\"";
    let victim = {
        let addr = serve.addr.clone();
        let name = name.clone();
        std::thread::spawn(move || jot_tests::serve::Client::connect(&addr).invoke(&name, secret))
    };
    serve.wait_busy(1);
    for port in &sandbox_ports {
        let addr = format!("127.0.0.1:{port}");
        for path in [
            "/2018-06-01/runtime/invocation/next",
            "/.rt/2018-06-01/runtime/invocation/next",
            "//2018-06-01/runtime/invocation/next",
        ] {
            let got = raw_exchange(
                &addr,
                &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
                Duration::from_secs(3),
            )
            .unwrap_or_default();
            assert!(
                got.starts_with("HTTP/1.1 404"),
                "GET {path} on {addr}: {got:?}"
            );
            assert!(!got.contains("secret payload"), "{got}");
        }
        let forged = "\"forged\"";
        let got = raw_exchange(
            &addr,
            &format!(
                "POST /2018-06-01/runtime/invocation/anything/response HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{forged}",
                forged.len()
            ),
            Duration::from_secs(3),
        )
        .unwrap_or_default();
        assert!(
            got.starts_with("HTTP/1.1 404"),
            "forged answer on {addr}: {got:?}"
        );
    }
    let answer = victim.join().unwrap();
    assert_eq!(answer.0, 200);
    assert_eq!(
        String::from_utf8_lossy(&answer.2),
        secret,
        "the real answer, not a forged one"
    );
}

/// Naps 0.4 s; tells the test at the `gate` port when it starts and ends
/// (a side effect the test counts, whatever jot-serve says).
const NAP: &str = r#"using Sockets
function nap(x)
    gate = connect("127.0.0.1", x["gate"])
    println(gate, "start ", x["id"])
    flush(gate)
    sleep(0.4)
    println(gate, "end ", x["id"])
    close(gate)
    x["id"]
end
"#;

/// Lines the invocations sent to the gate, as they come.
fn gate_lines() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let collected = lines.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let collected = collected.clone();
            std::thread::spawn(move || {
                for line in
                    std::io::BufRead::lines(std::io::BufReader::new(stream)).map_while(Result::ok)
                {
                    collected.lock().unwrap().push(line);
                }
            });
        }
    });
    (port, lines)
}

/// Open file descriptors of a process (its /proc/PID/fd entries).
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

#[test]
fn clients_that_disconnect_mid_invocation_leave_no_extra_sandbox() {
    let (_s, name, descriptor) = function("nap.jl", NAP, "Any");
    let mut serve = Serve::start(&descriptor, &["--max-concurrency", "2", "--queue", "1000"]);
    let (port, lines) = gate_lines();
    let count = |what: &str| {
        let lines = lines.lock().unwrap();
        lines.iter().filter(|l| l.starts_with(what)).count()
    };
    // Two warm sandboxes (the most there may be) before the descriptors are counted.
    let warm: Vec<_> = (0..2)
        .map(|i| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            std::thread::spawn(move || {
                jot_tests::serve::Client::connect(&addr)
                    .invoke(&name, &format!("{{\"gate\":{port},\"id\":{}}}", -1 - i))
            })
        })
        .collect();
    for answer in warm {
        assert_eq!(answer.join().unwrap().0, 200);
    }
    assert!(eventually(Duration::from_secs(10), || count("end") == 2));
    let fds_before = open_fds(serve.pid());
    let most = Arc::new(AtomicUsize::new(0));
    let watching = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (most, watching, pid) = (most.clone(), watching.clone(), serve.pid());
        std::thread::spawn(move || {
            while watching.load(Ordering::Relaxed) {
                most.fetch_max(containers_of(pid).len(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    const CLIENTS: u64 = 200;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            std::thread::spawn(move || {
                // Load shaping, not synchronisation: arrivals spread over half a
                // second, each client gone 30 ms after its request (mid-nap or queued).
                std::thread::sleep(Duration::from_millis((i % 20) * 25));
                let mut client = jot_tests::serve::Client::connect(&addr);
                client.send(
                    "POST",
                    &format!("/2015-03-31/functions/{name}/invocations"),
                    &[],
                    format!("{{\"gate\":{port},\"id\":{i}}}").as_bytes(),
                );
                std::thread::sleep(Duration::from_millis(30));
                drop(client);
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    assert!(
        eventually(Duration::from_secs(120), || {
            serve.status()["functions"][0]["concurrency"]["running"] == 0
        }),
        "every abandoned invocation finished and freed its slot: {}",
        serve.status()
    );
    watching.store(false, Ordering::Relaxed);
    watcher.join().unwrap();
    // The abandoned invocations stop: those still queued when their client
    // left never start (the queue holds 1000, so all 200 would run otherwise),
    // and those already in a sandbox end. With 2 slots and a 0.4 s nap, the
    // ~1 s of arrivals admits a handful; a quarter of the clients is far above.
    assert!(eventually(Duration::from_secs(10), || count("end") == count("start")));
    let (started, ended) = (count("start"), count("end"));
    eprintln!("abandoned invocations: {} started and ended", started - 2);
    assert!(
        started - 2 < CLIENTS as usize / 4,
        "{} of {CLIENTS} abandoned invocations ran",
        started - 2
    );
    assert!(
        most.load(Ordering::Relaxed) <= 2,
        "at most 2 sandboxes, saw {}",
        most.load(Ordering::Relaxed)
    );
    assert!(serve.containers().len() <= 2);
    // Nothing runs on after the server says so: the next invocation is the
    // only one to start and end.
    let answer = serve
        .client()
        .invoke(&name, &format!("{{\"gate\":{port},\"id\":7}}"));
    assert_eq!((answer.0, answer.2.as_slice()), (200, b"7".as_slice()));
    assert!(eventually(Duration::from_secs(10), || count("end") > ended));
    assert_eq!((count("start"), count("end")), (started + 1, ended + 1));
    // No descriptor kept for a client that left: as many as with the two
    // sandboxes warm before the load, give or take the Docker client's pool
    // of idle connections (a leak of one per client would be 200).
    let fds_after = open_fds(serve.pid());
    eprintln!("jot-serve descriptors: {fds_before} before the load, {fds_after} after");
    assert!(
        fds_after <= fds_before + 4,
        "jot-serve holds {fds_after} descriptors, {fds_before} before the load"
    );
    assert_eq!(serve.stop("TERM"), 143);
    assert!(
        serve.containers().is_empty(),
        "no sandbox left: {:?}",
        serve.containers()
    );
}

/// Echoes its event; an event with a `gate` port first tells the test (at
/// that port) the id of the sandbox running it, then waits on the gate for
/// good: an invocation held busy until its sandbox is killed.
const ECHO: &str = r#"using Sockets
function echo(x)
    if haskey(x, "gate")
        id = match(r"/containers/([0-9a-f]{64})/", read("/proc/self/mountinfo", String))[1]
        gate = connect("127.0.0.1", x["gate"])
        println(gate, id)
        readline(gate)
    end
    sleep(0.01)
    x
end
"#;

#[test]
fn overload_is_answered_exactly_once_and_a_killed_sandbox_fails_only_its_request() {
    let (_s, name, descriptor) = function("echo.jl", ECHO, "Any");
    let mut serve = Serve::start(
        &descriptor,
        &["--max-concurrency", "4", "--min-instances", "4"],
    );
    // One invocation held busy in a sandbox whose id it tells.
    let gate = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gate.local_addr().unwrap().port();
    let held = {
        let (addr, name) = (serve.addr.clone(), name.clone());
        std::thread::spawn(move || {
            jot_tests::serve::Client::connect(&addr)
                .invoke(&name, &format!("{{\"id\":-2,\"gate\":{port}}}"))
        })
    };
    let (gate, _) = gate.accept().expect("the held invocation reaches its gate");
    let mut victim = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&gate), &mut victim).unwrap();
    let victim = victim.trim().to_string();
    assert_eq!(victim.len(), 64, "a container id: {victim:?}");
    // Busy sandboxes, sampled all through the load.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (sampling, addr) = (sampling.clone(), serve.addr.clone());
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while sampling.load(Ordering::Relaxed) {
                samples.push(busy_at(&addr));
                std::thread::sleep(Duration::from_millis(10));
            }
            samples
        })
    };
    const CLIENTS: usize = 64;
    const TOTAL: usize = 2000;
    let load_answered = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            let load_answered = load_answered.clone();
            std::thread::spawn(move || {
                let mut client = jot_tests::serve::Client::connect(&addr);
                let mut answers = Vec::new();
                for i in (c..TOTAL).step_by(CLIENTS) {
                    let answer = client.invoke(&name, &format!("{{\"id\":{i}}}"));
                    load_answered.fetch_add(1, Ordering::Relaxed);
                    if answer.0 == 429 {
                        // A client backing off, as SDKs do, keeps the load up for seconds.
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    answers.push((i, answer));
                }
                answers
            })
        })
        .collect();
    // Kill the held invocation's sandbox while the load is under way.
    assert!(eventually(Duration::from_secs(60), || load_answered
        .load(Ordering::Relaxed)
        >= 100));
    let killed = std::process::Command::new("docker")
        .args(["kill", &victim])
        .output()
        .unwrap();
    assert!(killed.status.success());
    let held = held.join().unwrap();
    assert_eq!(
        (held.0, header(&held, "x-amz-function-error")),
        (200, Some("Unhandled")),
        "the killed sandbox's request failed: {}",
        String::from_utf8_lossy(&held.2)
    );
    let (mut ok, mut throttled, mut failed) = (0, 0, 0);
    let mut seen = HashSet::new();
    for thread in threads {
        for (i, (status, headers, body)) in thread.join().unwrap() {
            assert!(seen.insert(i), "request {i} answered once");
            let answer = (status, headers, body);
            match status {
                200 if header(&answer, "x-amz-function-error").is_none() => {
                    let body: serde_json::Value = serde_json::from_slice(&answer.2).unwrap();
                    assert_eq!(body["id"], i, "request {i} got its own answer");
                    ok += 1;
                }
                200 => failed += 1,
                429 => {
                    assert_eq!(
                        header(&answer, "x-amzn-errortype"),
                        Some("TooManyRequestsException")
                    );
                    throttled += 1;
                }
                other => panic!(
                    "request {i}: status {other}: {}",
                    String::from_utf8_lossy(&answer.2)
                ),
            }
        }
    }
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    assert_eq!(ok + throttled + failed, TOTAL, "every request answered");
    assert_eq!(failed, 0, "only the killed sandbox's request failed");
    // The limit holds (never more than 4 busy) and is what bounds the load (4 reached).
    let most = samples.iter().copied().max().unwrap_or(0);
    assert_eq!(
        most,
        4,
        "most sandboxes busy at once over {} samples",
        samples.len()
    );
    assert!(
        ok >= 40 && throttled >= 100,
        "{ok} answered, {throttled} throttled"
    );
    assert!(
        eventually(Duration::from_secs(30), || {
            serve.client().invoke(&name, "{\"id\":0}");
            !serve
                .containers()
                .iter()
                .any(|c| victim.starts_with(c.as_str()))
        }),
        "the killed sandbox was removed"
    );
    let after = serve.client().invoke(&name, "{\"id\":-1}");
    assert_eq!(after.0, 200, "the killed sandbox was replaced");
    assert_eq!(serve.stop("TERM"), 143);
    assert!(serve.containers().is_empty());
}

#[test]
fn sigterm_mid_load_answers_every_request_in_flight_and_removes_every_sandbox() {
    let (_s, name, descriptor) = function("slow.jl", "slow(x) = (sleep(1.0); x)\n", "Any");
    let mut serve = Serve::start(
        &descriptor,
        &["--max-concurrency", "6", "--min-instances", "6"],
    );
    let clients: Vec<_> = (0..6)
        .map(|i| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            std::thread::spawn(move || {
                jot_tests::serve::Client::connect(&addr).invoke(&name, &i.to_string())
            })
        })
        .collect();
    // Every client's invocation is in a sandbox when the signal comes.
    serve.wait_busy(6);
    assert_eq!(serve.stop("TERM"), 143);
    for (i, client) in clients.into_iter().enumerate() {
        let answer = client.join().unwrap();
        assert_eq!(
            (answer.0, String::from_utf8_lossy(&answer.2).to_string()),
            (200, i.to_string())
        );
    }
    assert!(
        serve.containers().is_empty(),
        "left: {:?}",
        serve.containers()
    );
}

#[test]
fn sandboxes_of_a_killed_server_are_removed_by_the_next_one_and_a_live_ones_are_kept() {
    let (_s, _name, descriptor) = function("stray.jl", "stray(x) = x\n", "Any");
    let mut killed = Serve::start(&descriptor, &["--min-instances", "2"]);
    let live = Serve::start(&descriptor, &["--min-instances", "1"]);
    assert_eq!(killed.containers().len(), 2);
    assert_eq!(killed.stop("KILL"), -1);
    assert_eq!(
        containers_of(killed.pid()).len(),
        2,
        "SIGKILL leaves its sandboxes"
    );
    let mut next = Serve::start(&descriptor, &[]);
    assert!(
        containers_of(killed.pid()).is_empty(),
        "the next jot-serve removed the strays"
    );
    assert_eq!(
        live.containers().len(),
        1,
        "a live server's sandbox is left alone"
    );
    assert_eq!(next.stop("INT"), 130);
}
