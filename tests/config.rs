//! jot.toml: every key at each level (file, its [env.NAME] section, the
//! JOT_* variable, the flag), read through the tools' own `--show-config`,
//! bad keys and values as one line naming file, line and key, and the import
//! of the bash predecessor's config.json. No Docker or AWS call is made.

use std::path::Path;
use std::process::Command;

use jot_tests::{jot, json, outcome, run, run_with_stdin, script};
use serde_json::Value;

/// One key: its line in jot.toml, its variable, its flag, and three values
/// (as TOML, as the variable/flag text, and as `--show-config` prints them).
struct Key {
    tool: &'static str,
    toml_key: &'static str,
    shown: &'static str,
    var: &'static str,
    flag: &'static str,
    file: (&'static str, Value),
    section: (&'static str, Value),
    env: (&'static str, Value),
    given: (&'static str, Value),
}

fn keys() -> Vec<Key> {
    fn j(v: impl Into<Value>) -> Value {
        v.into()
    }
    let k = |tool,
             toml_key,
             shown,
             var,
             flag,
             file: (&'static str, Value),
             section: (&'static str, Value),
             env: (&'static str, Value),
             given: (&'static str, Value)| Key {
        tool,
        toml_key,
        shown,
        var,
        flag,
        file,
        section,
        env,
        given,
    };
    vec![
        k(
            "jot-build",
            "function",
            "function",
            "JOT_BUILD_FUNCTION",
            "--function",
            ("\"file_fn\"", j("file_fn")),
            ("\"section_fn\"", j("section_fn")),
            ("env_fn", j("env_fn")),
            ("flag_fn", j("flag_fn")),
        ),
        k(
            "jot-build",
            "arg_type",
            "arg_type",
            "JOT_BUILD_ARG_TYPE",
            "--arg-type",
            ("\"Int\"", j("Int")),
            ("\"String\"", j("String")),
            ("Float64", j("Float64")),
            ("Vector{Int}", j("Vector{Int}")),
        ),
        k(
            "jot-build",
            "name",
            "name",
            "JOT_NAME",
            "--name",
            ("\"file-name\"", j("file-name")),
            ("\"section-name\"", j("section-name")),
            ("env-name", j("env-name")),
            ("flag-name", j("flag-name")),
        ),
        k(
            "jot-build",
            "tag",
            "tag",
            "JOT_TAG",
            "--tag",
            ("\"t1\"", j("t1")),
            ("\"t2\"", j("t2")),
            ("t3", j("t3")),
            ("t4", j("t4")),
        ),
        k(
            "jot-build",
            "base_image",
            "base_image",
            "JOT_BASE_IMAGE",
            "--base-image",
            ("\"b:1\"", j("b:1")),
            ("\"b:2\"", j("b:2")),
            ("b:3", j("b:3")),
            ("b:4", j("b:4")),
        ),
        k(
            "jot-build",
            "julia_version",
            "base_image",
            "JOT_JULIA_VERSION",
            "--julia-version",
            ("\"1.6\"", j("julia:1.6")),
            ("\"1.7\"", j("julia:1.7")),
            ("1.8", j("julia:1.8")),
            ("1.9", j("julia:1.9")),
        ),
        k(
            "jot-build",
            "architecture",
            "architecture",
            "JOT_ARCHITECTURE",
            "--architecture",
            ("\"arm64\"", j("arm64")),
            ("\"x86_64\"", j("x86_64")),
            ("arm64", j("arm64")),
            ("x86_64", j("x86_64")),
        ),
        k(
            "jot-build",
            "deps",
            "deps",
            "JOT_DEPS",
            "--dep",
            ("[\"A\"]", j(vec!["A"])),
            ("[\"B@1\"]", j(vec!["B@1"])),
            ("C,D@2", j(vec!["C", "D@2"])),
            ("E", j(vec!["E"])),
        ),
        k(
            "jot-build",
            "registry_urls",
            "registry_urls",
            "JOT_REGISTRY_URLS",
            "--registry-url",
            ("[\"git://h/a\"]", j(vec!["git://h/a"])),
            ("[\"git://h/b\"]", j(vec!["git://h/b"])),
            ("git://h/c", j(vec!["git://h/c"])),
            ("git://h/d", j(vec!["git://h/d"])),
        ),
        k(
            "jot-build",
            "test_payload",
            "test_payload",
            "JOT_TEST_PAYLOAD",
            "--test-payload",
            ("'[1]'", j(vec![vec![1]])),
            ("'[2]'", j(vec![vec![2]])),
            ("[3]", j(vec![vec![3]])),
            ("[4]", j(vec![vec![4]])),
        ),
        k(
            "jot-push",
            "registry",
            "registry",
            "JOT_REGISTRY",
            "--registry",
            ("\"r1:1\"", j("r1:1")),
            ("\"r2:2\"", j("r2:2")),
            ("r3:3", j("r3:3")),
            ("r4:4", j("r4:4")),
        ),
        k(
            "jot-deploy",
            "memory",
            "memory",
            "JOT_MEMORY",
            "--memory",
            ("512", j(512)),
            ("2048", j(2048)),
            ("3008", j(3008)),
            ("4096", j(4096)),
        ),
        k(
            "jot-deploy",
            "timeout",
            "timeout",
            "JOT_TIMEOUT",
            "--timeout",
            ("10", j(10)),
            ("20", j(20)),
            ("30", j(30)),
            ("40", j(40)),
        ),
        k(
            "jot-deploy",
            "ephemeral_storage",
            "ephemeral_storage",
            "JOT_EPHEMERAL_STORAGE",
            "--ephemeral-storage",
            ("600", j(600)),
            ("700", j(700)),
            ("800", j(800)),
            ("900", j(900)),
        ),
        k(
            "jot-deploy",
            "architecture",
            "architecture",
            "JOT_ARCHITECTURE",
            "--architecture",
            ("\"arm64\"", j("arm64")),
            ("\"x86_64\"", j("x86_64")),
            ("arm64", j("arm64")),
            ("x86_64", j("x86_64")),
        ),
        k(
            "jot-deploy",
            "role",
            "role",
            "JOT_ROLE",
            "--role",
            (
                "\"arn:aws:iam::123456789012:role/a\"",
                j("arn:aws:iam::123456789012:role/a"),
            ),
            (
                "\"arn:aws:iam::123456789012:role/b\"",
                j("arn:aws:iam::123456789012:role/b"),
            ),
            (
                "arn:aws:iam::123456789012:role/c",
                j("arn:aws:iam::123456789012:role/c"),
            ),
            (
                "arn:aws:iam::123456789012:role/d",
                j("arn:aws:iam::123456789012:role/d"),
            ),
        ),
        k(
            "jot-deploy",
            "description",
            "description",
            "JOT_DESCRIPTION",
            "--description",
            ("\"d1\"", j("d1")),
            ("\"d2\"", j("d2")),
            ("d3", j("d3")),
            ("d4", j("d4")),
        ),
        k(
            "jot-deploy",
            "alias",
            "alias",
            "JOT_ALIAS",
            "--alias",
            ("\"a1\"", j("a1")),
            ("\"a2\"", j("a2")),
            ("a3", j("a3")),
            ("a4", j("a4")),
        ),
        k(
            "jot-invoke",
            "memory",
            "memory",
            "JOT_MEMORY",
            "--memory",
            ("512", j(512)),
            ("2048", j(2048)),
            ("3008", j(3008)),
            ("4096", j(4096)),
        ),
        k(
            "jot-invoke",
            "timeout",
            "timeout",
            "JOT_TIMEOUT",
            "--timeout",
            ("10", j(10)),
            ("20", j(20)),
            ("30", j(30)),
            ("40", j(40)),
        ),
    ]
}

/// A descriptor whose responder is `source` (what jot-push, jot-deploy and jot-invoke read).
fn descriptor(source: &Path, kind: &str) -> String {
    let mut d = serde_json::json!({
        "jot": 1, "kind": kind, "name": "ff",
        "responder": {"source": source, "kind": "script", "function": "ff", "arg_type": "Any", "tree_hash": "ab".repeat(32)},
        "local_image": {"image": "ff:abc", "id": "sha256:00", "architecture": "x86_64"},
    });
    if kind != "local_image" {
        d["remote_image"] = serde_json::json!({"repository_uri": "127.0.0.1:4566/ff", "tag": "abc", "digest": format!("sha256:{}", "0".repeat(64))});
    }
    d.to_string() + "\n"
}

/// `--show-config` of `key.tool` for a script in `dir`, with extra arguments and variables.
fn show(key: &Key, path: &Path, args: &[&str], vars: &[(&str, &str)]) -> Value {
    let mut command: Command = jot(key.tool);
    command
        .env_remove("JOT_BASE_IMAGE")
        .arg("--show-config")
        .args(args);
    for (k, v) in vars {
        command.env(k, v);
    }
    let output = match key.tool {
        "jot-build" => run(command.arg(path)),
        "jot-push" => run_with_stdin(&mut command, descriptor(path, "local_image").as_bytes()),
        "jot-invoke" => run_with_stdin(&mut command, descriptor(path, "local_image").as_bytes()),
        _ => run_with_stdin(&mut command, descriptor(path, "remote_image").as_bytes()),
    };
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{} {}: {stderr}", key.tool, key.toml_key);
    json(&stdout)
}

#[test]
fn every_key_at_every_level() {
    for key in keys() {
        let s = script(
            "ff.jl",
            "ff(x) = x\nfile_fn(x) = x\nsection_fn(x) = x\nenv_fn(x) = x\nflag_fn(x) = x\n",
        );
        std::fs::write(
            s.dir.path().join("jot.toml"),
            format!(
                "# test\n{} = {}\n\n[env.prod]\n{} = {}\n",
                key.toml_key, key.file.0, key.toml_key, key.section.0
            ),
        )
        .unwrap();
        let what = format!("{} {}", key.tool, key.toml_key);
        let shown = |v: Value| v[key.shown].clone();
        assert_eq!(
            shown(show(&key, &s.path, &[], &[])),
            key.file.1,
            "{what}: file"
        );
        let prod = ["--env-name", "prod"];
        assert_eq!(
            shown(show(&key, &s.path, &prod, &[])),
            key.section.1,
            "{what}: section"
        );
        let env = [(key.var, key.env.0)];
        assert_eq!(
            shown(show(&key, &s.path, &prod, &env)),
            key.env.1,
            "{what}: variable"
        );
        let flagged = [key.flag, key.given.0, "--env-name", "prod"];
        assert_eq!(
            shown(show(&key, &s.path, &flagged, &env)),
            key.given.1,
            "{what}: flag"
        );
    }
}

#[test]
fn a_named_section_picked_by_variable_and_a_missing_one() {
    let s = script("ff.jl", "ff(x) = x\n");
    std::fs::write(
        s.dir.path().join("jot.toml"),
        "name = \"top\"\n[env.prod]\nname = \"prod\"\n",
    )
    .unwrap();
    let key = &keys()[2];
    assert_eq!(
        show(key, &s.path, &[], &[("JOT_ENV_NAME", "prod")])["name"],
        "prod"
    );
    let (code, _, stderr) = outcome(&run(jot("jot-build").arg(&s.path).args([
        "--env-name",
        "staging",
        "--show-config",
    ])));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("[env.staging]") && stderr.contains("prod"),
        "{stderr}"
    );
    // --config names another file.
    let other = s.dir.path().join("other.toml");
    std::fs::write(&other, "name = \"other\"\n").unwrap();
    let config = other.to_str().unwrap();
    assert_eq!(
        show(key, &s.path, &["--config", config], &[])["name"],
        "other"
    );
}

#[test]
fn bad_keys_and_values_name_file_line_and_key() {
    let s = script("ff.jl", "ff(x) = x\n");
    let toml = s.dir.path().join("jot.toml");
    for (tool, text, line, key) in [
        ("jot-build", "name = \"ff\"\n\nmemroy = 512\n", 3, "memroy"),
        (
            "jot-build",
            "[env.prod]\nname = \"ff\"\n[serve]\nprot = 1\n",
            4,
            "prot",
        ),
        ("jot-deploy", "memory = 99999\n", 1, "memory"),
        ("jot-deploy", "\ntimeout = \"long\"\n", 2, "timeout"),
        ("jot-deploy", "alias = \"123\"\n", 1, "alias"),
        (
            "jot-deploy",
            "environment = { AWS_REGION = \"x\" }\n",
            1,
            "environment",
        ),
        ("jot-build", "deps = [\"Not A Name\"]\n", 1, "deps"),
        ("jot-build", "architecture = \"sparc\"\n", 1, "architecture"),
        ("jot-invoke", "memory = 64\n", 1, "memory"),
    ] {
        std::fs::write(&toml, text).unwrap();
        let mut command = jot(tool);
        command.arg("--show-config");
        let output = match tool {
            "jot-build" => run(command.arg(&s.path)),
            "jot-invoke" => {
                run_with_stdin(&mut command, descriptor(&s.path, "local_image").as_bytes())
            }
            _ => run_with_stdin(&mut command, descriptor(&s.path, "remote_image").as_bytes()),
        };
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 5, "{tool} with {text:?}: {stderr}");
        assert!(stdout.is_empty());
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("jot.toml:{line}:")) && stderr.contains(key),
            "{tool} with {text:?}: {stderr}"
        );
    }
}

#[test]
fn config_json_of_the_bash_predecessor_imports() {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("config.json");
    std::fs::write(&json_path, r#"{"AWSAccountId": "123456789012", "AWSRegion": "eu-west-2", "ImageName": "julia-lambda", "ImageTag": "latest", "FunctionName": "juliaFunction", "Role": "arn:aws:iam::123456789012:role/lambda-role", "Timeout": 20, "MemorySize": 2048, "Dependencies": ["Example"]}"#).unwrap();
    let (code, toml, stderr) = outcome(&run(jot("jot-config").arg("import").arg(&json_path)));
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(dir.path().join("jot.toml"), toml + "\n").unwrap();
    let script_path = dir.path().join("julia_function.jl");
    std::fs::write(&script_path, "julia_function(x) = x\n").unwrap();
    let (code, _, stderr) = outcome(&run(jot("jot-config")
        .arg("check")
        .arg(dir.path().join("jot.toml"))));
    assert_eq!(code, 0, "{stderr}");
    let built = json(
        &outcome(&run(jot("jot-build")
            .arg(&script_path)
            .arg("--show-config")))
        .1,
    );
    assert_eq!(built["name"], "juliafunction");
    assert_eq!(built["deps"], serde_json::json!(["Example"]));
    let mut deploy = jot("jot-deploy");
    let deployed = run_with_stdin(
        deploy.arg("--show-config"),
        descriptor(&script_path, "remote_image").as_bytes(),
    );
    let deployed = json(&outcome(&deployed).1);
    assert_eq!(
        (deployed["memory"].clone(), deployed["timeout"].clone()),
        (2048.into(), 20.into())
    );
    assert_eq!(
        deployed["role"],
        "arn:aws:iam::123456789012:role/lambda-role"
    );
    std::fs::write(&json_path, r#"{"Memory": 1}"#).unwrap();
    let (code, _, stderr) = outcome(&run(jot("jot-config").arg("import").arg(&json_path)));
    assert_eq!(code, 5);
    assert!(stderr.contains("\"Memory\""), "{stderr}");
}

/// `--show-config` says where the settings came from (README: "what is in
/// effect and where it came from"): the jot.toml it read, or none, and for
/// the AWS region the file and line, or the flag/variable that beat it.
#[test]
fn show_config_names_the_file_it_read_and_where_the_region_came_from() {
    let s = script("ff.jl", "ff(x) = x\n");
    let toml = s.dir.path().join("jot.toml");
    let shown = |tool: &str, vars: &[(&str, &str)]| {
        let mut command: Command = jot(tool);
        command.env_remove("JOT_REGION").arg("--show-config");
        for (k, v) in vars {
            command.env(k, v);
        }
        let output = match tool {
            "jot-build" => run(command.arg(&s.path)),
            "jot-push" | "jot-invoke" => {
                run_with_stdin(&mut command, descriptor(&s.path, "local_image").as_bytes())
            }
            _ => run_with_stdin(&mut command, descriptor(&s.path, "remote_image").as_bytes()),
        };
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "{tool}: {stderr}");
        json(&stdout)
    };
    let tools = ["jot-build", "jot-push", "jot-deploy", "jot-invoke"];
    for tool in tools {
        assert_eq!(
            shown(tool, &[])["config"],
            Value::Null,
            "{tool}: no jot.toml"
        );
    }
    std::fs::write(&toml, "memory = 512\nregion = \"eu-west-1\"\n").unwrap();
    let path = toml.to_string_lossy().into_owned();
    for tool in tools {
        let value = shown(tool, &[]);
        assert_eq!(value["config"], path.as_str(), "{tool}: {value}");
        if tool == "jot-build" {
            continue;
        }
        assert_eq!(
            value["aws"]["region"],
            serde_json::json!({"value": "eu-west-1", "from": format!("{path}:2")}),
            "{tool}"
        );
        let value = shown(tool, &[("JOT_REGION", "us-west-2")]);
        assert_eq!(
            value["aws"]["region"],
            serde_json::json!({"value": "us-west-2", "from": "--region (or JOT_REGION)"}),
            "{tool}"
        );
    }
    // jot-ls and jot-rm read no jot.toml: their flags and the environment.
    for (tool, args) in [
        ("jot-ls", &["--concurrency", "4"][..]),
        ("jot-rm", &["ff", "--keep", "2"]),
    ] {
        let mut command: Command = jot(tool);
        command
            .env("JOT_REGION", "us-west-2")
            .arg("--show-config")
            .args(args);
        let (code, stdout, stderr) = outcome(&run(&mut command));
        assert_eq!(code, 0, "{tool}: {stderr}");
        let value = json(&stdout);
        assert_eq!(
            value["aws"]["region"],
            serde_json::json!({"value": "us-west-2", "from": "--region (or JOT_REGION)"}),
            "{tool}: {value}"
        );
        let given = if tool == "jot-ls" {
            ("concurrency", 4)
        } else {
            ("keep", 2)
        };
        assert_eq!(value[given.0], given.1, "{tool}: {value}");
    }
}
