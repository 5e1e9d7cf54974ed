//! Helpers for the end-to-end tests: they run the real jot executables
//! (built by `cargo build` into the same target directory) against the real
//! Docker engine, real Julia images and, for the AWS tests, MiniStack.

pub mod aws;
pub mod lambda_proxy;
mod proxy;
pub mod registry_proxy;
pub mod serve;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

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
    // Every test build runs the build-time self-test (issue 12): a build whose
    // caches would be rebuilt at every cold start fails.
    if tool == "jot-build" {
        command.env("JOT_BUILD_SELF_TEST", "1");
    }
    command
}

/// Builds the executables once per test binary (a no-op when they are up to
/// date), so a plain `cargo test` after an edit never tests old binaries, and
/// a test that times a tool does not time the build.
pub fn ensure_built() {
    assert_fresh(&bin_dir());
}

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
/// Every image a descriptor on its stdout names becomes the test's (see
/// [`Script`]).
pub fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> Output {
    let output = spawn_with_stdin(command, stdin)
        .wait_with_output()
        .expect("wait for jot tool");
    own_described(&output.stdout);
    output
}

/// The local images the descriptors of this test binary named, as
/// (responder source, image id): what jot said it made, which the test owns
/// and removes (a [`Script`] or [`BuiltUnder`] when dropped). An image jot
/// built without saying so is not here: `tests/zz_leftovers.rs` finds it.
static OWNED: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Records the images named by the descriptors in `stdout` (one JSON object
/// a line; other lines are ignored).
pub fn own_described(stdout: &[u8]) {
    let described = String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|d| {
            let source = d["responder"]["source"].as_str()?.to_string();
            let id = d["local_image"]["id"].as_str()?.to_string();
            Some((source, id))
        })
        .collect::<Vec<_>>();
    OWNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(described);
}

/// Starts a command with `stdin` written to it and closed, and its stdout and
/// stderr piped, for tests that watch it while it runs.
pub fn spawn_with_stdin(command: &mut Command, stdin: &[u8]) -> Child {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jot tool");
    // A tool that refuses its arguments exits before reading stdin.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    child
}

/// Runs a command with no input.
pub fn run(command: &mut Command) -> Output {
    run_with_stdin(command, b"")
}

/// A Julia script in a fresh temporary directory. Dropping it removes the
/// images jot's descriptors said were built from it (a test owns what it was
/// told it made), and fails the test when a sandbox of them is still there.
pub struct Script {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// Writes `code` (plus a comment unique to this script, so no two tests or
/// runs share an image and each can remove its own) into a fresh directory.
pub fn script(file_name: &str, code: &str) -> Script {
    let dir = workdir();
    let path = dir.path().join(file_name);
    std::fs::write(&path, format!("{code}\n# {}\n", dir_tag(dir.path()))).expect("write script");
    Script { dir, path }
}

impl Drop for Script {
    fn drop(&mut self) {
        remove_owned_under(self.dir.path());
    }
}

/// The name every test directory of this run starts with: the test binaries
/// of one `cargo test` share its process id, so leftovers of this run (and
/// only of this run) can be found by the images' `org.opencontainers.image.source`.
pub fn run_prefix() -> String {
    let run = std::env::var("JOT_TEST_RUN")
        .unwrap_or_else(|_| std::os::unix::process::parent_id().to_string());
    format!("jot-test-{run}-")
}

/// A fresh temporary directory named with [`run_prefix`]; pair it with
/// [`BuiltUnder`] when images are built from it directly.
pub fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&run_prefix())
        .tempdir()
        .expect("temp dir")
}

fn dir_tag(dir: &Path) -> String {
    dir.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Removes, when dropped, the images descriptors named as built from sources
/// under a directory, like [`Script`]: for package responders built from a
/// [`workdir`].
pub struct BuiltUnder(pub PathBuf);

impl Drop for BuiltUnder {
    fn drop(&mut self) {
        remove_owned_under(&self.0);
    }
}

/// Removes, when dropped, the local images of jot `name` built from sources
/// under `dir` that the test made without a descriptor reaching it (a
/// pipeline inside `make`, jot-serve's `--watch` rebuilds). Only that name and
/// directory: whatever else jot left under `dir` stays for the leftovers check.
pub struct LocalImagesOf {
    pub name: String,
    pub dir: PathBuf,
}

impl Drop for LocalImagesOf {
    fn drop(&mut self) {
        let listed = Command::new("docker")
            .args(["images", "-q", "--no-trunc", "--filter"])
            .arg(format!("label=dev.jot.name={}", self.name))
            .output()
            .expect("run docker images");
        let prefix = self.dir.to_string_lossy().into_owned();
        let ids: std::collections::BTreeSet<String> = jot_images_from(&prefix)
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| String::from_utf8_lossy(&listed.stdout).contains(id.as_str()))
            .collect();
        remove_images(&ids);
    }
}

fn remove_images(ids: &std::collections::BTreeSet<String>) {
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["image", "rm", "-f"])
            .args(ids)
            .output();
    }
}

/// Sandboxes (containers with jot's labels) and images whose responder source
/// is under `prefix`, as (id, source) pairs.
pub fn jot_containers_from(prefix: &str) -> Vec<(String, String)> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=dev.jot.tree-hash",
            "--format",
        ])
        .arg("{{.ID}} {{.Label \"org.opencontainers.image.source\"}}")
        .output()
        .expect("run docker ps");
    pairs_under(&output.stdout, prefix)
}

pub fn jot_images_from(prefix: &str) -> Vec<(String, String)> {
    let listed = Command::new("docker")
        .args([
            "images",
            "-q",
            "--no-trunc",
            "--filter",
            "label=dev.jot.tree-hash",
        ])
        .output()
        .expect("run docker images");
    let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let output = Command::new("docker")
        .args(["image", "inspect", "--format"])
        .arg("{{.Id}} {{index .Config.Labels \"org.opencontainers.image.source\"}}")
        .args(&ids)
        .output()
        .expect("run docker image inspect");
    pairs_under(&output.stdout, prefix)
}

fn pairs_under(listing: &[u8], prefix: &str) -> Vec<(String, String)> {
    String::from_utf8_lossy(listing)
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, source)| source.starts_with(prefix))
        .map(|(id, source)| (id.to_string(), source.to_string()))
        .collect()
}

/// Removes the images descriptors named as built from under `dir` (with
/// their untagged parents, the engine's own pruning); fails the test (unless
/// it is failing already) when a sandbox was still there, and removes it.
fn remove_owned_under(dir: &Path) {
    let prefix = dir.to_string_lossy().into_owned();
    let stray = jot_containers_from(&prefix);
    for (id, _) in &stray {
        let _ = Command::new("docker").args(["rm", "-f", id]).output();
    }
    let owned: std::collections::BTreeSet<String> = OWNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(source, _)| source.starts_with(&prefix))
        .map(|(_, id)| id.clone())
        .collect();
    remove_images(&owned);
    if !std::thread::panicking() {
        assert!(
            stray.is_empty(),
            "sandboxes left behind by the test (now removed): {stray:?}"
        );
    }
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

/// Whether the engine has an image of that reference or id.
pub fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .expect("run docker image inspect")
        .status
        .success()
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

pub use serve::Serve;

/// An HTTP answer: status, head (the status and header lines) and body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One HTTP/1.1 request (Connection: close) to `host`; a body the server stops
/// reading early (a refused upload) still gets its answer.
pub fn http_request(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Answer {
        status,
        head: head.to_string(),
        body: rest.to_string(),
    })
}

/// A responder whose first call compiles a lot (structs sorted, grouped and
/// formatted with Printf), for the cold-start and `--compile` tests.
pub const SUMMARY: &str = r#"
using Printf
struct Sale
    region::String
    amount::Float64
end
function summarise_sales(sales::Vector{Sale})
    totals = Dict{String,Float64}()
    for s in sort(sales, by = s -> s.amount)
        totals[s.region] = get(totals, s.region, 0.0) + s.amount
    end
    [@sprintf("%s: %.2f", k, v) for (k, v) in sort(collect(totals))]
end
"#;

/// `jot-invoke --local` of `image` with a compile trace in the logs: what
/// was compiled after init (the `[jot] init:` line) and the `--json` report.
pub fn traced_first_request(image: &str) -> (String, serde_json::Value) {
    let output = run(jot("jot-invoke").args([
        "--local",
        "--image",
        image,
        "--payload",
        r#"[{"region":"b","amount":2.5},{"region":"a","amount":1}]"#,
        "--expect",
        r#"["a: 1.00","b: 2.50"]"#,
        "--logs",
        "--json",
        "--env",
        "JOT_JULIA_FLAGS=--trace-compile=stderr",
    ]));
    let (code, _, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let after_init = stderr
        .split_once("[jot] init: ")
        .unwrap_or_else(|| panic!("no init line:\n{stderr}"))
        .1
        .to_string();
    let report = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("cold_start").is_some())
        .unwrap_or_else(|| panic!("no --json report:\n{stderr}"));
    (after_init, report)
}

/// [`base_image`] with the test-only switch `JOT_PACKAGE_IMAGES=1` in its
/// environment (docs/julia.md): its runtime stage and `--compile` take the
/// package-image path of Julia >= 1.9 on any Julia, so that path runs on 1.5.
/// Made once (an `ENV` step: no network, no container) and kept, like the base
/// image and its runtime stage.
pub fn package_image_base() -> String {
    static MADE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let base = base_image();
        let name: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let tag = format!("jot-test/package-images:{name}");
        let mut child = Command::new("docker")
            .args(["build", "-q", "-t", &tag, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run docker build");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("FROM {base}\nENV JOT_PACKAGE_IMAGES=1\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "docker build of {tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tag
    })
    .clone()
}

/// The (major, minor) version of the `julia` in an image.
pub fn julia_version(image: &str) -> (u32, u32) {
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "julia",
            image,
        ])
        .args([
            "--startup-file=no",
            "-e",
            "print(VERSION.major, ' ', VERSION.minor)",
        ])
        .output()
        .expect("run docker");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split(' ').map(|p| p.trim().parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => panic!(
            "no Julia version from {image}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
