//! Accounts and regions (issue 21, part 1) against MiniStack, which takes a
//! 12-digit access key as the account id and the SigV4 scope as the region:
//! profiles of a temporary AWS config file (a `credential_process` one and one
//! with keys and a region) select the account and region the function is
//! created in, read back from MiniStack; `[env.prod]` of jot.toml switches
//! both; a descriptor from another region is refused with nothing created;
//! an unknown profile, a failing `credential_process` and an SSO profile with
//! no session are one line each, exit 8.

use std::path::Path;
use std::process::Command;

use jot_tests::aws::{self, ENDPOINT};
use jot_tests::*;
use serde_json::Value;

const DIGEST: &str = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";
/// The accounts the two profiles act in.
const PROCESS_ACCOUNT: &str = "210987654321";
const KEYS_ACCOUNT: &str = "345678901234";

/// A HOME with an AWS config file of four profiles.
fn aws_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"{PROCESS_ACCOUNT}\", \"SecretAccessKey\": \"test\"}}'\n"
        ),
    )
    .unwrap();
    let failing = home.path().join("fail.sh");
    std::fs::write(&failing, "#!/bin/sh\necho 'token expired' >&2\nexit 3\n").unwrap();
    for file in [&script, &failing] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        home.path().join("config"),
        format!(
            "[profile process]\ncredential_process = {}\nregion = eu-west-2\n\n\
             [profile keys]\naws_access_key_id = {KEYS_ACCOUNT}\naws_secret_access_key = test\nregion = ap-southeast-2\n\n\
             [profile failing]\ncredential_process = {}\nregion = eu-west-2\n\n\
             [profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\
             sso_account_id = 111111111111\nsso_role_name = Dev\nregion = us-east-1\n",
            script.display(),
            failing.display()
        ),
    )
    .unwrap();
    home
}

/// A jot tool with only the temporary config file's profiles and MiniStack.
fn tool(name: &str, home: &Path) -> Command {
    let mut command = jot(name);
    aws::isolate(&mut command)
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_ENDPOINT_URL", ENDPOINT)
        .env_remove("JOT_PROFILE")
        .env_remove("JOT_REGION");
    command
}

/// Deletes the function (and jot's role) a test made in another account and region.
struct Made {
    account: &'static str,
    region: &'static str,
    name: String,
}

impl Drop for Made {
    fn drop(&mut self) {
        let path = format!("/2015-03-31/functions/{}", self.name);
        aws::lambda_as(self.account, self.region, "DELETE", &path);
        aws::delete_jot_role_as(self.account);
    }
}

fn function_in(account: &str, region: &str, name: &str) -> (u16, Value) {
    aws::lambda_as(
        account,
        region,
        "GET",
        &format!("/2015-03-31/functions/{name}"),
    )
}

#[test]
fn a_profile_selects_account_and_region_and_env_prod_switches_both() {
    aws::require_ministack();
    let home = aws_home();
    let name = aws::unique("acct");
    let _made = [
        Made {
            account: PROCESS_ACCOUNT,
            region: "eu-west-2",
            name: name.clone(),
        },
        Made {
            account: KEYS_ACCOUNT,
            region: "ap-southeast-2",
            name: name.clone(),
        },
    ];
    let remote = aws::remote_descriptor(&name, "Any", DIGEST);

    // --profile: the credential_process profile's account, its region.
    let output = run_with_stdin(
        tool("jot-deploy", home.path()).args(["--profile", "process"]),
        remote.as_bytes(),
    );
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "{stderr}");
    let deployed = json(&stdout);
    assert_eq!(deployed["aws"]["account"], PROCESS_ACCOUNT, "{stdout}");
    assert_eq!(deployed["aws"]["region"], "eu-west-2", "{stdout}");
    let (status, answer) = function_in(PROCESS_ACCOUNT, "eu-west-2", &name);
    assert_eq!(status, 200, "{answer}");
    let arn = answer["Configuration"]["FunctionArn"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!("arn:aws:lambda:eu-west-2:{PROCESS_ACCOUNT}:")),
        "{arn}"
    );
    assert_eq!(function_in("123456789012", "us-east-1", &name).0, 404);

    // jot.toml: the top selects `process`, [env.prod] the other account and region.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("jot.toml");
    std::fs::write(
        &config,
        "profile = \"process\"\n\n[env.prod]\nprofile = \"keys\"\nregion = \"ap-southeast-2\"\n",
    )
    .unwrap();
    let mut shown = tool("jot-deploy", home.path());
    shown
        .args(["--show-config", "--env-name", "prod", "--config"])
        .arg(&config);
    let (code, stdout, stderr) = outcome(&run_with_stdin(&mut shown, remote.as_bytes()));
    assert_eq!(code, 0, "{stderr}");
    let shown = json(&stdout);
    assert_eq!(shown["aws"]["profile"]["value"], "keys", "{stdout}");
    assert_eq!(
        shown["aws"]["region"]["value"], "ap-southeast-2",
        "{stdout}"
    );
    // A flag beats the file.
    let mut flagged = tool("jot-deploy", home.path());
    flagged
        .args([
            "--show-config",
            "--env-name",
            "prod",
            "--region",
            "eu-west-1",
            "--config",
        ])
        .arg(&config);
    let (_, stdout, _) = outcome(&run_with_stdin(&mut flagged, remote.as_bytes()));
    assert_eq!(
        json(&stdout)["aws"]["region"]["value"],
        "eu-west-1",
        "{stdout}"
    );

    let mut prod = tool("jot-deploy", home.path());
    prod.args(["--env-name", "prod", "--config"]).arg(&config);
    let (code, stdout, stderr) = outcome(&run_with_stdin(&mut prod, remote.as_bytes()));
    assert_eq!(code, 0, "{stderr}");
    let deployed = json(&stdout);
    assert_eq!(deployed["aws"]["account"], KEYS_ACCOUNT, "{stdout}");
    let (status, answer) = function_in(KEYS_ACCOUNT, "ap-southeast-2", &name);
    assert_eq!(status, 200, "{answer}");
    let arn = answer["Configuration"]["FunctionArn"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!("arn:aws:lambda:ap-southeast-2:{KEYS_ACCOUNT}:")),
        "{arn}"
    );

    // A function descriptor from ap-southeast-2, handed to a run in eu-west-2:
    // refused (exit 5), and nothing is created or invoked there.
    let mut other = tool("jot-invoke", home.path());
    other.args(["--profile", "process"]);
    let (code, _, stderr) = outcome(&run_with_stdin(&mut other, stdout.as_bytes()));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("region ap-southeast-2") && stderr.contains("eu-west-2"),
        "{stderr}"
    );
    let fresh = aws::unique("acct-refused");
    let _also = Made {
        account: PROCESS_ACCOUNT,
        region: "eu-west-2",
        name: fresh.clone(),
    };
    let mut moved: Value = serde_json::from_str(&remote).unwrap();
    moved["name"] = fresh.clone().into();
    // Same account, other region.
    moved["aws"] = serde_json::json!({"account": PROCESS_ACCOUNT, "region": "ap-southeast-2"});
    let mut refused = tool("jot-deploy", home.path());
    refused.args(["--profile", "process"]);
    let (code, _, stderr) = outcome(&run_with_stdin(&mut refused, moved.to_string().as_bytes()));
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(function_in(PROCESS_ACCOUNT, "eu-west-2", &fresh).0, 404);
    // The same region but another account: refused too.
    moved["aws"] = serde_json::json!({"account": KEYS_ACCOUNT, "region": "eu-west-2"});
    let mut refused = tool("jot-deploy", home.path());
    refused.args(["--profile", "process"]);
    let (code, _, stderr) = outcome(&run_with_stdin(&mut refused, moved.to_string().as_bytes()));
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains(&format!("account {PROCESS_ACCOUNT}")),
        "{stderr}"
    );
    assert_eq!(function_in(PROCESS_ACCOUNT, "eu-west-2", &fresh).0, 404);
}

#[test]
fn a_profile_that_cannot_give_credentials_is_one_line_and_exit_8() {
    aws::require_ministack();
    let home = aws_home();
    let name = aws::unique("acct-bad");
    let remote = aws::remote_descriptor(&name, "Any", DIGEST);
    for (profile, says) in [
        ("nosuch", "aws configure sso --profile nosuch"),
        ("failing", "credential_process failed"),
        ("sso", "aws sso login --profile sso"),
    ] {
        let output = run_with_stdin(
            tool("jot-deploy", home.path()).args(["--profile", profile]),
            remote.as_bytes(),
        );
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, 8, "{profile}: {stderr}");
        assert!(stderr.contains(says), "{profile}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{profile}: {stderr}");
    }
    // The same through jot.toml's `profile`, and for jot-ls.
    let (code, _, stderr) = outcome(&run(tool("jot-ls", home.path()).args([
        "--remote",
        "--profile",
        "nosuch",
        "--json",
    ])));
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("profile nosuch"), "{stderr}");
    // A malformed region is bad input, before any call.
    let output = run_with_stdin(
        tool("jot-deploy", home.path()).args(["--profile", "keys", "--region", "Mars 1"]),
        remote.as_bytes(),
    );
    let (code, _, stderr) = outcome(&output);
    assert_eq!(code, 5, "{stderr}");
    assert!(stderr.contains("not an AWS region"), "{stderr}");
    assert_eq!(function_in(KEYS_ACCOUNT, "ap-southeast-2", &name).0, 404);
}
