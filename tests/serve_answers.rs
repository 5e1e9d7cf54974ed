//! jot-serve's HTTP answers, as an AWS SDK sees them on the wire: 200 with the
//! function's answer, 404 for an unknown function or path, 400 for a body that
//! is not JSON, 413 over 6 MiB, 202 for an Event invocation (which really
//! runs), 204 for a DryRun (which does not), and a function error as 200 with
//! `X-Amz-Function-Error: Unhandled` (or the status given by
//! `--function-error-status`).

use jot_tests::*;

const CODE: &str = "const CALLS = Ref(0)\ncount_calls(x) = x == \"fail\" ? error(\"asked to fail\") : (CALLS[] += 1)\n";

fn invoke(serve: &Serve, name: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    http_request(
        serve.host(),
        "POST",
        &format!("/2015-03-31/functions/{name}/invocations"),
        headers,
        body,
    )
    .expect("HTTP request to jot-serve")
}

#[test]
fn the_invoke_api_answers_like_lambda() {
    let script = script("count_calls.jl", CODE);
    let descriptor = build(&script.path, &[]);
    // One sandbox, so every invocation sees the same counter.
    // --queue: a request beyond the one sandbox waits instead of a 429.
    let serve = Serve::start(
        &descriptor,
        &["--max-concurrency", "1", "--queue", "10", "--timeout", "60"],
    );

    let first = invoke(&serve, "count-calls", &[], b"{}");
    assert_eq!(
        (first.status, first.body.as_str()),
        (200, "1"),
        "{}",
        first.head
    );
    assert_eq!(first.header("x-amz-executed-version"), Some("$LATEST"));
    assert!(first.header("x-amz-function-error").is_none());

    // An Event is accepted at once and runs later; a DryRun never runs.
    let event = invoke(
        &serve,
        "count-calls",
        &[("X-Amz-Invocation-Type", "Event")],
        b"{}",
    );
    assert_eq!((event.status, event.body.as_str()), (202, ""));
    let dry = invoke(
        &serve,
        "count-calls",
        &[("X-Amz-Invocation-Type", "DryRun")],
        b"{}",
    );
    assert_eq!((dry.status, dry.body.as_str()), (204, ""));
    let after = invoke(&serve, "count-calls", &[], b"{}");
    assert_eq!(after.body, "3", "the Event ran once and the DryRun did not");

    let error = invoke(&serve, "count-calls", &[], b"\"fail\"");
    assert_eq!(error.status, 200, "{}", error.body);
    assert_eq!(error.header("x-amz-function-error"), Some("Unhandled"));
    let body = json(&error.body);
    assert_eq!(body["errorType"], "ErrorException");
    assert_eq!(body["errorMessage"], "asked to fail");

    let missing = invoke(&serve, "no-such-function", &[], b"{}");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("x-amzn-errortype"),
        Some("ResourceNotFoundException")
    );
    assert!(
        missing.body.contains("no-such-function"),
        "{}",
        missing.body
    );
    let path = http_request(serve.host(), "GET", "/", &[], b"").unwrap();
    assert_eq!(path.status, 404);

    let not_json = invoke(&serve, "count-calls", &[], b"{not json");
    assert_eq!(not_json.status, 400);
    assert_eq!(
        not_json.header("x-amzn-errortype"),
        Some("InvalidRequestContentException")
    );
    let big = vec![b' '; 6 * 1024 * 1024 + 1];
    let too_big = invoke(&serve, "count-calls", &[], &big);
    assert_eq!(too_big.status, 413);
    assert_eq!(
        too_big.header("x-amzn-errortype"),
        Some("RequestTooLargeException")
    );
    // None of the refused requests reached the function.
    assert_eq!(invoke(&serve, "count-calls", &[], b"{}").body, "4");
}

#[test]
fn function_errors_take_the_status_asked_for() {
    let script = script("count_calls.jl", CODE);
    let descriptor = build(&script.path, &[]);
    let serve = Serve::start(&descriptor, &["--function-error-status", "500"]);
    let error = invoke(&serve, "count-calls", &[], b"\"fail\"");
    assert_eq!(error.status, 500, "{}", error.body);
    assert_eq!(error.header("x-amz-function-error"), Some("Unhandled"));
    assert_eq!(invoke(&serve, "count-calls", &[], b"{}").status, 200);
}

#[test]
fn a_log_tail_holds_all_a_warm_invocation_wrote_and_nothing_of_the_others() {
    // Each invocation writes its own line to stdout and to stderr just before
    // it answers: the engine's copy of them can trail the answer.
    let code =
        "function say(x)\n    println(\"out-\", x)\n    println(stderr, \"err-\", x)\n    x\nend\n";
    let script = script("say.jl", code);
    let descriptor = build(&script.path, &["--arg-type", "Int"]);
    let serve = Serve::start(&descriptor, &["--max-concurrency", "1"]);
    use base64::Engine as _;
    for i in 0..40 {
        let answer = invoke(
            &serve,
            "say",
            &[("X-Amz-Log-Type", "Tail")],
            i.to_string().as_bytes(),
        );
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (200, i.to_string().as_str())
        );
        let tail = answer.header("x-amz-log-result").expect("a log tail");
        let tail = base64::engine::general_purpose::STANDARD
            .decode(tail)
            .expect("base64");
        let tail = String::from_utf8(tail).unwrap();
        let lines: Vec<&str> = tail.lines().collect();
        assert!(
            lines.contains(&format!("out-{i}").as_str())
                && lines.contains(&format!("err-{i}").as_str()),
            "invocation {i}: {tail}"
        );
        assert!(
            !tail.contains(&format!("out-{}\n", i + 1))
                && (i == 0 || !lines.contains(&format!("out-{}", i - 1).as_str())),
            "invocation {i} holds another's output: {tail}"
        );
        assert!(!tail.contains("jot-log-mark"), "{tail}");
        assert!(
            lines.last().unwrap().starts_with("REPORT RequestId: "),
            "{tail}"
        );
    }
}
