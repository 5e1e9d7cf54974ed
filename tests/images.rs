//! The images jot-build makes: labels, tags derived from content, and layers
//! ordered so an edit of the user's code rebuilds only the last ones.

use jot_tests::*;

fn inspect(image: &str) -> serde_json::Value {
    let output = std::process::Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .unwrap();
    assert!(output.status.success(), "docker image inspect {image}");
    json(&String::from_utf8_lossy(&output.stdout))[0].clone()
}

#[test]
fn labels_tags_and_layers() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let first = json(build(&script.path, &["--arg-type", "Vector{Int}"]).trim());
    let image = first["local_image"]["image"].as_str().unwrap().to_string();
    assert!(image.starts_with("increment-vector:"), "{image}");
    let details = inspect(&image);
    let labels = &details["Config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.title"], "increment-vector");
    assert_eq!(
        labels["org.opencontainers.image.version"],
        image.split(':').nth(1).unwrap()
    );
    assert_eq!(
        labels["org.opencontainers.image.revision"],
        first["responder"]["tree_hash"]
    );
    assert_eq!(
        labels["org.opencontainers.image.source"],
        first["responder"]["source"]
    );
    assert!(
        labels["org.opencontainers.image.created"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(labels["dev.jot.tree-hash"], first["responder"]["tree_hash"]);
    assert_eq!(labels["dev.jot.function"], "increment_vector");
    assert_eq!(labels["dev.jot.arg-type"], "Vector{Int}");
    assert_eq!(labels["dev.jot.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(details["Id"], first["local_image"]["id"]);
    // The offline base image has a linker, so the runtime is in a system image.
    let sysimage = std::process::Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "host",
            "--entrypoint",
            "sh",
            &image,
        ])
        .args(["-c", "test -s /opt/jot/jot-sys.so"])
        .status()
        .unwrap();
    assert!(sysimage.success(), "no /opt/jot/jot-sys.so in {image}");

    // Unchanged code: the same tag and the same image.
    let again = json(build(&script.path, &["--arg-type", "Vector{Int}"]).trim());
    assert_eq!(again["local_image"], first["local_image"]);

    // A one-line change: a new tag, and every layer but the code's is shared.
    std::fs::write(&script.path, "increment_vector(v::Vector{Int}) = v .+ 2\n").unwrap();
    let changed = json(build(&script.path, &["--arg-type", "Vector{Int}"]).trim());
    assert_ne!(
        changed["local_image"]["image"],
        first["local_image"]["image"]
    );
    assert_ne!(
        changed["responder"]["tree_hash"],
        first["responder"]["tree_hash"]
    );
    let old_layers = inspect(&image)["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .clone();
    let new_layers = inspect(changed["local_image"]["image"].as_str().unwrap())["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(old_layers.len(), new_layers.len());
    let shared = old_layers
        .iter()
        .zip(&new_layers)
        .take_while(|(a, b)| a == b)
        .count();
    assert_eq!(shared, old_layers.len() - 1, "only the code layer differs");
}

/// The `jot-runtime:KEY` image whose layers the image's layers extend by one.
fn runtime_stage_of(layers: &[serde_json::Value]) -> Option<String> {
    let output = std::process::Command::new("docker")
        .args([
            "images",
            "jot-runtime",
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|stage| {
            inspect(stage)["RootFS"]["Layers"]
                .as_array()
                .map(Vec::as_slice)
                == Some(&layers[..layers.len() - 1])
        })
        .map(str::to_string)
}

#[test]
fn scripts_share_one_runtime_stage_and_survive_its_removal() {
    let square = script("square.jl", "square(x::Int) = x * x\n");
    let shout = script("shout.jl", "shout(s::String) = uppercase(s)\n");
    let square_built = json(build(&square.path, &["--arg-type", "Int"]).trim());
    let shout_built = json(build(&shout.path, &["--arg-type", "String"]).trim());
    let layers = |built: &serde_json::Value| {
        inspect(built["local_image"]["image"].as_str().unwrap())["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .clone()
    };
    let (square_layers, shout_layers) = (layers(&square_built), layers(&shout_built));
    let stage = runtime_stage_of(&square_layers).expect("a jot-runtime image under the code layer");
    assert_eq!(
        runtime_stage_of(&shout_layers).as_deref(),
        Some(stage.as_str()),
        "two scripts, one runtime stage"
    );
    // What to call lives in the image config, not in the shared stage.
    let env =
        inspect(shout_built["local_image"]["image"].as_str().unwrap())["Config"]["Env"].clone();
    let env: Vec<&str> = env
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for expected in [
        "JOT_FUNCTION=shout",
        "JOT_ARG_TYPE=String",
        "JOT_RESPONDER_PATH=/var/task/shout.jl",
        "_HANDLER=shout",
    ] {
        assert!(env.contains(&expected), "{expected} not in {env:?}");
    }
    let stage_env = inspect(&stage)["Config"]["Env"].to_string();
    assert!(!stage_env.contains("JOT_FUNCTION"), "{stage_env}");

    // Without the stage (its cached parents kept), the builder makes it
    // again and the same code gives the same image.
    let removed = std::process::Command::new("docker")
        .args(["image", "rm", "--no-prune", &stage])
        .output()
        .unwrap();
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let descriptor = build(&square.path, &["--arg-type", "Int"]);
    assert_eq!(
        json(descriptor.trim())["local_image"],
        square_built["local_image"]
    );
    assert_eq!(
        runtime_stage_of(&square_layers).as_deref(),
        Some(stage.as_str())
    );
    let output = run_with_stdin(
        jot("jot-invoke").args(["--payload", "7"]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!((code, stdout.as_str()), (0, "49"), "{stderr}");
}

#[test]
fn a_cold_start_compiles_only_the_responders_own_code() {
    let script = script("triple.jl", "triple(v::Vector{Int}) = 3 .* v\n");
    let descriptor = build(&script.path, &["--arg-type", "Vector{Int}"]);
    let output = run_with_stdin(
        jot("jot-invoke").args([
            "--payload",
            "[1,2]",
            "--logs",
            "--env",
            "JOT_JULIA_FLAGS=--trace-compile=stderr",
        ]),
        descriptor.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!((code, stdout.as_str()), (0, "[3,6]"), "{stderr}");
    let compiled: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("precompile("))
        .collect();
    assert!(
        compiled.iter().any(|l| l.contains("Main.triple")),
        "no compile trace in the logs: {stderr}"
    );
    // The system image holds the runtime, its HTTP client and Julia's start on
    // pipes; what is left is the loop specialised on the user's function.
    let runtime_compiled: Vec<&&str> = compiled
        .iter()
        .filter(|l| {
            (l.contains("JotRuntime.") && !l.contains("typeof(JotRuntime.serve)"))
                || l.contains("Sockets.")
                || l.contains("REPL.")
                || l.contains("TextDisplay")
        })
        .collect();
    assert!(
        runtime_compiled.is_empty(),
        "compiled at a cold start: {runtime_compiled:#?}"
    );
}

#[test]
fn upper_case_names_are_lowered_with_a_note() {
    let script = script("AddOne.jl", "AddOne(x::Int) = x + 1\n");
    let output = run(jot("jot-build")
        .arg(&script.path)
        .args(["--arg-type", "Int"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stdout)["name"], "addone");
    assert!(stderr.contains("lower case"), "{stderr}");
    let output = run(jot("jot-build")
        .arg(&script.path)
        .args(["--name", "Bad Name!"]));
    let (code, _, stderr) = outcome(&output);
    assert_eq!(code, 5);
    assert!(stderr.contains("not valid for ECR and Lambda"), "{stderr}");
}
