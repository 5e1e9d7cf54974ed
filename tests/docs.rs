//! The documented contract of every executable: the exit table in README.md
//! is the one in code, every `--help` ends with its exit codes, a closed
//! stdout ends quietly, and hostile input is refused before anything acts.

use jot_core::error::exit;
use jot_tests::*;

const TOOLS: &[&str] = &[
    "jot",
    "jot-build",
    "jot-config",
    "jot-invoke",
    "jot-serve",
    "jot-push",
    "jot-deploy",
    "jot-ls",
    "jot-rm",
    "jot-logs",
];

#[test]
fn readme_exit_table_is_the_one_in_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&exit::markdown()),
        "README.md's exit table differs from jot_core::error::exit::TABLE; paste:\n{}",
        exit::markdown()
    );
}

#[test]
fn every_help_names_its_exit_codes_and_an_example() {
    for tool in TOOLS {
        let output = run(jot(tool).arg("--help"));
        assert!(output.status.success(), "{tool}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Exit status:"), "{tool} --help:\n{help}");
        assert!(help.contains("  0  success"), "{tool}");
        assert!(help.contains("Example:"), "{tool} --help has no example");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::Stdio;
    for args in [&["--list"][..], &["--help"][..]] {
        let mut child = jot("jot")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away at once, as `| head -0`
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "jot {args:?} with a closed stdout: {stderr}"
        );
    }
}

#[test]
fn binary_garbage_on_stdin_is_bad_input() {
    for tool in [
        "jot-push",
        "jot-deploy",
        "jot-invoke",
        "jot-serve",
        "jot-rm",
        "jot-logs",
    ] {
        let output = run_with_stdin(&mut jot(tool), b"\xff\xfe\x00\x01garbage\n");
        assert_eq!(output.status.code(), Some(5), "{tool}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{tool}: {stderr}");
        assert!(stderr.contains("line 1: not UTF-8"), "{tool}: {stderr}");
    }
}

#[test]
fn an_image_field_that_is_not_a_reference_never_reaches_the_engine() {
    let line = r#"{"jot":1,"kind":"local_image","name":"evil","responder":{"source":"/x.jl","kind":"script","function":"evil","arg_type":"Any","tree_hash":"00"},"local_image":{"image":"evil:tag --privileged","id":"sha256:00"}}"#;
    for tool in ["jot-invoke", "jot-push", "jot-serve"] {
        let output = run_with_stdin(&mut jot(tool), format!("{line}\n").as_bytes());
        assert_eq!(output.status.code(), Some(5), "{tool}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("local_image.image"), "{tool}: {stderr}");
    }
}

#[test]
fn out_of_range_counts_are_usage_errors() {
    let cases: &[(&str, &[&str])] = &[
        ("jot-invoke", &["--image", "x:y", "--repeat", "0"]),
        ("jot-serve", &["--max-concurrency", "18446744073709551615"]),
        ("jot-serve", &["--max-concurrency", "0"]),
    ];
    for (tool, args) in cases {
        let output = run(jot(tool).args(*args));
        assert_eq!(output.status.code(), Some(2), "{tool} {args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_front_command_runs_a_plugin_found_only_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("jot-hello");
    std::fs::write(&plugin, "#!/bin/sh\necho \"hello $*\"\nexit 7\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = run(jot("jot").env("PATH", &path).args(["hello", "a", "b"]));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "hello a b\n");
    assert_eq!(
        output.status.code(),
        Some(7),
        "the plugin's status is jot's"
    );
    let listed = run(jot("jot").env("PATH", &path).arg("--list"));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("hello"));
}

#[test]
fn colour_follows_the_flag_then_no_color() {
    let bad = ["--image", "Bad Ref", "--color"];
    let stderr = |command: &mut std::process::Command| {
        let output = run(command);
        assert_eq!(output.status.code(), Some(5), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let red = "\x1b[31merror:\x1b[0m";
    assert!(stderr(jot("jot-invoke").args(bad).arg("always")).contains(red));
    let never = stderr(jot("jot-invoke").args(bad).arg("never"));
    assert!(
        !never.contains('\x1b') && never.contains("error:"),
        "{never}"
    );
    // Not a terminal, so auto means none; NO_COLOR too.
    let auto = stderr(jot("jot-invoke").args(bad).arg("auto").env("NO_COLOR", "1"));
    assert!(!auto.contains('\x1b'), "{auto}");
}

/// `auto` on a terminal: colour unless NO_COLOR is set to something (an
/// empty NO_COLOR does not count, as no-color.org says). `script` gives the
/// tool a pseudo-terminal for stderr.
#[test]
fn on_a_terminal_auto_colours_unless_no_color_is_set() {
    ensure_built();
    let tool = bin_dir().join("jot-invoke");
    let on_terminal = |no_color: Option<&str>| {
        let mut command = std::process::Command::new("script");
        command
            .args(["-qec"])
            .arg(format!("{} --image 'Bad Ref' --color auto", tool.display()));
        command.arg("/dev/null").env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let output = run(&mut command);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let red = "\x1b[31merror:\x1b[0m";
    let coloured = on_terminal(None);
    assert!(coloured.contains(red), "{coloured:?}");
    assert!(
        on_terminal(Some("")).contains(red),
        "an empty NO_COLOR is unset"
    );
    let plain = on_terminal(Some("1"));
    assert!(
        plain.contains("error:") && !plain.contains('\x1b'),
        "{plain:?}"
    );
}
