//! Two jot-deploy runs on one function at once, against MiniStack: neither
//! loses its update nor reports a success that did not happen. Each run ends
//! with a published version holding its own settings (RevisionId-guarded
//! updates, versions read back), whether the function existed or not, and in
//! both start orders.

use std::process::Child;

use jot_tests::aws::{self, aws_env};
use jot_tests::lambda_proxy::LambdaProxy;
use jot_tests::*;

const DIGEST: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn remote_descriptor(name: &str) -> String {
    aws::remote_descriptor(name, "Any", DIGEST)
}

fn spawn_deploy(name: &str, memory: u32, lambda: Option<&LambdaProxy>) -> Child {
    let mut command = jot("jot-deploy");
    aws_env(&mut command);
    if let Some(proxy) = lambda {
        command.env("AWS_ENDPOINT_URL_LAMBDA", &proxy.endpoint);
    }
    spawn_with_stdin(
        command
            .args(["--memory", &memory.to_string()])
            .args(["--env", &format!("RUN=m{memory}")]),
        remote_descriptor(name).as_bytes(),
    )
}

fn spawn_deploy_with(name: &str, memory: u32, extra: &[&str]) -> Child {
    spawn_with_stdin(
        aws_env(&mut jot("jot-deploy"))
            .args(extra)
            .args(["--memory", &memory.to_string()])
            .args(["--env", &format!("RUN=m{memory}")]),
        remote_descriptor(name).as_bytes(),
    )
}

/// Runs two deploys at once (the first listed starts first) and checks that
/// each published a version of its own holding its own settings.
fn race(name: &str, memories: [u32; 2], lambda: Option<&LambdaProxy>) {
    let children = memories.map(|m| (m, spawn_deploy(name, m, lambda)));
    let mut versions = Vec::new();
    for (memory, child) in children {
        let output = child.wait_with_output().unwrap();
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "deploy with --memory {memory}: {stderr}");
        let version = json(&stdout)["function"]["version"]
            .as_str()
            .expect("a published version")
            .to_string();
        let published = aws::get_function(name, Some(&version));
        assert_eq!(
            published["Configuration"]["MemorySize"], memory,
            "version {version} claimed by the --memory {memory} run holds other settings: {published}"
        );
        assert_eq!(
            published["Configuration"]["Environment"]["Variables"]["RUN"],
            format!("m{memory}"),
            "{published}"
        );
        versions.push(version);
    }
    assert_ne!(versions[0], versions[1], "both runs claim one version");
}

#[test]
fn concurrent_updates_each_publish_their_own_settings_in_both_orders() {
    aws::require_ministack();
    let name = aws::unique("race-update");
    let _cleanup = aws::Cleanup::named(&name);
    let first = run_with_stdin(
        aws_env(&mut jot("jot-deploy")),
        remote_descriptor(&name).as_bytes(),
    );
    assert_eq!(outcome(&first).0, 0, "{}", outcome(&first).2);
    // Lambda holds the first configuration update it gets until the other
    // run's update is in: the held one names a revision that is gone by then.
    let lambda = LambdaProxy::start(aws::HOST);
    // Neither run of a round may find its settings in place already.
    for memories in [[2048, 3072], [3584, 2560]] {
        let seen = lambda.log().len();
        lambda.hold_first_until_another("PUT", &format!("/functions/{name}/configuration"));
        race(&name, memories, Some(&lambda));
        let updates: Vec<_> = lambda.log()[seen..]
            .iter()
            .filter(|e| e.method == "PUT" && e.path.ends_with("/configuration"))
            .cloned()
            .collect();
        let held = updates
            .iter()
            .position(|e| e.held)
            .unwrap_or_else(|| panic!("no update was held: {updates:?}"));
        let guard = &updates[held];
        assert!(
            updates[..held]
                .iter()
                .any(|e| e.status == 200 && e.body != guard.body),
            "the other run's update did not land while one was held: {updates:?}"
        );
        assert_eq!(
            (guard.status, guard.body.contains("\"RevisionId\"")),
            (412, true),
            "the held update (on a revision gone meanwhile) was not refused: {updates:?}"
        );
        assert!(
            updates[held + 1..]
                .iter()
                .any(|e| e.status == 200 && e.body.contains(&memory_field(&guard.body))),
            "the refused run never made its update again: {updates:?}"
        );
    }
}

/// The `"MemorySize":N` part of an UpdateFunctionConfiguration body.
fn memory_field(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    format!("\"MemorySize\":{}", value["MemorySize"])
}

#[test]
fn concurrent_creates_fall_through_to_an_update() {
    aws::require_ministack();
    let name = aws::unique("race-create");
    let _cleanup = aws::Cleanup::named(&name);
    race(&name, [1536, 2560], None);
}

/// Runs that create one new alias at once: the CreateAlias that loses moves
/// the alias instead of failing, and the alias ends on a version one of them
/// published.
#[test]
fn concurrent_runs_creating_one_alias_all_succeed() {
    aws::require_ministack();
    let name = aws::unique("race-alias");
    let _cleanup = aws::Cleanup::named(&name);
    let first = run_with_stdin(
        aws_env(&mut jot("jot-deploy")),
        remote_descriptor(&name).as_bytes(),
    );
    assert_eq!(outcome(&first).0, 0, "{}", outcome(&first).2);
    let memories = [1024, 1280, 1536, 1792];
    let children = memories.map(|m| (m, spawn_deploy_with(&name, m, &["--alias", "live"])));
    let mut versions = Vec::new();
    for (memory, child) in children {
        let output = child.wait_with_output().unwrap();
        let (code, stdout, stderr) = outcome(&output);
        assert_eq!(code, 0, "deploy with --memory {memory}: {stderr}");
        versions.push(json(&stdout)["function"]["version"].to_string());
    }
    let (status, alias) = aws::lambda(
        "GET",
        &format!("/2015-03-31/functions/{name}/aliases/live"),
        None,
    );
    assert_eq!(status, 200, "{alias}");
    let pinned = alias["FunctionVersion"].to_string();
    assert!(
        versions.contains(&pinned),
        "alias on {pinned}, runs published {versions:?}"
    );
}
