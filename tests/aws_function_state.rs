//! jot-invoke checks the function's state before invoking (issue 21 item 6):
//! a Pending version is waited for, a Failed one is one line with Lambda's
//! reason and exit 8. MiniStack makes a SnapStart version of a Python
//! function Pending while it initialises at publish (and refuses to invoke
//! it meanwhile, as Lambda does), and Failed when that initialisation raises.

use std::time::{Duration, Instant};

use jot_tests::aws::{self, aws_env};
use jot_tests::*;
use serde_json::json;

fn snapstart_function(prefix: &str, handler: &str) -> (String, aws::Cleanup) {
    aws::require_ministack();
    let name = aws::unique(prefix);
    let mut cleanup = aws::Cleanup::default();
    cleanup.functions.push(name.clone());
    aws::create_python_function_with(
        &name,
        handler,
        json!({"SnapStart": {"ApplyOn": "PublishedVersions"}}),
    );
    // $LATEST goes Active within a second; then version 1 is published.
    let deadline = Instant::now() + Duration::from_secs(20);
    while aws::get_function(&name, None)["Configuration"]["State"] != "Active" {
        assert!(Instant::now() < deadline, "{name} never became Active");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, answer) = aws::lambda(
        "POST",
        &format!("/2015-03-31/functions/{name}/versions"),
        Some(json!({})),
    );
    assert_eq!(status, 201, "PublishVersion: {answer}");
    (name, cleanup)
}

fn invoke_version_1(name: &str) -> (i32, String, String) {
    outcome(&run(aws_env(&mut jot("jot-invoke")).args([
        "--function-name",
        name,
        "--qualifier",
        "1",
        "--payload",
        r#"{"n":1}"#,
    ])))
}

#[test]
fn a_pending_version_is_waited_for_then_invoked() {
    // Its initialisation (at publish, SnapStart) takes 6 s.
    let handler = "import time\ntime.sleep(6)\ndef handler(event, context):\n    return event\n";
    let (name, _cleanup) = snapstart_function("state-pending", handler);
    let state = aws::get_function(&name, Some("1"))["Configuration"]["State"].clone();
    assert_eq!(state, "Pending", "version 1 must still be initialising");
    let (code, stdout, stderr) = invoke_version_1(&name);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stdout), json!({"n": 1}));
    assert!(
        stderr.contains(&format!("{name}:1 is Pending")) && stderr.contains("waiting"),
        "{stderr}"
    );
}

#[test]
fn a_failed_version_is_one_line_naming_lambdas_reason_and_exit_8() {
    let handler = "raise RuntimeError('no database configured')\ndef handler(event, context):\n    return event\n";
    let (name, _cleanup) = snapstart_function("state-failed", handler);
    let deadline = Instant::now() + Duration::from_secs(60);
    while aws::get_function(&name, Some("1"))["Configuration"]["State"] != "Failed" {
        assert!(Instant::now() < deadline, "version 1 never became Failed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, stdout, stderr) = invoke_version_1(&name);
    assert_eq!(code, 8, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{name}:1 is Failed"))
            && stderr.contains("no database configured"),
        "{stderr}"
    );
}
