//! The runtime stage (`jot-runtime:KEY`) that every script image is built on.
//! Its own test binary: it removes the stage, which would change the images
//! that tests running beside it build.

use jot_tests::*;

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
            inspect_image(stage)["RootFS"]["Layers"]
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
        inspect_image(built["local_image"]["image"].as_str().unwrap())["RootFS"]["Layers"]
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
    let env = inspect_image(shout_built["local_image"]["image"].as_str().unwrap())["Config"]["Env"]
        .clone();
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
    let stage_env = inspect_image(&stage)["Config"]["Env"].to_string();
    assert!(!stage_env.contains("JOT_FUNCTION"), "{stage_env}");

    // Without the stage (its cached parents kept), the builder makes it
    // again: the same tag and the same layers. (The image id may change: the
    // history carries the time of the steps made again.)
    let removed = std::process::Command::new("docker")
        .args(["image", "rm", "--no-prune", &stage])
        .output()
        .unwrap();
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let output = run(jot("jot-build")
        .arg(&square.path)
        .args(["--arg-type", "Int"]));
    let (code, descriptor, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    // No terminal: the long step says when it starts and when it ends.
    let step = format!("building the runtime stage {stage}");
    assert!(
        stderr.contains(&format!("{step} (once per base image, about "))
            && stderr.contains(") ...")
            && stderr.contains("): done in "),
        "{stderr}"
    );
    let rebuilt = json(&descriptor);
    assert_eq!(
        rebuilt["local_image"]["image"],
        square_built["local_image"]["image"]
    );
    assert_eq!(layers(&rebuilt), square_layers);
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
