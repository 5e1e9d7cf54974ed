//! jot-rm on a terminal asks before deleting, and deletes only on yes
//! (README: "asks on a terminal; --yes without one"). `script` gives it a
//! pseudo-terminal; the answer is typed into it.

use jot_tests::*;

/// A tiny image carrying jot's labels (imported, no build), named `name`,
/// its source under a fresh [`workdir`] so the leftovers check sees it.
fn labelled_image(name: &str) -> (tempfile::TempDir, String) {
    let dir = workdir();
    std::fs::write(dir.path().join("f.jl"), "f(x) = x\n").unwrap();
    let image = format!("{name}:pty");
    let source = dir.path().join("f.jl");
    let imported = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C {dir} -c f.jl | docker import \
             --change 'LABEL dev.jot.name={name}' \
             --change 'LABEL dev.jot.tree-hash=0123456789abcdef' \
             --change 'LABEL dev.jot.function=f' \
             --change 'LABEL org.opencontainers.image.source={source}' - {image}",
            dir = dir.path().display(),
            source = source.display(),
        ))
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    (dir, image)
}

/// `jot-rm --only local NAME` on a pseudo-terminal with `typed` as the answer:
/// (exit code, what the terminal showed).
fn rm_on_terminal(name: &str, typed: &str) -> (i32, String) {
    ensure_built();
    let tool = bin_dir().join("jot-rm");
    let output = run_with_stdin(
        std::process::Command::new("script")
            .arg("-qec")
            .arg(format!(
                "{} --only local --color never {name}",
                tool.display()
            ))
            .arg("/dev/null"),
        typed.as_bytes(),
    );
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).replace('\r', ""),
    )
}

#[test]
fn jot_rm_asks_on_a_terminal_and_deletes_only_on_yes() {
    let name = aws::unique("rm-pty");
    let (_dir, image) = labelled_image(&name);

    let (code, shown) = rm_on_terminal(&name, "n\n");
    assert!(shown.contains("delete these 1? [y/N] "), "{shown}");
    assert!(shown.contains("nothing deleted"), "{shown}");
    assert_eq!(code, 2, "not confirmed is a usage error: {shown}");
    assert!(image_exists(&image), "deleted without a yes");

    // Enter alone is the default, no.
    let (code, _) = rm_on_terminal(&name, "\n");
    assert_eq!(code, 2);
    assert!(image_exists(&image), "deleted on an empty answer");

    let (code, shown) = rm_on_terminal(&name, "y\n");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("deleted "), "{shown}");
    assert!(!image_exists(&image), "not deleted on yes: {shown}");
}
