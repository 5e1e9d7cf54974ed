use std::io::Write;

use super::*;

fn write(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn sections_replace_the_top_keys() {
    let file = write("memory = 512\ntimeout = 10\n[env.prod]\nmemory = 2048\n");
    let top = Config::load(file.path(), None).unwrap();
    assert_eq!(*top.get("memory", |s| &s.memory).unwrap().value, 512);
    let prod = Config::load(file.path(), Some("prod")).unwrap();
    let memory = prod.get("memory", |s| &s.memory).unwrap();
    assert_eq!((*memory.value, memory.line), (2048, 4));
    assert_eq!(*prod.get("timeout", |s| &s.timeout).unwrap().value, 10);
    let err = Config::load(file.path(), Some("staging"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no [env.staging]") && err.contains("prod"),
        "{err}"
    );
}

#[test]
fn unknown_keys_and_types_name_the_line() {
    let file = write("name = \"f\"\n\nmemroy = 512\n");
    let err = Config::load(file.path(), None).unwrap_err().to_string();
    assert!(err.contains(":3:") && err.contains("memroy"), "{err}");
    assert!(!err.contains('\n'));
    let file = write("[env.prod]\ntimeout = \"long\"\n");
    let err = Config::load(file.path(), None).unwrap_err().to_string();
    assert!(err.contains(":2:"), "{err}");
    let file = write("[serve]\nprot = 1\n");
    assert!(
        Config::load(file.path(), None)
            .unwrap_err()
            .to_string()
            .contains("prot")
    );
}

#[test]
fn a_bad_value_is_checked_like_the_flag_and_blamed_on_the_file() {
    let file = write("name = \"f\"\nmemory = 99999\n");
    let config = Config::load(file.path(), None).unwrap();
    let err = pick(
        None,
        Some(&config),
        "memory",
        |s| &s.memory,
        |m| jot_core::limits::check_memory(*m),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(":2: memory:") && text.contains("128 to 10240"),
        "{text}"
    );
    assert_eq!(err.exit_code(), 5);
    // The flag wins over the file and is checked the same way.
    let flag = pick(
        Some(256),
        Some(&config),
        "memory",
        |s| &s.memory,
        |m| jot_core::limits::check_memory(*m),
    );
    assert_eq!(flag.unwrap(), Some(256));
}

#[test]
fn config_json_imports() {
    let json = r#"{"AWSAccountId": "123456789012", "AWSRegion": "eu-west-2", "ImageName": "julia-lambda",
        "ImageTag": "latest", "FunctionName": "juliaFunction", "Role": "arn:aws:iam::123456789012:role/lambda-role",
        "Timeout": 20, "MemorySize": 1024, "Dependencies": ["DataFrames", "Distributions"]}"#;
    let toml_text = import::from_config_json("config.json", json).unwrap();
    let file = write(&toml_text);
    let config = Config::load(file.path(), None).unwrap();
    assert_eq!(
        config.get("name", |s| &s.name).unwrap().value,
        "juliaFunction"
    );
    assert_eq!(*config.get("timeout", |s| &s.timeout).unwrap().value, 20);
    assert_eq!(*config.get("memory", |s| &s.memory).unwrap().value, 1024);
    assert_eq!(
        config.get("deps", |s| &s.deps).unwrap().value,
        &vec!["DataFrames".to_string(), "Distributions".into()]
    );
    assert!(config.get("tag", |s| &s.tag).is_none());
    assert_eq!(
        config.get("region", |s| &s.region).unwrap().value,
        "eu-west-2"
    );
    assert!(!toml_text.contains("123456789012\"\n"));
    let err = import::from_config_json("config.json", r#"{"Memory": 1}"#).unwrap_err();
    assert!(err.to_string().contains("\"Memory\""));
}
