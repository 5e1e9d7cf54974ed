//! jot-serve through real AWS clients: boto3 and the AWS CLI (from PyPI, in
//! the virtualenv scripts/ensure-sdk-clients.sh makes) with nothing changed
//! but the endpoint and the credentials jot-serve wrote (its profile): invoke, function errors, qualifiers, log tail, DryRun,
//! Event retries to the dead-letter file, list/get, a --watch rollout to
//! version 2, an alias splitting 1,000 calls by its weights, and every
//! sandbox's AWS_LAMBDA_FUNCTION_VERSION agreeing with X-Amz-Executed-Version.

use std::path::PathBuf;
use std::process::Command;

use jot_tests::aws::unique;
use jot_tests::serve::Serve;
use jot_tests::{build, script};

const V1: &str = "function sdkfun(x)\n    get(x, \"fail\", false) && error(\"boom\")\n    println(\"a line from Julia\")\n    Dict(\"version\" => 1, \"v\" => get(x, \"v\", 0), \"fv\" => ENV[\"AWS_LAMBDA_FUNCTION_VERSION\"])\nend\n";
const V2: &str = "function sdkfun(x)\n    Dict(\"version\" => 2, \"v\" => get(x, \"v\", 0), \"fv\" => ENV[\"AWS_LAMBDA_FUNCTION_VERSION\"])\nend\n";

fn sdk_python() -> PathBuf {
    let venv = std::env::var("JOT_SDK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/jot/sdk-venv")
        });
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make sdk-clients` (make test does)",
        python.display()
    );
    python
}

#[test]
fn boto3_and_the_aws_cli_use_jot_serve_as_lambda() {
    let python = sdk_python();
    let source = script("sdkfun.jl", V1);
    let name = unique("sdk");
    // jot-serve --watch builds the new version and prints no descriptor of it.
    let _rebuilt = jot_tests::LocalImagesOf {
        name: name.clone(),
        dir: source.dir.path().to_path_buf(),
    };
    let descriptor = build(&source.path, &["--arg-type", "Any", "--name", &name]);
    let dead_letter = source.dir.path().join("dead-letter.ndjson");
    let mut serve = Serve::start(
        &descriptor,
        &[
            "--watch",
            "--event-retry-delay",
            "50",
            "--dead-letter",
            dead_letter.to_str().unwrap(),
        ],
    );
    let output = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/sdk/serve_clients.py"
        ))
        .args([&serve.endpoint, &name])
        .arg(&source.path)
        .arg(&dead_letter)
        .arg(V2)
        .env("JOT_BASE_IMAGE", jot_tests::base_image())
        // As jot-serve's start line says: its credentials file and profile.
        .env("AWS_SHARED_CREDENTIALS_FILE", serve.credentials_file())
        .env("AWS_PROFILE", "jot-serve")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(serve.stop("TERM"), 143);
    assert!(serve.containers().is_empty());
}
