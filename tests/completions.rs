//! shell-completions/ must match the clap definitions of every executable:
//! this fails when a flag changes and `make completions` was not run.

use jot_tests::*;

#[test]
fn shell_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut tools: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| bin_dir().join(name).exists())
        .collect();
    tools.sort();
    assert!(tools.len() >= 3, "found executables: {tools:?}");
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
