//! jot-logs against MiniStack's CloudWatch Logs: what a function printed (a
//! Python function MiniStack runs; it cannot run jot's image functions), the
//! REPORT lines summarised, a follow that picks up a line printed after it
//! started and ends with exit 130 on Ctrl-C, and `--cold-starts`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jot_tests::aws::{self, aws_env};
use jot_tests::*;
use serde_json::Value;

/// Prints two lines per invocation: `said X` and `again X`.
const HANDLER: &str = "def handler(event, context):\n    print('said', event.get('say'))\n    print('again', event.get('say'))\n    return event\n";

fn logs(args: &[&str]) -> (i32, String, String) {
    outcome(&run(aws_env(&mut jot("jot-logs")).args(args)))
}

fn invoke(name: &str, say: &str) {
    let payload = format!(r#"{{"say":"{say}"}}"#);
    let output =
        run(aws_env(&mut jot("jot-invoke")).args(["--function-name", name, "--payload", &payload]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "jot-invoke {name}: {stderr}");
    assert_eq!(json(&stdout)["say"], say);
}

/// A Python function that prints; removed (with its log group) when dropped.
fn python_function(prefix: &str) -> (String, aws::Cleanup) {
    aws::require_ministack();
    let name = aws::unique(prefix);
    let mut cleanup = aws::Cleanup::default();
    cleanup.functions.push(name.clone());
    aws::create_python_function(&name, HANDLER);
    (name, cleanup)
}

#[test]
fn jot_logs_shows_what_a_function_printed_with_its_reports() {
    let (name, _cleanup) = python_function("logs-show");

    // Before the first invocation there is no log group: one line, exit 5.
    let (code, stdout, stderr) = logs(&[&name]);
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{name} has not run yet")),
        "{stderr}"
    );

    invoke(&name, "first-line");
    invoke(&name, "second-line");
    let (code, stdout, stderr) = logs(&[&name]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    for printed in ["said first-line", "again first-line", "said second-line"] {
        let found = lines.iter().filter(|l| l.ends_with(printed)).count();
        assert_eq!(found, 1, "{printed:?} once in:\n{stdout}");
        let line = lines.iter().find(|l| l.ends_with(printed)).unwrap();
        assert!(line.contains(&format!(" {name} [$LATEST] ")), "{line}");
    }
    // Each invocation's REPORT line is summarised, none of MiniStack's a cold start.
    let reports: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("] REPORT duration "))
        .collect();
    assert_eq!(reports.len(), 2, "{stdout}");
    assert!(
        reports
            .iter()
            .all(|l| l.contains(", memory ") && !l.contains("COLD START"))
    );
    assert!(
        !stdout.contains("RequestId:\t"),
        "raw REPORT line left: {stdout}"
    );

    // --json: one record per event, the REPORT figures parsed.
    let (code, stdout, _) = logs(&[&name, "--json"]);
    assert_eq!(code, 0);
    let records: Vec<Value> = stdout.lines().map(json).collect();
    assert_eq!(records.len(), lines.len());
    assert!(
        records
            .iter()
            .all(|r| r["function"] == name && r["version"] == "$LATEST")
    );
    let parsed: Vec<&Value> = records.iter().filter(|r| r["report"].is_object()).collect();
    assert_eq!(parsed.len(), 2);
    assert!(parsed[0]["report"]["duration_ms"].is_number());
    assert_eq!(parsed[0]["report"]["cold_start"], false);

    // --filter is CloudWatch's; --version narrows to a version's streams.
    let (_, stdout, _) = logs(&[&name, "--filter", "again"]);
    let kept: Vec<&str> = stdout.lines().collect();
    assert_eq!(kept.len(), 2, "{stdout}");
    assert!(kept.iter().all(|l| l.contains("again")));
    let (code, stdout, _) = logs(&[&name, "--version", "7"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    let (_, stdout, _) = logs(&[&name, "--version", "$LATEST", "--since", "1h"]);
    assert_eq!(stdout.lines().count(), lines.len());
    // A time after both invocations: nothing.
    let (code, stdout, _) = logs(&[&name, "--since", "2999-01-01T00:00:00Z"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn bad_input_is_one_line_and_exit_5_before_any_call() {
    for (args, says) in [
        (&["f", "--since", "ten minutes"][..], "--since"),
        (&["f", "--version", "latest"][..], "--version"),
        (&["f", "--alias", "a:b"][..], "alias"),
        (&["bad name"][..], "not valid for Lambda"),
    ] {
        // A dead endpoint: a call would fail with exit 8, not 5.
        let output = run(aws_env(&mut jot("jot-logs"))
            .env("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT)
            .args(args));
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, 5, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let long = "x".repeat(1025);
    let (code, _, stderr) = outcome(&run(aws_env(&mut jot("jot-logs"))
        .env("AWS_ENDPOINT_URL", aws::DEAD_ENDPOINT)
        .args(["f", "--filter", &long])));
    assert_eq!(code, 5, "{stderr}");
    // A function that does not exist is told apart from one that never ran.
    aws::require_ministack();
    let missing = aws::unique("logs-missing");
    let (code, _, stderr) = logs(&[&missing]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains(&format!("there is no function {missing}")),
        "{stderr}"
    );
}

/// Lines of a running jot-logs --follow, as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Waits for a line ending with `text`, keeping every line seen in `seen`.
fn wait_for(lines: &mpsc::Receiver<String>, seen: &mut Vec<String>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen.iter().any(|l| l.ends_with(text)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!(
                "no line ending {text:?} within 30 s; saw:\n{}",
                seen.join("\n")
            ),
        }
    }
}

#[test]
fn follow_waits_for_the_first_run_picks_up_new_lines_once_and_exits_130_on_ctrl_c() {
    let (name, _cleanup) = python_function("logs-follow");
    let mut child = aws_env(&mut jot("jot-logs"))
        .args([&name, "--follow"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut child);
    let mut seen = Vec::new();
    // Started before the function ever ran: it waits, then shows each line.
    std::thread::sleep(Duration::from_millis(1500));
    invoke(&name, "before");
    wait_for(&lines, &mut seen, "said before");
    invoke(&name, "after");
    wait_for(&lines, &mut seen, "again after");
    // A few more polls (each reads the last 30 s again): nothing twice.
    std::thread::sleep(Duration::from_secs(3));
    seen.extend(lines.try_iter());
    for printed in ["said before", "again before", "said after", "again after"] {
        let count = seen.iter().filter(|l| l.ends_with(printed)).count();
        assert_eq!(
            count,
            1,
            "{printed:?} shown {count} times:\n{}",
            seen.join("\n")
        );
    }
    assert_eq!(
        seen.iter().filter(|l| l.contains("] REPORT ")).count(),
        2,
        "{}",
        seen.join("\n")
    );
    // Ctrl-C: exit 130, one line.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!("{name} has not run yet; waiting")),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("stopped following the logs"),
        "{stderr}"
    );
}

/// Two invocations in one execution environment as Lambda logs them: the
/// first REPORT carries `Init Duration` (a cold start), the second does not.
/// MiniStack's own REPORT lines never do, so they are put in with PutLogEvents.
fn put_lambda_reports(name: &str, cold_id: &str, warm_id: &str) {
    let group = format!("/aws/lambda/{name}");
    let stream = "2026/12/06/[$LATEST]0123456789abcdef0123456789abcdef";
    let (status, body) = aws::logs_call(
        "CreateLogStream",
        &serde_json::json!({"logGroupName": group, "logStreamName": stream}),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let messages = [
        format!("START RequestId: {cold_id} Version: $LATEST"),
        format!("END RequestId: {cold_id}"),
        format!(
            "REPORT RequestId: {cold_id}\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 210 MB\tInit Duration: 4312.25 ms\t"
        ),
        format!("START RequestId: {warm_id} Version: $LATEST"),
        format!("END RequestId: {warm_id}"),
        format!(
            "REPORT RequestId: {warm_id}\tDuration: 1.10 ms\tBilled Duration: 2 ms\tMemory Size: 1024 MB\tMax Memory Used: 211 MB\t"
        ),
    ];
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"timestamp": now + i as i64, "message": m}))
        .collect();
    let (status, body) = aws::logs_call(
        "PutLogEvents",
        &serde_json::json!({"logGroupName": group, "logStreamName": stream, "logEvents": events}),
    )
    .unwrap();
    assert_eq!(status, 200, "{body}");
}

#[test]
fn cold_starts_lists_the_first_invocation_only_with_its_init_time() {
    let (name, _cleanup) = python_function("logs-cold");
    invoke(&name, "warm-up");
    put_lambda_reports(&name, "cold-0001", "warm-0002");

    let (code, stdout, stderr) = logs(&[&name, "--cold-starts"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].contains("COLD START, init 4312.25 ms"), "{stdout}");
    assert!(lines[0].contains("(request cold-0001)"), "{stdout}");

    let (_, stdout, _) = logs(&[&name, "--cold-starts", "--json"]);
    let records: Vec<Value> = stdout.lines().map(json).collect();
    assert_eq!(records.len(), 1, "{stdout}");
    assert_eq!(records[0]["report"]["request_id"], "cold-0001");
    assert_eq!(records[0]["report"]["init_ms"], 4312.25);
    assert_eq!(records[0]["report"]["cold_start"], true);

    // Without the flag the warm one is there too, not marked.
    let (_, stdout, _) = logs(&[&name]);
    assert_eq!(stdout.matches("COLD START").count(), 1, "{stdout}");
    assert!(stdout.contains("(request warm-0002)"), "{stdout}");
    assert!(stdout.contains("said warm-up"), "{stdout}");
}
