//! `jot-build --compile`: the exemplar session (the test events through the
//! built image, traced) is baked into the image, so the first request compiles
//! none of the responder; a failing exemplar is a clear error that leaves no
//! image; an edit rebuilds only the code and compiled layers. Real Docker, real
//! Julia: on the test base image (1.5: the system-image path), and on it with
//! the test switch `JOT_PACKAGE_IMAGES=1` (the package-image path of Julia >=
//! 1.9, whose logic runs on 1.5 too; docs/julia.md). One compiled image and its
//! edit are shared by the assertions: a compiled build takes minutes.

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
/// (`bootstrap --julia`: its flags and system image, the image's environment).
fn in_compiled_julia(image: &str, code: &str) -> String {
    in_image(image, &["/opt/jot/bootstrap", "--julia", "-e", code])
}

/// The standard output of a command in a fresh container of `image`.
fn in_image(image: &str, command: &[&str]) -> String {
    let out = std::process::Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--entrypoint"])
        .arg(command[0])
        .arg(image)
        .args(&command[1..])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn compiled(path: &std::path::Path, base: &str) -> String {
    let args = [
        "--base-image",
        base,
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

/// Julia >= 1.9 keeps native code in package images; before, only the
/// system image holds native code.
fn native_package_images(base: &str) -> bool {
    julia_version(base) >= (1, 9)
}

#[test]
fn a_compiled_image_compiles_none_of_the_responder_at_its_first_request_and_an_edit_changes_only_its_last_layers()
 {
    let base = base_image();
    let script = script("summarise_sales.jl", SUMMARY);
    let image = compiled(&script.path, &base);
    check_compiled(&image);
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
    if native_package_images(&base) {
        check_package_image(&image);
    } else {
        check_system_image(&image);
    }
    // …where the same responder built without --compile does.
    let plain = json(build(&script.path, &["--arg-type", "Vector{Sale}"]).trim());
    let plain = plain["local_image"]["image"].as_str().unwrap().to_string();
    let (after_init, _) = traced_first_request(&plain);
    assert!(
        after_init.contains("summarise_sales"),
        "no trace of the responder in the uncompiled image's first request:\n{after_init}"
    );
    check_edit(&script, &image, &base, true);
}

/// The package-image path on the test base image (Julia 1.5 with the test
/// switch): the build succeeds, JotCompiled loads at the cold start from the
/// image's depot, nothing is compiled into the writable depot at the first
/// request, and the responder's own signatures are among those compiled. (On
/// 1.5 a package image holds no native code, so the first request still
/// compiles the responder's methods to native code: from 1.9 it must not.)
#[test]
fn the_package_image_path_loads_jotcompiled_from_the_image_and_compiles_nothing_again() {
    let base = package_image_base();
    let script = script("summarise_sales.jl", SUMMARY);
    let image = compiled(&script.path, &base);
    check_compiled(&image);
    check_package_image(&image);
    let (after_init, _) = traced_first_request(&image);
    assert!(
        !after_init.contains("warning"),
        "the compiled responder was loaded again:\n{after_init}"
    );
    let native = native_package_images(&base);
    assert!(
        !native || !(after_init.contains("summarise_sales") || after_init.contains("Sale")),
        "the first request to the compiled image compiled the responder:\n{after_init}"
    );
    // A run-time flag that would make Julia (>= 1.9) reject the image's caches
    // is refused with the reason, not paid for at every cold start.
    let (code, _, stderr) = outcome(&run(jot("jot-invoke").args([
        "--local",
        "--image",
        &image,
        "--payload",
        PAYLOAD,
        "--logs",
        "--env",
        "JOT_JULIA_FLAGS=-O2",
    ])));
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("jot: JOT_JULIA_FLAGS: -O2 would make Julia reject every package image"),
        "{stderr}"
    );
    check_edit(&script, &image, &base, native);
}

/// What every compiled image shows: its label, no exemplar stage left, and
/// the responder's own traced signatures among those compiled into it (the
/// trace names them `Main.…`, wherever the compiled image keeps them).
fn check_compiled(image: &str) {
    assert!(
        !image_exists(&format!("{image}-exemplar")),
        "the exemplar stage stays tagged"
    );
    assert_eq!(
        inspect_image(image)["Config"]["Labels"]["dev.jot.compiled"],
        "exemplar"
    );
    let compiled = in_image(image, &["cat", "/opt/jot/compiled/precompiled.txt"]);
    let own: Vec<&str> = compiled
        .lines()
        .filter(|l| l.contains("Main.summarise_sales"))
        .collect();
    assert!(
        own.iter()
            .any(|l| l.contains("Array{Main.Sale, 1}") || l.contains("Vector{Main.Sale}")),
        "the responder's own signatures are not among the compiled ones:\n{compiled}"
    );
}

/// The system-image path (Julia < 1.9): the runtime starts with the compiled
/// system image, grown from the lean base (Base, the runtime's stdlibs and
/// what the responder loads), not from Julia's default image.
fn check_system_image(image: &str) {
    let modules = in_compiled_julia(
        image,
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
}

/// The package-image path: no system image of the responder; init (as the
/// runtime runs it, in the image's environment) takes the function from
/// JotCompiled, loaded from the cache in the image's depot; neither loading
/// it nor the first request's work writes a cache into the writable depot.
fn check_package_image(image: &str) {
    let found = in_image(
        image,
        &[
            "sh",
            "-c",
            "ls /opt/jot; ls /opt/jot/depot/compiled/*/ | grep -c JotCompiled; true",
        ],
    );
    assert!(
        found.lines().any(|l| l == "package-images") && !found.contains("responder-sys.so"),
        "{found}"
    );
    assert_ne!(
        found.lines().last(),
        Some("0"),
        "no JotCompiled cache: {found}"
    );
    let init = in_compiled_julia(
        image,
        &format!(
            "push!(LOAD_PATH, \"/opt/jot\"); using JotRuntime; cfg = JotRuntime.Config(); \
             _, f, T, ctx = JotRuntime.load_responder(cfg); \
             depot = joinpath(DEPOT_PATH[1], \"compiled\"); print(parentmodule(f), ' ', isdir(depot)); \
             Base.invokelatest(JotRuntime.warm_call, f, T, ctx, cfg, {PAYLOAD:?}); \
             print(' ', isdir(depot) ? readdir(depot) : \"none\")"
        ),
    );
    assert_eq!(
        init, "JotCompiled false none",
        "JotCompiled was not loaded from the image's depot, or the first request compiled a cache"
    );
}

/// An edit: the runtime and base layers stay; the code and compiled ones change.
/// `native`: the compiled image holds the responder's native code.
fn check_edit(script: &Script, image: &str, base: &str, native: bool) {
    std::fs::write(&script.path, format!("{SUMMARY}\n# edited\n")).unwrap();
    let edited = compiled(&script.path, base);
    assert_ne!(edited, image);
    let (before, after) = (layers(image), layers(&edited));
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
    assert!(!after_init.contains("warning"), "{after_init}");
    assert!(
        !native || !after_init.contains("summarise_sales"),
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

/// A package responder with `--compile-tests` on the package-image path: its
/// test suite runs while JotCompiled is precompiled (in a module of JotCompiled's
/// own: Julia refuses evaluation into any other then), and its argument type,
/// one of the package's own, is found without evaluating code in the package
/// (closed then too). A failing suite is a build error (exit 7).
#[test]
fn a_package_compiled_with_its_tests_on_the_package_image_path() {
    let base = package_image_base();
    let dir = workdir();
    let _built = BuiltUnder(dir.path().to_path_buf());
    for sub in ["src", "test"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    std::fs::write(
        dir.path().join("Project.toml"),
        "name = \"Tally\"\nuuid = \"6c1f0b7e-2a44-4d0b-9f1e-7b5d3c2a9e10\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/Tally.jl"),
        "module Tally\nstruct Item\n    n::Int\nend\ntally(v::Vector{Item}) = sum(i -> i.n, v)\nend\n",
    )
    .unwrap();
    let suite = |body: &str| {
        std::fs::write(
            dir.path().join("test/runtests.jl"),
            format!("using Test, Tally\n@testset \"Tally\" begin\n    {body}\nend\n"),
        )
        .unwrap();
    };
    // A failed compile's report goes under XDG_STATE_HOME: the test's directory.
    let state = dir.path().join("state");
    let build = || {
        outcome(&run(jot("jot-build")
            .arg(dir.path())
            .args([
                "--base-image",
                &base,
                "--function",
                "tally",
                "--arg-type",
                "Vector{Item}",
                "--compile-tests",
                "--test-payload",
                r#"[{"n":2},{"n":3}]"#,
                "--expect",
                "5",
            ])
            .env("XDG_STATE_HOME", &state)))
    };
    suite("@test Tally.tally([Tally.Item(1), Tally.Item(2)]) == 3");
    let (code, descriptor, stderr) = build();
    assert_eq!(code, 0, "{stderr}");
    let image = json(&descriptor)["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    let compiled = in_image(&image, &["cat", "/opt/jot/compiled/precompiled.txt"]);
    assert!(
        compiled.contains("Tally.tally"),
        "the package's own signatures are not among the compiled ones:\n{compiled}"
    );
    let init = in_compiled_julia(
        &image,
        "push!(LOAD_PATH, \"/opt/jot\"); using JotRuntime; \
         _, f, T, _ = JotRuntime.load_responder(JotRuntime.Config()); \
         print(isdefined(Main, :JotCompiled), ' ', f, ' ', T, ' ', \
               isdir(joinpath(DEPOT_PATH[1], \"compiled\")))",
    );
    assert_eq!(init, "true tally Array{Tally.Item,1} false");

    suite("@test Tally.tally([Tally.Item(1)]) == 2");
    let (code, descriptor, stderr) = build();
    assert_eq!(code, 7, "{stderr}");
    assert!(descriptor.is_empty(), "{descriptor}");
    // One line: the workload's own reason, and where the whole output is
    // (the failed test with its expression, Julia's account of the failed
    // precompilation).
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("jot-build: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let (line, report) = errors[0]
        .split_once("; the whole build output is in ")
        .unwrap_or_else(|| panic!("no report path: {stderr}"));
    assert!(
        line.starts_with("jot-build: error: build failed: ")
            && line.ends_with(
                ": --compile failed: --compile-tests: the package's test suite failed: Some tests did not pass: 0 passed, 1 failed, 0 errored, 0 broken."
            ),
        "{line}"
    );
    assert!(report.starts_with(state.to_str().unwrap()), "{report}");
    let report = std::fs::read_to_string(report).unwrap();
    assert!(
        report.contains("Test Failed at ") && report.contains("Tally.tally([Tally.Item(1)]) == 2"),
        "{report}"
    );
}
