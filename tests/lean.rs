//! Lean by default (issue 24): a plain image starts Julia from one lean system
//! image (Base, the runtime's stdlibs, the runtime), so its first request finds
//! no LinearAlgebra, Pkg or REPL loaded unless the responder loads them; a
//! responder that uses LinearAlgebra and Dates works plain (their caches are
//! made in the dependency stage) and compiled; jot's layers hold one system
//! image; `--full-sysimage` restores the old start (Julia's full default image
//! plus the runtime). Real Docker, real Julia 1.5 (the system-image path).
//! Few builds: each runtime stage or compiled build takes minutes on 2 cores.

use std::process::Command;

use jot_tests::*;

/// A responder that answers with the top-level modules loaded when it runs.
const LOADED: &str = r#"
loaded(x) = sort!([string(k.name) for k in keys(Base.loaded_modules)])
"#;

/// A responder that uses LinearAlgebra and Dates.
const STDLIB: &str = r#"
using LinearAlgebra
using Dates
stdlib_user(v) = Dict("norm" => norm(Float64.(v)), "weekday" => dayname(Date(2024, 3, 1) + Day(length(v))))
"#;
const STDLIB_PAYLOAD: &str = "[3,4]";
const STDLIB_EXPECT: &str = r#"{"norm":5.0,"weekday":"Sunday"}"#;

/// The answer of the image's first request (`jot-invoke --local`).
fn first_answer(image: &str, payload: &str) -> serde_json::Value {
    let output = run(jot("jot-invoke").args(["--local", "--image", image, "--payload", payload]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    json(&stdout)
}

fn names(answer: &serde_json::Value) -> Vec<String> {
    answer
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The system images (`*.so`, `*.ji` images of Julia) in the layers `image`
/// has over `base`, read from the layers themselves (`docker save`), each as
/// `path` with its size in bytes.
fn system_images_in_layers_over(image: &str, base: &str) -> Vec<(String, u64)> {
    let base_layers = inspect_image(base)["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .len();
    let dir = workdir();
    let saved = dir.path().join("image.tar");
    let status = Command::new("docker")
        .args(["image", "save", "-o"])
        .arg(&saved)
        .arg(image)
        .status()
        .unwrap();
    assert!(status.success(), "docker image save {image}");
    // manifest.json lists the layers in order, as RootFS does.
    let script = format!(
        r#"set -e
cd {dir}
tar -xf image.tar manifest.json
python3 -c 'import json; [print(l) for l in json.load(open("manifest.json"))[0]["Layers"][{base_layers}:]]' |
while read -r layer; do tar -xOf image.tar "$layer" | tar -tvf - ; done"#,
        dir = dir.path().display()
    );
    let output = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let path = fields.last()?.to_string();
            let is_image = path.starts_with("opt/jot/")
                && !path.contains("/depot/")
                && (path.ends_with(".so") || path.ends_with("-sys.ji"));
            let size = fields.get(2)?.parse().ok()?;
            is_image.then_some((path, size))
        })
        .collect()
}

#[test]
fn a_plain_image_starts_from_one_lean_system_image_and_full_sysimage_restores_the_old_start() {
    let base = base_image();
    let (_script, image) = image_of("loaded.jl", LOADED, &["--base-image", &base]);
    let loaded = names(&first_answer(&image, "1"));
    assert!(loaded.contains(&"JotRuntime".to_string()), "{loaded:?}");
    for absent in ["LinearAlgebra", "Pkg", "REPL", "SparseArrays"] {
        assert!(
            !loaded.contains(&absent.to_string()),
            "{absent} loaded at the first request of a plain image: {loaded:?}"
        );
    }
    let images = system_images_in_layers_over(&image, &base);
    assert_eq!(
        images.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["opt/jot/jot-sys.so"],
        "jot's layers hold exactly one system image"
    );
    let lean_size = images[0].1;

    // --full-sysimage: the runtime on Julia's whole default image again.
    let (_full_script, full) = image_of(
        "loaded.jl",
        LOADED,
        &["--base-image", &base, "--full-sysimage"],
    );
    let loaded = names(&first_answer(&full, "1"));
    for present in ["JotRuntime", "LinearAlgebra", "Pkg", "REPL"] {
        assert!(
            loaded.contains(&present.to_string()),
            "{present} not loaded with --full-sysimage: {loaded:?}"
        );
    }
    let full_size = system_images_in_layers_over(&full, &base)
        .into_iter()
        .find(|(p, _)| p == "opt/jot/jot-sys.so")
        .expect("a full jot-sys.so")
        .1;
    assert!(
        lean_size * 3 / 2 < full_size,
        "the lean system image ({lean_size} bytes) is not much smaller than the full one ({full_size})"
    );
}

#[test]
fn a_responder_using_linear_algebra_and_dates_works_plain_and_compiled() {
    let base = base_image();
    // Plain: the build's own test run answers as expected, and the first
    // request loads LinearAlgebra and Dates from the image's depot (no cache
    // written into /tmp at run time: the build-time self-test would fail).
    let script = script("stdlib_user.jl", STDLIB);
    let plain = stdlib_image(&script, &base, &[]);
    let caches = Command::new("docker")
        .args(["run", "--rm", "--network", "none", "--entrypoint", "sh"])
        .arg(&plain)
        .args(["-c", "ls /opt/jot/depot/compiled/*/"])
        .output()
        .unwrap();
    let caches = String::from_utf8_lossy(&caches.stdout);
    for stdlib in ["LinearAlgebra", "Dates"] {
        assert!(caches.contains(stdlib), "no cache of {stdlib}: {caches}");
    }
    // Compiled, from the same script.
    stdlib_image(&script, &base, &["--compile"]);
}

/// The stdlib responder built with its test event and answer (the build's
/// own test run), then answering its first request again; the image.
fn stdlib_image(script: &Script, base: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "--base-image",
        base,
        "--test-payload",
        STDLIB_PAYLOAD,
        "--expect",
        STDLIB_EXPECT,
    ];
    args.extend_from_slice(extra);
    let image = json(build(&script.path, &args).trim())["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        first_answer(&image, STDLIB_PAYLOAD),
        json(STDLIB_EXPECT),
        "{extra:?}"
    );
    image
}
