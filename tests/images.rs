//! The images jot-build makes: labels, tags derived from content, and layers
//! ordered so an edit of the user's code rebuilds only the last ones.

use jot_tests::*;

#[test]
fn labels_tags_and_layers() {
    let script = script(
        "increment_vector.jl",
        "increment_vector(v::Vector{Int}) = v .+ 1\n",
    );
    let first = json(build(&script.path, &["--arg-type", "Vector{Int}"]).trim());
    let image = first["local_image"]["image"].as_str().unwrap().to_string();
    assert!(image.starts_with("increment-vector:"), "{image}");
    let details = inspect_image(&image);
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
    // The history names every layer: the runtime stage's steps, then the code.
    let history = std::process::Command::new("docker")
        .args([
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            &image,
        ])
        .output()
        .unwrap();
    let history = String::from_utf8_lossy(&history.stdout);
    let steps: Vec<&str> = history.lines().collect();
    assert!(
        steps[0].starts_with("jot-build: the responder's code"),
        "{history}"
    );
    assert!(
        steps
            .iter()
            .any(|s| s.contains("/opt/jot/bootstrap --precompile")),
        "{history}"
    );

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
    let old_layers = inspect_image(&image)["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .clone();
    let new_layers =
        inspect_image(changed["local_image"]["image"].as_str().unwrap())["RootFS"]["Layers"]
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
            // The loop's entry points specialised on the user's function are
            // the one thing a cold start may compile.
            let specialised = (l.contains("typeof(JotRuntime.serve)")
                || l.contains("typeof(JotRuntime.handle_invocation)"))
                && l.contains("typeof(Main.triple)");
            (l.contains("JotRuntime.") && !specialised)
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

#[test]
fn several_paths_a_tag_and_a_base_image_flag_over_the_environment() {
    let first = script("first_one.jl", "first_one(x) = 1\n");
    let second = script("second_one.jl", "second_one(x) = 2\n");
    // --base-image wins over a JOT_BASE_IMAGE that would fail the build.
    let output = run(jot("jot-build")
        .arg(&first.path)
        .arg(&second.path)
        .args(["--base-image", &base_image()])
        .env("JOT_BASE_IMAGE", "jot/no-such-base:0"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(json).collect();
    assert_eq!(lines.len(), 2, "one descriptor per PATH: {stdout}");
    assert_eq!(lines[0]["name"], "first-one", "in the order given");
    assert_eq!(lines[1]["name"], "second-one");
    for (line, answer) in lines.iter().zip(["1", "2"]) {
        let image = line["local_image"]["image"].as_str().unwrap();
        assert_eq!(inspect_image(image)["Id"], line["local_image"]["id"]);
        let output = run(jot("jot-invoke").args(["--image", image]));
        assert_eq!(outcome(&output).1, answer, "{image}");
    }
    // --tag names the image; it names one image, so one PATH.
    let tag = format!("pinned-{}", std::process::id());
    let tagged = json(build(&first.path, &["--tag", &tag]).trim());
    let image = format!("first-one:{tag}");
    assert_eq!(tagged["local_image"]["image"], image.as_str());
    assert_eq!(inspect_image(&image)["Id"], tagged["local_image"]["id"]);
    let output = run(jot("jot-build")
        .arg(&first.path)
        .arg(&second.path)
        .args(["--tag", &tag]));
    let (code, _, stderr) = outcome(&output);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("one PATH at a time"), "{stderr}");
}

#[test]
fn a_build_that_fails_exits_7_and_leaves_no_image() {
    // A base image whose Julia parses the responder but whose shell is gone
    // (an inherited SHELL that does not exist): the runtime stage cannot be made.
    let base = format!("jot-test-no-shell:{}", std::process::id());
    let dockerfile = format!("FROM {}\nSHELL [\"/no/shell\", \"-c\"]\n", base_image());
    let mut child = std::process::Command::new("docker")
        .args(["build", "-q", "-t", &base, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), dockerfile.as_bytes()).unwrap();
    let made = child.wait_with_output().unwrap();
    assert!(made.status.success(), "{made:?}");
    struct RemoveImage(String);
    impl Drop for RemoveImage {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["image", "rm", "-f", &self.0])
                .output();
        }
    }
    let _base = RemoveImage(base.clone());
    let script = script("no_runtime.jl", "no_runtime(x) = x\n");
    let output =
        run(jot("jot-build")
            .arg(&script.path)
            .args(["--base-image", &base, "--tag", "never"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 7, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    // One error line naming the stage that failed and the engine's reason.
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("jot-build: error: build failed: jot-runtime:"),
        "{stderr}"
    );
    assert!(errors[0].contains(r#"/no/shell"#), "{stderr}");
    let left = std::process::Command::new("docker")
        .args(["image", "inspect", "no-runtime:never"])
        .output()
        .unwrap();
    assert!(
        !left.status.success(),
        "a failed build left no-runtime:never"
    );
    // Nor an untagged image of the steps that did run, standing on the base.
    let base_id = inspect_image(&base)["Id"].as_str().unwrap().to_string();
    let all = run(std::process::Command::new("docker").args(["image", "ls", "-aq", "--no-trunc"]));
    let ids = String::from_utf8_lossy(&all.stdout).to_string();
    let children: Vec<&str> = ids
        .split_whitespace()
        .filter(|id| inspect_image(id)["Parent"] == base_id.as_str())
        .collect();
    assert!(
        children.is_empty(),
        "the failed build left step images on {base}: {children:?}"
    );
}

#[test]
fn an_image_jot_did_not_build_is_never_retagged_without_force() {
    let name = format!("foreign-retag-{}", std::process::id());
    let reference = format!("{name}:t1");
    let docker = |args: &[&str]| {
        let output = std::process::Command::new("docker")
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "docker {args:?}: {output:?}");
    };
    // Someone else's image under the name and tag jot would use.
    docker(&["tag", &base_image(), &reference]);
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["image", "rm", &self.0])
                .output();
        }
    }
    let _untag = Untag(reference.clone());
    let before = inspect_image(&reference)["Id"].clone();
    let responder = script("retag_me.jl", "retag_me(x) = 1\n");
    let args = ["--name", name.as_str(), "--tag", "t1"];
    let output = run(jot("jot-build").arg(&responder.path).args(args));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 5, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("not built by jot") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(inspect_image(&reference)["Id"], before, "the tag was moved");
    // With --force it is replaced, and the tag names jot's image.
    let output = run(jot("jot-build")
        .arg(&responder.path)
        .args(args)
        .arg("--force"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        json(&stdout)["local_image"]["id"],
        inspect_image(&reference)["Id"]
    );
    // jot's own name is refused before anything is built.
    let output = run(jot("jot-build")
        .arg(&responder.path)
        .args(["--name", "jot-runtime"]));
    let (code, _, stderr) = outcome(&output);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("used by jot itself"), "{stderr}");
}

#[test]
fn a_rebuild_that_takes_a_tag_removes_the_image_it_replaced() {
    let name = format!("replaced-{}", std::process::id());
    let args = ["--name", name.as_str(), "--tag", "same"];
    let id_of = |descriptor: &str| json(descriptor.trim())["local_image"]["id"].clone();
    let exists = |id: &serde_json::Value| {
        std::process::Command::new("docker")
            .args(["image", "inspect", id.as_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    };
    // The same name and tag over other code (another path): the tag moves,
    // and the image it left, named nowhere now, is gone.
    let first = script("replaced.jl", "replaced(x) = 1\n");
    let second = script("replaced.jl", "replaced(x) = 2\n");
    let old = id_of(&build(&first.path, &args));
    let new = id_of(&build(&second.path, &args));
    assert_ne!(old, new);
    assert!(!exists(&old), "the replaced image {old} was left untagged");
    let reference = format!("{name}:same");
    assert_eq!(inspect_image(&reference)["Id"], new);
    // One still named elsewhere stays.
    let kept = format!("{name}:kept");
    let tagged = std::process::Command::new("docker")
        .args(["tag", &reference, &kept])
        .output()
        .unwrap();
    assert!(tagged.status.success(), "{tagged:?}");
    let newest = id_of(&build(&first.path, &args));
    assert_ne!(newest, new);
    assert!(exists(&new), "an image still tagged {kept} was removed");
    assert_eq!(inspect_image(&kept)["Id"], new);
}
