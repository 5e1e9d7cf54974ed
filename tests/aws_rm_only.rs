//! `jot-rm --only local|ecr|function|versions` (README, docs/reference.md):
//! each part goes alone, read back from the engine, ECR and Lambda, and
//! `--only ecr` keeps the image `$LATEST` runs.

use jot_tests::aws::{self, aws_env};
use jot_tests::*;

/// Removes every copy of the jot when dropped, also when the test failed.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = run(aws_env(&mut jot("jot-rm")).args([&self.0, "--yes", "--force", "-q"]));
        // Whatever jot-rm could not remove (MiniStack's side).
        drop(aws::Cleanup::named(&self.0));
    }
}

fn ok(tool: &str, args: &[&str], stdin: &str) -> String {
    let (code, stdout, stderr) = outcome(&run_with_stdin(
        aws_env(&mut jot(tool)).args(args),
        stdin.as_bytes(),
    ));
    assert_eq!(code, 0, "{tool} {args:?}: {stderr}\n{stdout}");
    stdout
}

/// The engine's references of the jot's local images (`name:tag` and the
/// pushed `registry/name:tag`), sorted.
fn local_references(name: &str) -> Vec<String> {
    let listed = run(std::process::Command::new("docker").args([
        "image",
        "ls",
        "--filter",
        &format!("label=dev.jot.name={name}"),
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]));
    let mut references: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    references.sort();
    references
}

fn function_exists(name: &str) -> bool {
    let (status, answer) = aws::lambda("GET", &format!("/2015-03-31/functions/{name}"), None);
    match status {
        200 => true,
        404 => false,
        _ => panic!("GetFunction {name} answered {status}: {answer}"),
    }
}

/// Builds, pushes and (when `deploy`) deploys version `n` of the jot: its digest.
fn ship(script: &Script, name: &str, n: u32, deploy: bool) -> String {
    std::fs::write(&script.path, format!("rm_only(x) = x + {n}\n")).unwrap();
    let built = build(&script.path, &["--name", name, "--arg-type", "Int"]);
    let pushed = ok("jot-push", &["-q"], &built);
    if deploy {
        ok("jot-deploy", &["-q"], &pushed);
    }
    json(&pushed)["remote_image"]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn each_only_part_goes_alone() {
    aws::require_ministack();
    let name = aws::unique("rm-only");
    let _cleanup = Cleanup(name.clone());
    let script = script("rm_only.jl", "");
    let d1 = ship(&script, &name, 1, true);
    let d2 = ship(&script, &name, 2, true);
    let d3 = ship(&script, &name, 3, false);
    let all_digests = {
        let mut all = vec![d1.clone(), d2.clone(), d3.clone()];
        all.sort();
        all
    };
    let references = local_references(&name);
    assert_eq!(
        references.len(),
        6,
        "3 images, 2 references each: {references:?}"
    );
    assert_eq!(aws::published_versions(&name), ["1", "2"]);
    assert_eq!(aws::ecr_images(&name), all_digests);

    // --only versions: the published versions, nothing else.
    let done = ok("jot-rm", &[&name, "--only", "versions", "--yes"], "");
    assert!(
        aws::published_versions(&name).is_empty(),
        "versions left: {done}"
    );
    assert!(function_exists(&name), "the function went: {done}");
    assert_eq!(aws::ecr_images(&name), all_digests, "{done}");
    assert_eq!(local_references(&name), references, "{done}");

    // --only ecr: the images nothing runs any more; $LATEST's stays.
    let done = ok("jot-rm", &[&name, "--only", "ecr", "--yes"], "");
    assert_eq!(aws::ecr_images(&name), [d2.as_str()], "{done}");
    assert!(function_exists(&name), "the function went: {done}");
    assert_eq!(local_references(&name), references, "{done}");

    // --only local: every local reference, nothing remote.
    let done = ok("jot-rm", &[&name, "--only", "local", "--yes"], "");
    assert!(
        local_references(&name).is_empty(),
        "local images left: {:?}\n{done}",
        local_references(&name)
    );
    assert!(function_exists(&name), "the function went: {done}");
    assert_eq!(aws::ecr_images(&name), [d2.as_str()], "{done}");

    // --only function: the function, not its image in ECR.
    let done = ok("jot-rm", &[&name, "--only", "function", "--yes"], "");
    assert!(!function_exists(&name), "the function stayed: {done}");
    assert_eq!(aws::ecr_images(&name), [d2], "{done}");
}

/// A step whose resource went between the plan and the step (another run
/// deleted it) is done, "already gone" (docs/reference.md: "every step
/// treats 'already gone' as done"): a proxy in front of Lambda holds
/// jot-rm's DeleteFunction while the test deletes the function itself.
#[test]
fn a_resource_gone_between_plan_and_step_is_already_gone_and_done() {
    aws::require_ministack();
    let name = aws::unique("rm-gone");
    let _cleanup = Cleanup(name.clone());
    let digest = format!("sha256:{}", "e".repeat(64));
    ok(
        "jot-deploy",
        &["-q"],
        &aws::remote_descriptor(&name, "Any", &digest),
    );
    let proxy = jot_tests::lambda_proxy::LambdaProxy::start(aws::HOST);
    proxy.hold_first("DELETE", &format!("/functions/{name}"));
    let mut command = jot("jot-rm");
    aws_env(&mut command)
        .env("AWS_ENDPOINT_URL_LAMBDA", &proxy.endpoint)
        .args([&name, "--only", "function", "--yes"]);
    let child = spawn_with_stdin(&mut command, b"");
    assert!(proxy.wait_held(), "jot-rm never sent its DeleteFunction");
    let (status, answer) = aws::lambda("DELETE", &format!("/2015-03-31/functions/{name}"), None);
    assert_eq!(status, 204, "{answer}");
    proxy.release();
    let (code, stdout, stderr) = outcome(&child.wait_with_output().unwrap());
    let held: Vec<u16> = proxy
        .log()
        .iter()
        .filter(|e| e.held)
        .map(|e| e.status)
        .collect();
    assert_eq!(
        held,
        [404],
        "the held DeleteFunction did not find the function gone"
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    assert!(
        stdout.contains(&format!("already gone: Lambda function {name}")),
        "{stdout}"
    );
    assert!(!stdout.contains("deleted Lambda function"), "{stdout}");
}
