//! Unit tests of the build's pure parts: Dockerfile, environment, tags, archives, messages.

use std::collections::HashMap;

use super::*;
use crate::base::stale_base_note;
use crate::builder::build_failure;
use crate::context::{build_context, code_layer};
use crate::dockerfile::{render_dockerfile, responder_env};
use crate::layer::with_env;

fn request(dir: &std::path::Path) -> BuildRequest {
    let path = dir.join("f.jl");
    std::fs::write(&path, "f(x) = x\n").unwrap();
    BuildRequest {
        responder: Responder::load(&path, None, Some("Vector{Int}")).unwrap(),
        name: "f-name".into(),
        tag: None,
        base_image: "jot/julia:test".into(),
        pull: false,
        force: false,
        architecture: None,
        deps: Vec::new(),
        registry_urls: Vec::new(),
        build_args: Vec::new(),
        init: Default::default(),
        compile: None,
        full_sysimage: false,
    }
}

#[test]
fn the_dockerfile_pins_cpu_targets_and_depots_before_the_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = request(dir.path());
    let x86 = render_dockerfile(&request, &HashMap::new());
    let first_run = x86.find("\nRUN ").expect("a RUN step");
    let env = x86
        .find("ENV JULIA_DEPOT_PATH=/tmp/jot-depot:/opt/jot/depot \\\n")
        .expect("the writable depot first, the image's own behind it");
    let cpu = x86
        .find("JULIA_CPU_TARGET=\"generic;sandybridge,-xsaveopt,clone_all;haswell,-rdrnd,base(1);x86-64-v4,-rdrnd,base(1)\"")
        .expect("Julia's release CPU targets for x86_64 (with the x86-64-v4 clone of 1.10+ builds)");
    assert!(env < first_run && cpu < first_run, "{x86}");
    request.architecture = Some(jot_core::limits::Architecture::Arm64);
    let arm = render_dockerfile(&request, &HashMap::new());
    assert!(arm.contains(
        "JULIA_CPU_TARGET=\"generic;cortex-a57;thunderx2t99;carmel,clone_all;apple-m1,base(3);neoverse-512tvb,base(3)\""
    ));
    // The bundled depot is recorded at build time and appended by bootstrap.
    let bootstrap = template::RUNTIME_FILES
        .iter()
        .find(|f| f.path == "bootstrap")
        .map(|f| String::from_utf8_lossy(f.contents).into_owned())
        .unwrap();
    assert!(
        bootstrap.contains("Base.DATAROOTDIR, \"julia\"") && bootstrap.contains(">\"$bundled\"")
    );
    assert!(bootstrap.contains("export JULIA_DEPOT_PATH=\"$JULIA_DEPOT_PATH:$depot_dir\""));
}

#[test]
fn warm_up_flags_become_environment_and_change_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = request(dir.path());
    let plain = derive_tag(&request, "sha256:base");
    assert!(
        !responder_env(&request.responder, &request.init)
            .iter()
            .any(|(k, _)| k.starts_with("JOT_WARM"))
    );
    request.init.warmup_payload = Some("[1,2]".into());
    request.init.warmup_always = true;
    let env = responder_env(&request.responder, &request.init);
    assert!(env.contains(&("JOT_WARMUP_PAYLOAD", "[1,2]".to_string())));
    assert!(env.contains(&("JOT_WARM_UP", "1".to_string())));
    assert_ne!(derive_tag(&request, "sha256:base"), plain);
}

#[test]
fn a_script_dockerfile_is_the_shared_runtime_stage() {
    let dir = tempfile::tempdir().unwrap();
    let first = request(dir.path());
    let dockerfile = render_dockerfile(&first, &HashMap::new());
    assert!(dockerfile.starts_with("# Generated"));
    assert!(dockerfile.contains("FROM jot/julia:test"));
    assert!(dockerfile.contains("COPY runtime/"));
    assert!(!dockerfile.contains("{{"));
    assert!(
        !dockerfile.contains("COPY code/") && !dockerfile.contains("JOT_FUNCTION"),
        "a script's code and environment are jot's own layer and config"
    );
    // Another script, function and argument type: the same stage.
    let other_dir = tempfile::tempdir().unwrap();
    let path = other_dir.path().join("g.jl");
    std::fs::write(&path, "g(s::String) = s\n").unwrap();
    let mut other = first.clone();
    other.responder = Responder::load(&path, None, Some("String")).unwrap();
    assert_eq!(dockerfile, render_dockerfile(&other, &HashMap::new()));
    assert_eq!(
        runtime_stage_key(&first, "sha256:1"),
        runtime_stage_key(&other, "sha256:1")
    );
    assert_ne!(
        runtime_stage_key(&first, "sha256:1"),
        runtime_stage_key(&first, "sha256:2"),
        "a new base image needs a new stage"
    );
    let env = responder_env(&first.responder, &first.init);
    assert!(env.contains(&("JOT_ARG_TYPE", "Vector{Int}".to_string())));
    assert!(env.contains(&("JOT_RESPONDER_PATH", "/var/task/f.jl".to_string())));
}

#[test]
fn a_package_dockerfile_sets_its_environment_after_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Project.toml"),
        "name = \"Greeter\"\nuuid = \"8f5b7a42-2b55-4a6c-9c53-1d0e1c0f6b11\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/Greeter.jl"),
        "module Greeter\ngreet(x) = x\nend\n",
    )
    .unwrap();
    let mut package = request(dir.path());
    package.responder = Responder::load(dir.path(), Some("greet"), None).unwrap();
    let labels = HashMap::from([("dev.jot.function".to_string(), "greet".to_string())]);
    let dockerfile = render_dockerfile(&package, &labels);
    let runtime = dockerfile.find("COPY runtime/").unwrap();
    let env = dockerfile
        .find("ENV JOT_RESPONDER_KIND=\"package\"")
        .unwrap();
    let code = dockerfile.find("COPY code/").unwrap();
    assert!(runtime < env && env < code, "{dockerfile}");
    assert!(dockerfile.contains("_HANDLER=\"Greeter.greet\""));
    assert!(dockerfile.contains("LABEL \"dev.jot.function\"=\"greet\""));
    assert!(!dockerfile.contains("{{"));
}

#[test]
fn environment_overrides_replace_in_place_and_append() {
    let existing = vec![
        serde_json::Value::from("PATH=/usr/bin"),
        serde_json::Value::from("JOT_FUNCTION=old"),
    ];
    let env = with_env(
        Some(&existing),
        &[
            ("JOT_FUNCTION", "new".into()),
            ("JOT_ARG_TYPE", "Dict{String,Int}".into()),
        ],
    );
    assert_eq!(
        env,
        [
            "PATH=/usr/bin",
            "JOT_FUNCTION=new",
            "JOT_ARG_TYPE=Dict{String,Int}"
        ]
    );
    assert_eq!(with_env(None, &[("A", "b=c".into())]), ["A=b=c"]);
}

#[test]
fn derived_tags_follow_content() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path());
    let tag = derive_tag(&req, "sha256:1");
    assert_eq!(tag, derive_tag(&req, "sha256:1"));
    assert_ne!(tag, derive_tag(&req, "sha256:2"));
    req.responder.info.arg_type = "Any".into();
    assert_ne!(tag, derive_tag(&req, "sha256:1"));
    jot_core::names::validate_tag(&tag).unwrap();
}

#[test]
fn context_holds_dockerfile_and_runtime_and_the_layer_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let entries = |bytes: Vec<u8>| -> Vec<String> {
        tar::Archive::new(bytes.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
            .collect()
    };
    let script = request(dir.path());
    let dockerfile = render_dockerfile(&script, &HashMap::new());
    let context = entries(build_context(&dockerfile, &script.responder).unwrap());
    assert_eq!(context[0], "Dockerfile");
    // Every runtime file is shipped, and nothing the image must not carry.
    for wanted in ["runtime/bootstrap", "runtime/sysimage.jl"] {
        assert!(
            context.iter().any(|e| e == wanted),
            "{wanted} in {context:?}"
        );
    }
    assert!(
        context
            .iter()
            .any(|e| e.ends_with(".jl") && e.contains("JotRuntime"))
    );
    assert_eq!(context.len(), 1 + crate::template::RUNTIME_FILES.len());
    assert!(
        !context
            .iter()
            .any(|e| e.contains("/test/") || e.ends_with("README.md") || e.ends_with(".in")),
        "{context:?}"
    );
    let layer = code_layer(&request(dir.path()).responder).unwrap();
    assert_eq!(entries(layer), ["var/", "var/task/", "var/task/f.jl"]);
}

#[test]
fn notes_stale_base_images() {
    let now = humantime::parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
    let note = stale_base_note("julia:1.12", "2026-09-01T10:20:30.123456789Z", now).unwrap();
    assert_eq!(
        note,
        "note: base image julia:1.12 is 82 days old; rebuild with --pull to get its patches"
    );
    assert!(stale_base_note("julia:1.12", "2026-11-20T00:00:00Z", now).is_none());
    assert!(stale_base_note("julia:1.12", "garbage", now).is_none());
}

#[test]
fn build_failures_are_one_clean_line() {
    let log = vec![
        "\u{1b}[91mUndefVarError: x\n\u{1b}[0m".to_string(),
        "  ".to_string(),
    ];
    let error = build_failure("f:1", "returned 1\n", &log, &log.concat()).to_string();
    assert_eq!(
        error,
        "build failed: f:1: returned 1 (last build output: UndefVarError: x)"
    );
}

/// The cache-flag rules of `bootstrap` (Julia >= 1.9's jl_match_cache_flags
/// against caches built with -O1 -g1): run with `sh`, as the image runs it.
#[test]
fn run_time_flags_that_would_invalidate_the_package_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bootstrap");
    let bootstrap = template::RUNTIME_FILES
        .iter()
        .find(|f| f.path == "bootstrap")
        .unwrap();
    std::fs::write(&script, bootstrap.contents).unwrap();
    let check = |flags: &str| {
        let out = std::process::Command::new("sh")
            .arg(&script)
            .arg("--check-julia-flags")
            .args(flags.split_whitespace())
            .env_remove("JOT_JULIA_FLAGS")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for refused in [
        "-O2",
        "-O3",
        "-O",
        "--optimize=3",
        "-g2",
        "-g",
        "-g0",
        "--check-bounds=yes",
        "--check-bounds=no",
        "--inline=no",
        "-O1 --threads=2 -O2",
    ] {
        let (code, stderr) = check(refused);
        let flag = refused.rsplit(' ').next().unwrap();
        assert_eq!(code, Some(1), "{refused}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "jot: JOT_JULIA_FLAGS: {flag} would make Julia reject"
            )) && stderr.contains("built with -O1 -g1"),
            "{refused}: {stderr}"
        );
    }
    for allowed in [
        "",
        "-O0",
        "-O1",
        "-g1",
        "--check-bounds=auto",
        "--inline=yes",
        "--threads=2 --depwarn=error --trace-compile=stderr",
        "-O2 -O1",
    ] {
        assert_eq!(check(allowed), (Some(0), String::new()), "{allowed}");
    }
}

/// The tag hashes init and `--compile` options in a text spelled out in
/// tag.rs, the one tags were derived from since the first release (a debug
/// rendering then): every image built before keeps its tag, and a field's
/// rename cannot move them.
#[test]
fn the_tag_inputs_are_an_explicit_text_that_keeps_earlier_tags() {
    use crate::tag::{compile_input, init_input};
    let init = InitOptions {
        warmup_payload: Some("{\"a\":\"tab\\there\"}\n\u{1b}é".into()),
        warmup_always: true,
    };
    assert_eq!(
        init_input(&init),
        r#"InitOptions { warmup_payload: Some("{\"a\":\"tab\\there\"}\n\u{1b}é"), warmup_always: true }"#
    );
    assert_eq!(
        init_input(&InitOptions::default()),
        "InitOptions { warmup_payload: None, warmup_always: false }"
    );
    let compile = CompileOptions {
        payloads: vec!["[1,2]".into(), "\"x\"".into()],
        tests: false,
    };
    assert_eq!(
        compile_input(Some(&compile)),
        r#"Some(CompileOptions { payloads: ["[1,2]", "\"x\""], tests: false })"#
    );
    assert_eq!(compile_input(None), "None");
}

#[test]
fn a_scripts_stdlib_imports_outside_the_lean_image_are_found() {
    let code = "using LinearAlgebra\nimport Dates: Date, Day\nusing Sockets, Statistics # comment\n  using Random.DSFMT\nusing MyPackage\n# using Printf\nx = \"using Test\"\n";
    assert_eq!(
        crate::responder::stdlib_imports(code),
        ["Dates", "LinearAlgebra", "Random", "Statistics"]
    );
    assert!(crate::responder::stdlib_imports("using Sockets\nimport Base64\n").is_empty());
}

#[test]
fn full_sysimage_is_a_runtime_stage_and_a_tag_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let lean = request(dir.path());
    let full = BuildRequest {
        full_sysimage: true,
        ..lean.clone()
    };
    let dockerfile = |r: &BuildRequest| render_dockerfile(r, &HashMap::new());
    assert!(dockerfile(&full).contains("JOT_FULL_SYSIMAGE=1 /opt/jot/bootstrap --precompile"));
    assert!(!dockerfile(&lean).contains("JOT_FULL_SYSIMAGE=1 /opt"));
    assert_ne!(
        runtime_stage_key(&lean, "sha256:b"),
        runtime_stage_key(&full, "sha256:b")
    );
    assert_ne!(derive_tag(&lean, "sha256:b"), derive_tag(&full, "sha256:b"));
}
