//! A --watch rollout under a steady stream of requests: the responder is
//! edited while four clients keep invoking; no request fails, every answer
//! comes wholly from the old or the new code, a request in flight at the
//! switch finishes on the old version, new requests switch to the new one,
//! and the old version's pool drains to no sandbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jot_tests::aws::unique;
use jot_tests::serve::{Client, Serve, eventually, header};
use jot_tests::{build, script};

/// Both halves of an answer come from one version of the code; `slow` makes it wait.
fn code(tag: &str) -> String {
    format!(
        "function rollfun(x)\n    sleep(get(x, \"slow\", 0.01))\n    Dict(\"first\" => \"{tag}\", \"second\" => \"{tag}\")\nend\n"
    )
}

#[test]
fn an_edit_under_watch_rolls_out_without_a_failed_or_mixed_answer() {
    let source = script("rollfun.jl", &code("old"));
    let name = unique("roll");
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let serve = Serve::start(
        &descriptor,
        &["--watch", "--max-concurrency", "6", "--queue", "64"],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, name, stop) = (serve.addr.clone(), name.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut client = Client::connect(&addr);
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let answer = client.invoke(&name, "{}");
                    let version = header(&answer, "x-amz-executed-version").map(str::to_string);
                    answers.push((answer.0, version, answer.2));
                }
                answers
            })
        })
        .collect();
    // One request in flight across the switch: it started on the old code.
    let in_flight = {
        let (addr, name) = (serve.addr.clone(), name.clone());
        std::thread::spawn(move || Client::connect(&addr).invoke(&name, "{\"slow\": 6}"))
    };
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(&source.path, code("new")).unwrap();
    let switched = eventually(Duration::from_secs(60), || {
        serve.status()["functions"][0]["latest"] == 2
    });
    assert!(switched, "version 2 never served: {}", serve.status());
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let per_client: Vec<_> = clients
        .into_iter()
        .map(|c| c.join().expect("a client thread"))
        .collect();
    let answers: Vec<_> = per_client.iter().flatten().collect();

    let old = serde_json::json!({"first": "old", "second": "old"});
    let new = serde_json::json!({"first": "new", "second": "new"});
    let (mut olds, mut news) = (0, 0);
    for (status, version, body) in &answers {
        assert_eq!(*status, 200, "{}", String::from_utf8_lossy(body));
        assert_eq!(version.as_deref(), Some("$LATEST"));
        let body: serde_json::Value = serde_json::from_slice(body).expect("JSON answer");
        if body == old {
            olds += 1;
        } else if body == new {
            news += 1;
        } else {
            panic!("an answer mixing versions or from neither: {body}");
        }
    }
    assert!(olds > 0 && news > 0, "old {olds}, new {news}");
    // Once a client got the new code, it never gets the old code again.
    for answers in &per_client {
        let bodies: Vec<serde_json::Value> = answers
            .iter()
            .map(|a| serde_json::from_slice(&a.2).unwrap())
            .collect();
        if let Some(first_new) = bodies.iter().position(|b| *b == new) {
            assert!(
                !bodies[first_new..].contains(&old),
                "old code after the switch"
            );
        }
    }

    let slow = in_flight.join().unwrap();
    assert_eq!(slow.0, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&slow.2).unwrap(),
        old,
        "the request in flight at the switch finished on the old version"
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
