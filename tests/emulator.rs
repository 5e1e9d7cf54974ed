//! The emulator library itself, against the real engine and real Julia:
//! events no SDK would send, and concurrent sandboxes.

use std::collections::HashSet;

use bytes::Bytes;
use jot_emulator::{Instance, InstanceConfig, Outcome};
use jot_run::pool::Pool;
use jot_tests::*;

#[tokio::test]
async fn an_event_that_is_not_json_is_a_function_error_and_the_runtime_goes_on() {
    let (_script, image) = image_of("echo_back.jl", "echo_back(x) = x\n", &[]);
    let docker = jot_docker::connect().await.unwrap();
    let instance = Instance::start(&docker, InstanceConfig::new(&image, "echo-back"))
        .await
        .unwrap();
    let bad = instance
        .invoke(Bytes::from_static(b"{not json"))
        .await
        .unwrap();
    let Outcome::FunctionError { body, .. } = &bad.outcome else {
        panic!("expected a function error, got {:?}", bad.outcome);
    };
    let error = json(std::str::from_utf8(body).unwrap());
    assert_eq!(error["errorType"], "Runtime.InvalidPayload", "{error}");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("the event is not valid JSON: ") && message.contains(" at byte "),
        "{error}"
    );
    assert_eq!(error["stackTrace"], serde_json::json!([]), "{error}");
    let good = instance
        .invoke(Bytes::from_static(b"{\"a\":[1,2]}"))
        .await
        .unwrap();
    assert_eq!(
        good.outcome,
        Outcome::Response(Bytes::from_static(b"{\"a\":[1,2]}"))
    );
    assert!(!good.cold && bad.cold);
    instance.stop().await;
}

#[tokio::test]
async fn concurrent_invocations_get_their_own_sandboxes_and_warm_ones_are_reused() {
    let code =
        "sandbox_name(seconds::Int) = (sleep(seconds); ENV[\"AWS_LAMBDA_LOG_STREAM_NAME\"])\n";
    let (_script, image) = image_of("sandbox_name.jl", code, &["--arg-type", "Int"]);
    let docker = jot_docker::connect().await.unwrap();
    let pool = Pool::new(&docker, InstanceConfig::new(&image, "sandbox-name"));
    let (a, b, c) = tokio::join!(
        pool.invoke(Bytes::from_static(b"2"), false, jot_run::pool::LATEST),
        pool.invoke(Bytes::from_static(b"2"), false, jot_run::pool::LATEST),
        pool.invoke(Bytes::from_static(b"2"), false, jot_run::pool::LATEST),
    );
    let names: HashSet<Bytes> = [a, b, c]
        .into_iter()
        .map(|r| match r.unwrap().invocation.outcome {
            Outcome::Response(body) => body,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names.len(), 3, "three sandboxes ran at once: {names:?}");
    let again = pool
        .invoke(Bytes::from_static(b"0"), false, jot_run::pool::LATEST)
        .await
        .unwrap()
        .invocation;
    assert!(!again.cold, "a warm sandbox was reused");
    let Outcome::Response(name) = again.outcome else {
        panic!()
    };
    assert!(names.contains(&name));
    pool.shutdown().await;
}

#[tokio::test]
async fn a_sandbox_waiting_for_an_event_exits_on_its_own_when_stopped() {
    let (_script, image) = image_of("idle_one.jl", "idle_one(x) = x\n", &[]);
    let docker = jot_docker::connect().await.unwrap();
    let instance = Instance::start(&docker, InstanceConfig::new(&image, "idle-one"))
        .await
        .unwrap();
    for n in 1..=3 {
        let payload = Bytes::from(n.to_string());
        let answered = instance.invoke(payload.clone()).await.unwrap();
        assert_eq!(answered.outcome, Outcome::Response(payload));
    }
    // jot's runtime takes the chain: events 2 and 3 came as the answers to
    // the responses before them, not through `GET /next`.
    assert_eq!(instance.chained_invocations(), 2);
    let container = instance.container_id().to_string();
    // Waiting in a chained response, told the Runtime API is closing (410),
    // the runtime exits within the grace; else it would have to be killed.
    assert!(instance.stop().await, "the sandbox had to be killed");
    let gone = std::process::Command::new("docker")
        .args(["inspect", &container])
        .output()
        .unwrap();
    assert!(
        !gone.status.success(),
        "container {container} is still there"
    );
}
