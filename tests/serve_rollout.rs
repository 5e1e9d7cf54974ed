//! A --watch rollout under a steady stream of requests: the responder is
//! edited while four clients keep invoking; no request fails, every answer
//! comes wholly from the old or the new code, a request in flight at the
//! switch finishes on the old version, new requests switch to the new one,
//! and the old version's pool drains to no sandbox.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use jot_tests::aws::unique;
use jot_tests::serve::{Client, Serve, eventually, header};
use jot_tests::{build, script};

/// The two halves of an answer come from separately loaded code: `first`
/// from the constant compiled when the sandbox loaded the code, `second`
/// from the source file read again when the answer is made (after the gate,
/// if any). Code swapped under a running sandbox would mix them. `started`
/// and `ended` are the host clock (sandboxes share it) around the call. With
/// a `gate` port, the call tells the test it has started and waits for a
/// line from it: a request held in flight until the test lets it go.
fn code(tag: &str) -> String {
    format!(
        r#"using Sockets
const FIRST = "{tag}"
function rollfun(x)
    started = time()
    if haskey(x, "gate")
        gate = connect("127.0.0.1", x["gate"])
        println(gate, "started")
        readline(gate)
        close(gate)
    else
        sleep(0.01)
    end
    second = match(r"const FIRST = \"(\w+)\"", read(@__FILE__, String))[1]
    Dict("first" => FIRST, "second" => second, "started" => started, "ended" => time())
end
"#
    )
}

/// (status, x-amz-executed-version, answer as JSON).
type Answer = (u16, Option<String>, serde_json::Value);

#[test]
fn an_edit_under_watch_rolls_out_without_a_failed_or_mixed_answer() {
    let source = script("rollfun.jl", &code("old"));
    let name = unique("roll");
    // jot-serve --watch builds the new version and prints no descriptor of it.
    let _rebuilt = jot_tests::LocalImagesOf {
        name: name.clone(),
        dir: source.dir.path().to_path_buf(),
    };
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(
        &descriptor,
        &[
            "--watch",
            "--max-concurrency",
            "6",
            "--queue",
            "64",
            "--timeout",
            "300",
        ],
    );
    // One request held in flight across the switch, on the old code.
    let gate = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gate.local_addr().unwrap().port();
    let in_flight = {
        let (addr, name) = (serve.addr.clone(), name.clone());
        std::thread::spawn(move || {
            Client::connect(&addr).invoke(&name, &format!("{{\"gate\": {port}}}"))
        })
    };
    let (gate, _) = gate.accept().expect("the held request reaches its gate");
    let mut gate = BufReader::new(gate);
    let mut line = String::new();
    gate.read_line(&mut line).unwrap();
    assert_eq!(line, "started\n");

    let stop = Arc::new(AtomicBool::new(false));
    let saw_new = Arc::new(AtomicUsize::new(0));
    let saw_old = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, name) = (serve.addr.clone(), name.clone());
            let (stop, saw_new, saw_old) = (stop.clone(), saw_new.clone(), saw_old.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(&addr);
                let mut answers: Vec<Answer> = Vec::new();
                let mut counted = false;
                while !stop.load(Ordering::Relaxed) {
                    let answer = client.invoke(&name, "{}");
                    let version = header(&answer, "x-amz-executed-version").map(str::to_string);
                    let body = serde_json::from_slice(&answer.2)
                        .unwrap_or_else(|_| serde_json::json!(String::from_utf8_lossy(&answer.2)));
                    if answers.is_empty() {
                        saw_old.fetch_add(1, Ordering::SeqCst);
                    }
                    if !counted && body["first"] == "new" {
                        counted = true;
                        saw_new.fetch_add(1, Ordering::SeqCst);
                    }
                    answers.push((answer.0, version, body));
                }
                answers
            })
        })
        .collect();
    // Every client has had an answer of the old code before the edit.
    assert!(
        eventually(Duration::from_secs(60), || saw_old.load(Ordering::SeqCst)
            == 4),
        "the clients got no answer: {}",
        serve.status()
    );
    std::fs::write(&source.path, code("new")).unwrap();
    let switched = eventually(Duration::from_secs(120), || {
        serve.status()["functions"][0]["latest"] == 2
    });
    assert!(switched, "version 2 never served: {}", serve.status());
    // The rollout is over for every client once each has had the new code.
    let all_new = eventually(Duration::from_secs(60), || {
        saw_new.load(Ordering::SeqCst) == 4
    });
    stop.store(true, Ordering::Relaxed);
    let per_client: Vec<Vec<Answer>> = clients
        .into_iter()
        .map(|c| c.join().expect("a client thread"))
        .collect();
    assert!(all_new, "not every client got the new code");
    // Only now may the held request end.
    gate.get_mut().write_all(b"go\n").unwrap();
    let slow = in_flight.join().unwrap();

    let (mut olds, mut news) = (0, 0);
    for (status, version, body) in per_client.iter().flatten() {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(version.as_deref(), Some("$LATEST"));
        assert_eq!(body["first"], body["second"], "an answer mixing versions");
        match body["first"].as_str() {
            Some("old") => olds += 1,
            Some("new") => news += 1,
            _ => panic!("an answer from neither version: {body}"),
        }
    }
    assert!(olds > 0 && news > 0, "old {olds}, new {news}");
    // Once a client got the new code, it never gets the old code again.
    for answers in &per_client {
        if let Some(first_new) = answers.iter().position(|a| a.2["first"] == "new") {
            assert!(
                answers[first_new..].iter().all(|a| a.2["first"] == "new"),
                "old code after the switch"
            );
        }
    }

    assert_eq!(slow.0, 200, "{}", String::from_utf8_lossy(&slow.2));
    let slow: serde_json::Value = serde_json::from_slice(&slow.2).unwrap();
    assert_eq!(
        (&slow["first"], &slow["second"]),
        (&"old".into(), &"old".into()),
        "the request in flight at the switch finished on the old version: {slow}"
    );
    // It started before the new version's first answer began and ended after it.
    let first_new = per_client
        .iter()
        .flatten()
        .filter(|a| a.2["first"] == "new")
        .map(|a| a.2["started"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let (started, ended) = (
        slow["started"].as_f64().unwrap(),
        slow["ended"].as_f64().unwrap(),
    );
    assert!(
        started < first_new && first_new < ended,
        "not in flight when version 2 began serving: {started} < {first_new} < {ended}"
    );
    let drained = eventually(Duration::from_secs(20), || {
        let status = serve.status();
        let versions = status["functions"][0]["versions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        versions.iter().any(|v| {
            v["version"] == 1
                && v["instances"]["idle"] == 0
                && v["instances"]["busy"] == 0
                && v["instances"]["starting"] == 0
        })
    });
    assert!(drained, "version 1 kept sandboxes: {}", serve.status());
}
