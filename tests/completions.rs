//! shell-completions/ must match the clap definitions of every executable:
//! this fails when a flag changes and `make completions` was not run.

use jot_tests::*;

/// The executables: every crate with a src/main.rs, sorted.
fn executables(root: &std::path::Path) -> Vec<String> {
    let mut tools: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("src/main.rs").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    tools.sort();
    tools
}

#[test]
fn shell_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tools = executables(root);
    assert!(tools.len() >= 6, "found executables: {tools:?}");
    // Every file belongs to an executable that exists: none of a removed tool.
    let mut expected: Vec<String> = tools
        .iter()
        .flat_map(|t| [format!("{t}.bash"), format!("_{t}"), format!("{t}.fish")])
        .collect();
    expected.sort();
    let mut present: Vec<String> = std::fs::read_dir(root.join("shell-completions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".1"))
        .collect();
    present.sort();
    assert_eq!(
        present, expected,
        "shell-completions/ holds stale or missing files"
    );
    for tool in &tools {
        for (shell, file) in [
            ("bash", format!("{tool}.bash")),
            ("zsh", format!("_{tool}")),
            ("fish", format!("{tool}.fish")),
        ] {
            let output = run(jot(tool).args(["--generate-completions", shell]));
            assert!(output.status.success());
            let path = root.join("shell-completions").join(&file);
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == String::from_utf8_lossy(&output.stdout),
                "{} is stale or missing: run `make completions`",
                path.display()
            );
        }
    }
}

/// Each tool's man page (shell-completions/TOOL.1) is generated from its clap
/// definition: stale when a flag or its help changed without `make completions`.
#[test]
fn man_pages_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tools = executables(root);
    for tool in &tools {
        let output = run(jot(tool).arg("--generate-man"));
        assert!(output.status.success(), "{tool} --generate-man failed");
        let page = String::from_utf8_lossy(&output.stdout);
        assert!(
            page.starts_with(".ie") || page.contains(".TH"),
            "{tool}: not a man page"
        );
        assert!(
            page.contains("Example:"),
            "{tool}: man page lacks the example"
        );
        let path = root.join("shell-completions").join(format!("{tool}.1"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == page,
            "{} is stale or missing: run `make completions`",
            path.display()
        );
    }
}
