//! A jot image started outside Lambda (no AWS_LAMBDA_RUNTIME_API), as
//! `docker run -p 9000:8080 IMAGE` would, answers AWS's local-testing path
//! `POST /2015-03-31/functions/function/invocations` with the emulator's
//! semantics: an answer, a function error as {errorMessage, errorType} (with
//! X-Amz-Function-Error), and a timeout from AWS_LAMBDA_FUNCTION_TIMEOUT after
//! which the next invocation still answers. Host networking and a free port
//! (JOT_STANDALONE_PORT), as every container on this machine.

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use jot_tests::*;

const CODE: &str = "function slow_increment(v::Vector{Int})\n    isempty(v) && sleep(60)\n    any(<(0), v) && throw(DomainError(v, \"negative entries\"))\n    v .+ 1\nend\n";
const INVOKE: &str = "/2015-03-31/functions/function/invocations";

/// A container removed when dropped, whatever the test's outcome.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn invoke(host: &str, payload: &str) -> Answer {
    http_request(host, "POST", INVOKE, &[], payload.as_bytes()).expect("invoke")
}

#[test]
fn a_standalone_image_answers_errors_and_times_out_like_the_emulator() {
    let script = script("slow_increment.jl", CODE);
    let descriptor = json(build(&script.path, &["--arg-type", "Vector{Int}"]).trim());
    let image = descriptor["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let name = jot_tests::aws::unique("jot-standalone");
    let started = Command::new("docker")
        .args(["run", "-d", "--network", "host", "--name", &name])
        .args(["-e", &format!("JOT_STANDALONE_PORT={port}")])
        .args(["-e", "AWS_LAMBDA_FUNCTION_TIMEOUT=2", &image])
        .output()
        .unwrap();
    let _container = Container(name.clone());
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let t0 = Instant::now();
    while TcpStream::connect(&host).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the image never listened on {host}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let answer = invoke(&host, "[1,2,3]");
    assert_eq!(answer.status, 200, "{}", answer.head);
    assert_eq!(answer.body, "[2,3,4]");
    assert_eq!(answer.header("X-Amz-Function-Error"), None);

    let error = invoke(&host, "[-1]");
    assert_eq!(error.status, 200);
    assert_eq!(error.header("X-Amz-Function-Error"), Some("Unhandled"));
    let body = json(&error.body);
    assert_eq!(body["errorType"], "DomainError", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("negative entries")
    );

    let t1 = Instant::now();
    let timeout = invoke(&host, "[]");
    let waited = t1.elapsed();
    let body = json(&timeout.body);
    assert_eq!(body["errorType"], "Sandbox.Timedout", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 2.00 seconds"),
        "{body}"
    );
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(30),
        "{waited:?}"
    );

    // The timed-out worker was killed; a fresh one answers the next invocation.
    assert_eq!(invoke(&host, "[41]").body, "[42]");
    assert_eq!(
        http_request(&host, "POST", "/elsewhere", &[], b"[]")
            .unwrap()
            .status,
        404
    );
}
