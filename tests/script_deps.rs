//! A script's dependency from a private Julia registry, offline: the
//! registry and the package are git repositories made on disk by the test and
//! served by `git daemon` on loopback (as a team's git server would serve
//! them); `jot-build --dep --registry-url` installs the package with Pkg into
//! a cached layer of its own, the image runs it, and an edit of the script
//! does not install it again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jot_tests::{aws, inspect_image, jot, json, outcome, run};

const PACKAGE_UUID: &str = "7a1c3b52-6a39-4c1e-9d36-5a3e0b1f2c01";
const REGISTRY_UUID: &str = "0c9f6a7e-2b1d-4e8f-a3c5-9d7e1f2a3b04";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=jot",
            "-c",
            "user.email=jot@example.invalid",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn commit_all(dir: &Path) {
    git(dir, &["init", "-q", "-b", "master"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "init"]);
}

/// `git daemon` serving `base` on a free loopback port, stopped on drop.
struct GitDaemon(Child, u16);

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git_daemon(base: &Path) -> GitDaemon {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("git")
        .args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start git daemon");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    GitDaemon(child, port)
}

/// The package `Greeting` and a registry listing it, as git repositories under `base`.
fn make_registry(base: &Path, port: u16) {
    let package = base.join("Greeting");
    std::fs::create_dir_all(package.join("src")).unwrap();
    std::fs::write(
        package.join("Project.toml"),
        format!("name = \"Greeting\"\nuuid = \"{PACKAGE_UUID}\"\nversion = \"0.1.0\"\n"),
    )
    .unwrap();
    std::fs::write(
        package.join("src/Greeting.jl"),
        "module Greeting\ngreet(who) = \"hello, $(who), from a private registry\"\nend\n",
    )
    .unwrap();
    commit_all(&package);
    let tree = git(&package, &["rev-parse", "HEAD^{tree}"]);
    let registry = base.join("Registry");
    let entry = registry.join("G/Greeting");
    std::fs::create_dir_all(&entry).unwrap();
    std::fs::write(
        registry.join("Registry.toml"),
        format!("name = \"JotTestRegistry\"\nuuid = \"{REGISTRY_UUID}\"\nrepo = \"git://127.0.0.1:{port}/Registry\"\n\n[packages]\n{PACKAGE_UUID} = {{ name = \"Greeting\", path = \"G/Greeting\" }}\n"),
    )
    .unwrap();
    std::fs::write(
        entry.join("Package.toml"),
        format!("name = \"Greeting\"\nuuid = \"{PACKAGE_UUID}\"\nrepo = \"git://127.0.0.1:{port}/Greeting\"\n"),
    )
    .unwrap();
    std::fs::write(
        entry.join("Versions.toml"),
        format!("[\"0.1.0\"]\ngit-tree-sha1 = \"{tree}\"\n"),
    )
    .unwrap();
    commit_all(&registry);
}

/// The dependency stages in the engine, as `jot-deps:TAG@IMAGE-ID` (the id
/// changes when a stage is built again, even under the same content-derived tag).
fn deps_stages() -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "images",
            "jot-deps",
            "--no-trunc",
            "--format",
            "{{.Repository}}:{{.Tag}}@{{.ID}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The layer digests of an image (its root file system, base first).
fn layers(image: &str) -> Vec<serde_json::Value> {
    inspect_image(image)["RootFS"]["Layers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_dependency_from_a_private_registry_offline_in_a_cached_layer() {
    let base = tempfile::tempdir().unwrap();
    let daemon = git_daemon(base.path());
    make_registry(base.path(), daemon.1);
    let before = deps_stages();
    let name = aws::unique("jot-deps");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("greet_it.jl");
    std::fs::write(
        &script,
        "using Greeting\ngreet_it(who) = Greeting.greet(who)\n",
    )
    .unwrap();
    // The dependency and the registry come from jot.toml; the test from the flags.
    std::fs::write(
        dir.path().join("jot.toml"),
        format!("deps = [\"Greeting@0.1\"]\nregistry_urls = [\"git://127.0.0.1:{}/Registry\"]\nbuild_args = {{ JOT_TEST_ARG = \"1\" }}\n", daemon.1),
    )
    .unwrap();
    let build = |extra: &[&str]| {
        let started = Instant::now();
        let output = run(jot("jot-build")
            .arg(&script)
            .args([
                "--name",
                &name,
                "--arg-type",
                "String",
                "--test-payload",
                "\"jot\"",
            ])
            .args(["--expect", "\"hello, jot, from a private registry\""])
            .args(extra));
        (outcome(&output), started.elapsed())
    };
    let ((code, stdout, stderr), _) = build(&[]);
    let new_stages: Vec<String> = deps_stages()
        .into_iter()
        .filter(|s| !before.contains(s))
        .collect();
    let cleanup = |images: &[String]| {
        for image in images {
            let image = image.split('@').next().unwrap_or(image);
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", image])
                .output();
        }
    };
    let mut images = new_stages.clone();
    let first = (code == 0).then(|| {
        json(&stdout)["local_image"]["image"]
            .as_str()
            .unwrap()
            .to_string()
    });
    images.extend(first.clone());
    if code != 0 {
        cleanup(&images);
        panic!("jot-build with a private dependency failed: {stderr}");
    }
    assert_eq!(new_stages.len(), 1, "one dependency stage: {new_stages:?}");
    // An edit of the script: the dependency layer is reused (no install).
    std::fs::write(
        &script,
        "using Greeting\n# edited\ngreet_it(who) = Greeting.greet(who)\n",
    )
    .unwrap();
    let ((code, stdout, stderr), took) = build(&[]);
    if code == 0 {
        images.push(
            json(&stdout)["local_image"]["image"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let after: Vec<String> = deps_stages()
        .into_iter()
        .filter(|s| !before.contains(s))
        .collect();
    // The edited image sits on that very stage: its layers are the stage's and more.
    let stage_layers = layers(new_stages[0].split('@').nth(1).unwrap());
    let image_layers = if code == 0 {
        layers(images.last().unwrap())
    } else {
        Vec::new()
    };
    cleanup(&images);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("installing"),
        "an edit installed the dependencies again: {stderr}"
    );
    assert_eq!(
        after, new_stages,
        "no second dependency stage (same image id)"
    );
    assert!(
        image_layers.starts_with(&stage_layers),
        "the edited image is not built on the cached stage"
    );
    assert!(took < Duration::from_secs(60), "the rebuild took {took:?}");
    assert_ne!(first.as_deref(), images.last().map(String::as_str));
}
