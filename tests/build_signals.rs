//! `jot-build --test-payload` stopped by Ctrl-C (SIGINT) or SIGTERM while its
//! test sandbox runs: it exits 130/143 after cleaning up, prints no
//! descriptor, and leaves no sandbox, no temporary file and no image other
//! than the complete one it had built. `jot-build --compile` stopped while it
//! compiles leaves nothing at all.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jot_tests::*;

/// Containers of the image name `name` (jot labels every sandbox with it).
fn sandboxes(name: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.jot.name={name}"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// All a child's piped output, once it has exited.
fn read_all(pipe: Option<impl Read>) -> String {
    let mut text = String::new();
    pipe.expect("a piped stream")
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn logs_of(container: &str) -> String {
    let output = Command::new("docker")
        .args(["logs", container])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_interrupted_test_run_removes_its_sandbox_and_exits_130_or_143() {
    let name = format!("build-interrupted-{}", std::process::id());
    // The self-test calls the function during init, so it prints there first.
    let script = script(
        "stalls.jl",
        "stalls(x) = (println(\"test event arrived\"); flush(stdout); sleep(300); x)\n",
    );
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let tmp = workdir();
        let mut child = jot("jot-build")
            .arg(&script.path)
            .args(["--name", &name, "--test-payload", "1", "--expect", "1"])
            .env("TMPDIR", tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the event, not a while: the test sandbox runs the function.
        let started = Instant::now();
        loop {
            if sandboxes(&name)
                .iter()
                .any(|id| logs_of(id).contains("test event arrived"))
            {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "jot-build ended before its test run started"
            );
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the test run never started"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        let (stdout, stderr) = (read_all(child.stdout.take()), read_all(child.stderr.take()));
        assert_eq!(status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
        assert!(
            stderr.contains("interrupted during the test run"),
            "{stderr}"
        );
        assert_eq!(sandboxes(&name), Vec::<String>::new(), "SIG{signal}");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");

        // The one image left is the complete one: a plain rebuild names the
        // same image id under the same tag, and nothing untagged remains.
        let images = jot_images_from(&script.dir.path().to_string_lossy());
        assert_eq!(images.len(), 1, "SIG{signal}: {images:?}");
        let rebuilt = json(build(&script.path, &["--name", &name]).trim());
        assert_eq!(rebuilt["local_image"]["id"], images[0].0.as_str());
        let tags = inspect_image(&images[0].0)["RepoTags"].clone();
        assert_eq!(
            tags,
            serde_json::json!([rebuilt["local_image"]["image"]]),
            "SIG{signal}"
        );
    }
}

#[test]
fn a_compile_stopped_by_ctrl_c_leaves_no_image_and_no_builder_container() {
    let script = script("halted.jl", "halted(v::Vector{Int}) = sum(v)\n");
    let dir = script.dir.path().to_string_lossy().into_owned();
    let mut child = jot("jot-build")
        .arg(&script.path)
        .args(["--arg-type", "Vector{Int}", "--compile"])
        .args(["--test-payload", "[1,2]", "--expect", "3"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // The compile step runs `bootstrap --compile` in a builder container of
    // the code's image (which carries the responder's labels): wait for it.
    let started = Instant::now();
    loop {
        let builder = jot_containers_from(&dir).iter().any(|(id, _)| {
            let inspected = Command::new("docker")
                .args(["inspect", "--format", "{{.Path}} {{.Args}}", id])
                .output()
                .unwrap();
            String::from_utf8_lossy(&inspected.stdout).contains("--compile")
        });
        if builder {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "jot-build ended first");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the compile step never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let stderr = lines.join().unwrap();
    let stdout = read_all(child.stdout.take());
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stdout.is_empty(), "a descriptor was printed: {stdout}");
    assert!(stderr.contains("interrupted while compiling"), "{stderr}");
    // The engine ends the build when its client goes; its container goes with it.
    assert!(
        jot_tests::serve::eventually(Duration::from_secs(30), || jot_containers_from(&dir)
            .is_empty()),
        "containers left: {:?}",
        jot_containers_from(&dir)
    );
    assert_eq!(jot_images_from(&dir), Vec::new(), "images left");
}
