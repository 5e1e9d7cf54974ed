//! `jot-build --pull` (README, docs/reference.md: the base image "is pulled
//! only with `--pull` (which also refreshes a local copy)"), against a
//! registry on loopback (MiniStack's) holding a tiny base image the test
//! made: no internet. The build stops at `--architecture arm64` (the base is
//! the host's x86_64), which jot checks after the pull, so no runtime stage
//! is built for a base that is not Julia.

use std::process::Command;

use jot_tests::aws;
use jot_tests::*;

/// Removes the test's images (by id and by reference) and its repository.
struct Owned {
    references: Vec<String>,
    _repository: aws::Cleanup,
}

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "-f"])
            .args(&self.references)
            .output();
    }
}

fn docker(args: &[&str]) -> String {
    let output = run(Command::new("docker").args(args));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "docker {args:?}: {stderr}");
    stdout
}

/// A one-file image tagged `reference`, made with `docker import`: its id.
fn tiny_image(reference: &str, content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("version"), content).unwrap();
    let output = run(Command::new("sh").arg("-c").arg(format!(
        "tar -C {} -c version | docker import - {reference}",
        dir.path().display()
    )));
    assert!(output.status.success(), "{output:?}");
    image_id(reference).expect("the imported image")
}

fn image_id(reference: &str) -> Option<String> {
    let output =
        run(Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", reference]));
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// `jot-build` on `base` stopped at the architecture check: (exit code, stderr).
fn build_on(script: &Script, base: &str, pull: bool) -> (i32, String) {
    let mut command = jot("jot-build");
    command
        .arg(&script.path)
        .args(["--base-image", base, "--architecture", "arm64"]);
    if pull {
        command.arg("--pull");
    }
    let (code, stdout, stderr) = outcome(&run(&mut command));
    assert!(stdout.is_empty(), "{stdout}");
    (code, stderr)
}

#[test]
fn pull_fetches_a_missing_base_and_refreshes_a_stale_one() {
    aws::require_ministack();
    let repository = aws::unique("pull-base");
    aws::ecr(
        "CreateRepository",
        serde_json::json!({"repositoryName": repository}),
    );
    let base = format!("{}/{repository}:v", aws::HOST);
    let old_ref = format!("{repository}-old:v");
    let _owned = Owned {
        references: vec![base.clone(), old_ref.clone()],
        _repository: aws::Cleanup {
            repositories: vec![repository.clone()],
            functions: Vec::new(),
            roles: Vec::new(),
        },
    };
    let script = script("pull_probe.jl", "pull_probe(x) = x\n");
    let arch_refusal = "--architecture arm64";

    // In the registry only.
    let first = tiny_image(&base, "1");
    docker(&["push", &base]);
    docker(&["image", "rm", &base]);
    assert_eq!(image_id(&base), None);

    // Without --pull: refused, nothing fetched.
    let (code, stderr) = build_on(&script, &base, false);
    assert_eq!(
        (code, stderr),
        (
            7,
            format!(
                "jot-build: error: build failed: base image {base} is not in the local engine; add --pull to pull it, or pass --base-image IMAGE (or set JOT_BASE_IMAGE)"
            )
        )
    );
    assert_eq!(image_id(&base), None, "fetched without --pull");

    // With --pull: fetched, then the build goes on to the architecture check.
    let (code, stderr) = build_on(&script, &base, true);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains(arch_refusal), "{stderr}");
    assert_eq!(
        image_id(&base).as_deref(),
        Some(first.as_str()),
        "not pulled"
    );

    // A newer image under the same tag in the registry; the local copy is the
    // old one (kept under a second reference, so the engine still holds it).
    docker(&["tag", &base, &old_ref]);
    let second = tiny_image(&base, "2");
    assert_ne!(first, second);
    docker(&["push", &base]);
    docker(&["tag", &old_ref, &base]);
    assert_eq!(image_id(&base).as_deref(), Some(first.as_str()));

    // Without --pull the stale copy is used as it is.
    let (code, stderr) = build_on(&script, &base, false);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains(arch_refusal), "{stderr}");
    assert_eq!(
        image_id(&base).as_deref(),
        Some(first.as_str()),
        "refreshed without --pull"
    );

    // --pull refreshes it.
    let (code, stderr) = build_on(&script, &base, true);
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(
        image_id(&base).as_deref(),
        Some(second.as_str()),
        "the stale local copy was not refreshed: {stderr}"
    );
}
