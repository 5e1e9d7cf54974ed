//! Every example in examples/ runs as its README says: the script responder
//! through the local emulator, and the team's Makefile (a package responder
//! with its own tests) end to end against the local emulator and MiniStack,
//! where a second `make deploy` with nothing changed does nothing and a code
//! change rebuilds, pushes and deploys a new version.

use std::path::Path;
use std::process::Command;

use jot_tests::aws::{self, aws_env};
use jot_tests::*;

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Copies the example directory `from` into `to` (examples are copied so
/// that their build/ and images belong to this test).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_script_example_answers_locally() {
    let dir = workdir();
    let _built = BuiltUnder(dir.path().to_path_buf());
    let path = dir.path().join("increment_vector.jl");
    std::fs::copy(examples().join("increment_vector.jl"), &path).unwrap();
    let descriptor = build(&path, &["--arg-type", "Vector{Int}"]);
    let output = run_with_stdin(
        jot("jot-invoke").args(["--payload", "[1,2,3]"]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "[2,3,4]");
}

/// `make TARGETS` in `dir` with the jot tools of this build, the test's base
/// image and MiniStack.
fn make(dir: &Path, name: &str, targets: &[&str]) -> (i32, String, String) {
    let mut command = Command::new("make");
    command
        .current_dir(dir)
        .args(targets)
        .arg(format!("JOT_BIN={}", bin_dir().display()))
        .arg(format!("NAME={name}"))
        .env("JOT_BASE_IMAGE", base_image());
    outcome(&run(aws_env(&mut command)))
}

#[test]
fn the_team_makefile_builds_tests_pushes_deploys_and_rebuilds_only_what_changed() {
    aws::require_ministack();
    ensure_built();
    let dir = workdir();
    let name = aws::unique("team");
    // The Makefile's pipelines print no descriptor the test sees.
    let _built = LocalImagesOf {
        name: name.clone(),
        dir: dir.path().to_path_buf(),
    };
    let _cleanup = aws::Cleanup::named(&name);
    copy_tree(&examples().join("team"), dir.path());

    let (code, stdout, stderr) = make(dir.path(), &name, &["deploy"]);
    assert_eq!(code, 0, "make deploy failed:\n{stdout}\n{stderr}");
    // The package's own tests ran, then the image answered jot.toml's payload.
    assert!(
        stdout.contains("days_between") && stdout.contains("Pass"),
        "{stdout}"
    );
    let deployed = json(
        std::fs::read_to_string(dir.path().join("build/function.ndjson"))
            .unwrap()
            .trim(),
    );
    assert_eq!(deployed["kind"], "function");
    assert_eq!(deployed["function"]["name"], name.as_str());
    let versions = aws::published_versions(&name);
    assert_eq!(versions.len(), 1, "{versions:?}");

    // Nothing changed: make runs no tool, and Lambda has no new version.
    let (code, stdout, stderr) = make(dir.path(), &name, &["deploy"]);
    assert_eq!(code, 0, "{stderr}");
    // (make's own lines name the work directory, which starts with jot-test-.)
    let ran = stdout
        .lines()
        .any(|line| !line.starts_with("make") && line.contains("jot-"));
    assert!(!ran, "a tool ran again:\n{stdout}");
    assert_eq!(aws::published_versions(&name), versions);

    // A code change: build, test, push and deploy again, one new version.
    let source = dir.path().join("DayCounter/src/DayCounter.jl");
    let code_text = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, format!("{code_text}# a change\n")).unwrap();
    let (code, stdout, stderr) = make(dir.path(), &name, &["deploy"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for tool in ["jot-build", "jot-invoke", "jot-push", "jot-deploy"] {
        assert!(stdout.contains(tool), "{tool} did not run:\n{stdout}");
    }
    assert_eq!(aws::published_versions(&name).len(), 2);

    // A failing package test stops before anything is pushed.
    let tests = dir.path().join("DayCounter/test/runtests.jl");
    let test_text = std::fs::read_to_string(&tests).unwrap();
    std::fs::write(&tests, test_text.replace("== 4", "== 5")).unwrap();
    let (code, stdout, _) = make(dir.path(), &name, &["deploy"]);
    assert_ne!(code, 0);
    assert!(!stdout.contains("jot-push"), "{stdout}");
    assert_eq!(aws::published_versions(&name).len(), 2);

    let (code, _, stderr) = make(dir.path(), &name, &["clean"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!dir.path().join("build").exists());
}
