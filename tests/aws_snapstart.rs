//! SnapStart on Lambda (MiniStack): images carry the label that allows it, and
//! `jot-deploy --snapstart` turns it on for published versions, saying that
//! `$LATEST` is not snap-started.

use jot_tests::aws::{self, aws_env};
use jot_tests::*;

#[test]
fn deploy_snapstart_applies_to_published_versions() {
    aws::require_ministack();
    let name = aws::unique("snapstart");
    let script = script("snap.jl", "snap(x) = x\n");
    let local = build(&script.path, &["--name", &name]);
    let image = json(&local)["local_image"]["image"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        inspect_image(&image)["Config"]["Labels"]["com.amazonaws.lambda.feature.snapstart"],
        "Allow"
    );
    let pushed = run_with_stdin(aws_env(&mut jot("jot-push")), local.as_bytes());
    let (code, remote, stderr) = outcome(&pushed);
    assert_eq!(code, 0, "jot-push failed: {stderr}");
    let deployed = run_with_stdin(
        aws_env(&mut jot("jot-deploy")).arg("--snapstart"),
        remote.as_bytes(),
    );
    let (code, _, stderr) = outcome(&deployed);
    assert_eq!(code, 0, "jot-deploy failed: {stderr}");
    assert!(stderr.contains("$LATEST is not snap-started"), "{stderr}");
    let function = aws::get_function(&name, None);
    assert_eq!(
        function["Configuration"]["SnapStart"]["ApplyOn"], "PublishedVersions",
        "{function}"
    );
    let _ = aws::lambda("DELETE", &format!("/2015-03-31/functions/{name}"), None);
    aws::ecr(
        "DeleteRepository",
        serde_json::json!({"repositoryName": name, "force": true}),
    );
    let _ = std::process::Command::new("docker")
        .args(["image", "rm", &image])
        .output();
}
