//! Helpers for the end-to-end tests: they run the real jot executables
//! (built by `cargo build` into the same target directory) against the real
//! Docker engine, real Julia images and, for the AWS tests, MiniStack.

pub mod aws;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The offline Julia base image the tests build on (see scripts/ensure-julia-image.sh).
pub fn base_image() -> String {
    std::env::var("JOT_TEST_BASE_IMAGE").unwrap_or_else(|_| "jot/julia:1.5.3-bullseye".into())
}

/// Directory holding the built jot executables (target/debug).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/test-xxxx -> target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// A command for one jot executable, with the test base image and a clean environment.
pub fn jot(tool: &str) -> Command {
    let path = bin_dir().join(tool);
    assert_fresh(&path);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build` before the tests (make test does)",
        path.display()
    );
    let mut command = Command::new(path);
    command.env("JOT_BASE_IMAGE", base_image());
    command
}

/// Builds the executables once per test binary (a no-op when they are up to
/// date), so a plain `cargo test` after an edit never tests old binaries.
fn assert_fresh(binary: &Path) {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--workspace", "--bins"])
            .output()
            .map_err(|e| e.to_string())?;
        output
            .status
            .success()
            .then_some(())
            .ok_or_else(|| String::from_utf8_lossy(&output.stderr).into_owned())
    });
    if let Err(e) = built {
        panic!(
            "cargo build of the executables failed, so {} would be stale:\n{e}",
            binary.display()
        );
    }
}

/// Runs a command with `stdin` as its standard input and returns its output.
pub fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jot tool");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait for jot tool")
}

/// Runs a command with no input.
pub fn run(command: &mut Command) -> Output {
    run_with_stdin(command, b"")
}

/// A Julia script in a fresh temporary directory.
pub struct Script {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn script(file_name: &str, code: &str) -> Script {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(file_name);
    std::fs::write(&path, code).expect("write script");
    Script { dir, path }
}

/// `jot-build` of one path with extra arguments; panics with stderr on failure.
pub fn build(path: &Path, extra: &[&str]) -> String {
    let output = run(jot("jot-build").arg(path).args(extra));
    assert!(
        output.status.success(),
        "jot-build {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 descriptor")
}

/// `jot-build` of a script made from `code`: the script (keep it while the
/// image is used) and the image reference.
pub fn image_of(file: &str, code: &str, args: &[&str]) -> (Script, String) {
    let script = script(file, code);
    let descriptor = json(build(&script.path, args).trim());
    let image = descriptor["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    (script, image)
}

/// Exit code, stdout and stderr of an output, for assertions.
pub fn outcome(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

/// Parses stdout as one JSON value.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `docker image inspect` of one image, as JSON; panics when there is none.
pub fn inspect_image(image: &str) -> serde_json::Value {
    let output = Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .expect("run docker image inspect");
    assert!(output.status.success(), "docker image inspect {image}");
    json(&String::from_utf8_lossy(&output.stdout))[0].clone()
}
