//! `jot-build --compile`: the exemplar session (the test events through the
//! built image, traced) is baked into the image, so the first request compiles
//! none of the responder; a failing exemplar is a clear error that leaves no
//! image; an edit rebuilds only the code and compiled layers. Real Docker, real
//! Julia 1.5 (the system-image path). One compiled image and its edit are
//! shared by the assertions: a compiled build takes minutes.

use jot_tests::*;

const PAYLOAD: &str = r#"[{"region":"b","amount":2.5},{"region":"a","amount":1}]"#;
const EXPECT: &str = r#"["a: 1.00","b: 2.50"]"#;

fn layers(image: &str) -> Vec<String> {
    inspect_image(image)["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// What `code` prints in Julia started as the image's runtime starts it
/// (`bootstrap --julia`: its flags and system image).
fn in_compiled_julia(image: &str, code: &str) -> String {
    let out = std::process::Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "host",
            image,
            "--julia",
            "-e",
            code,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn compiled(path: &std::path::Path) -> String {
    let args = [
        "--arg-type",
        "Vector{Sale}",
        "--compile",
        "--test-payload",
        PAYLOAD,
        "--expect",
        EXPECT,
        "--test-payload",
        r#"[{"region":"c","amount":0.5}]"#,
    ];
    let descriptor = json(build(path, &args).trim());
    descriptor["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_compiled_image_compiles_none_of_the_responder_at_its_first_request_and_an_edit_changes_only_its_last_layers()
 {
    let script = script("summarise_sales.jl", SUMMARY);
    let image = compiled(&script.path);
    assert!(
        !image_exists(&format!("{image}-exemplar")),
        "the exemplar stage stays tagged"
    );
    assert_eq!(
        inspect_image(&image)["Config"]["Labels"]["dev.jot.compiled"],
        "exemplar"
    );
    // The first request (traced_first_request checks its answer) compiles
    // none of the responder's methods…
    let (after_init, report) = traced_first_request(&image);
    assert!(
        !after_init.contains("summarise_sales") && !after_init.contains("Sale"),
        "the first request to the compiled image compiled the responder:\n{after_init}"
    );
    assert!(
        !after_init.contains("warning"),
        "the compiled responder was loaded again:\n{after_init}"
    );
    assert!(report["cold_start"]["responder_load_ms"].as_f64().is_some());
    // The compiled system image grew from the lean base (Base, the runtime's
    // stdlibs and what the responder loads), not from Julia's default image.
    let modules = in_compiled_julia(
        &image,
        "print(basename(unsafe_string(Base.JLOptions().image_file)), ' ', \
         join(sort!(map(string, collect(values(Base.loaded_modules)))), ' '))",
    );
    assert!(
        modules.starts_with("responder-sys.so "),
        "not started with the compiled image: {modules}"
    );
    let modules: Vec<&str> = modules.split(' ').collect();
    for wanted in ["Sockets", "Printf", "JotRuntime"] {
        assert!(modules.contains(&wanted), "{wanted} missing: {modules:?}");
    }
    for unwanted in [
        "LinearAlgebra",
        "Pkg",
        "REPL",
        "SparseArrays",
        "Distributed",
    ] {
        assert!(
            !modules.contains(&unwanted),
            "{unwanted} in the compiled image: {modules:?}"
        );
    }
    // …where the same responder built without --compile does.
    let plain = json(build(&script.path, &["--arg-type", "Vector{Sale}"]).trim());
    let plain = plain["local_image"]["image"].as_str().unwrap().to_string();
    let (after_init, _) = traced_first_request(&plain);
    assert!(
        after_init.contains("summarise_sales"),
        "no trace of the responder in the uncompiled image's first request:\n{after_init}"
    );

    // An edit: the runtime and base layers stay; the code and compiled ones change.
    std::fs::write(&script.path, format!("{SUMMARY}\n# edited\n")).unwrap();
    let edited = compiled(&script.path);
    assert_ne!(edited, image);
    let (before, after) = (layers(&image), layers(&edited));
    assert_eq!(before.len(), after.len(), "{before:?}\n{after:?}");
    let kept = before.len() - 3; // code, exemplar, compiled
    assert_eq!(
        before[..kept],
        after[..kept],
        "a layer below the code changed"
    );
    assert_ne!(before[kept], after[kept], "the code layer did not change");
    assert_ne!(
        before.last(),
        after.last(),
        "the compiled layer did not change"
    );
    let (after_init, _) = traced_first_request(&edited);
    assert!(
        !after_init.contains("summarise_sales") && !after_init.contains("warning"),
        "{after_init}"
    );
}

#[test]
fn a_failing_exemplar_is_a_clear_error_and_leaves_no_image() {
    let script = script("summarise_sales.jl", SUMMARY);
    let build = |extra: &[&str]| {
        let mut args = vec![
            "--arg-type",
            "Vector{Sale}",
            "--compile",
            "--name",
            "compile-fails",
        ];
        args.extend(extra);
        outcome(&run(jot("jot-build").arg(&script.path).args(&args)))
    };
    // The responder throws on the exemplar event.
    let (code, stdout, stderr) = build(&["--test-payload", r#"[{"region":"a"}]"#]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("jot-build: ") && last.contains("the function returned an error"),
        "{stderr}"
    );
    // The answer differs from --expect.
    let (code, stdout, stderr) = build(&["--test-payload", PAYLOAD, "--expect", r#"["no"]"#]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    // No exemplar at all is a usage error before anything is built.
    let (code, _, stderr) = build(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--compile needs an exemplar"), "{stderr}");
    let (code, _, stderr) = build(&["--test-payload", "1", "--compile-tests"]);
    assert_eq!(code, 2, "{stderr}");
    // Neither the stage nor a compiled image is left.
    let listed =
        run(std::process::Command::new("docker").args(["image", "ls", "-q", "compile-fails"]));
    assert!(
        String::from_utf8_lossy(&listed.stdout).trim().is_empty(),
        "images left: {}",
        String::from_utf8_lossy(&listed.stdout)
    );
}
