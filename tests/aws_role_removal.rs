//! jot's shared execution role goes with the last function that uses it, and
//! not before (docs/reference.md, jot-rm: "jot's IAM role when no other
//! function uses it"), read back from IAM. A test binary of its own: it needs
//! an account where no other test's function uses jot's role (cargo runs test
//! binaries one after another; tests/aws_role_race.rs deletes the role too).

use jot_tests::aws::{self, aws_env};
use jot_tests::*;

const ROLE: &str = "jot-lambda-basic-execution";
const DIGEST: &str = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

fn role_exists() -> bool {
    let (status, answer) = aws::iam(&[("Action", "GetRole"), ("RoleName", ROLE)]);
    match status {
        200 => true,
        404 => false,
        _ => panic!("GetRole {ROLE} answered {status}: {answer}"),
    }
}

/// Functions other than `mine` whose execution role is jot's.
fn other_users(mine: &[String]) -> Vec<String> {
    let (_, functions) = aws::lambda("GET", "/2015-03-31/functions/?MaxItems=10000", None);
    functions["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            f["Role"]
                .as_str()
                .is_some_and(|r| r.ends_with(&format!(":role/{ROLE}")))
        })
        .filter_map(|f| f["FunctionName"].as_str().map(str::to_string))
        .filter(|n| !mine.contains(n))
        .collect()
}

fn remove(name: &str) -> String {
    let output = run(aws_env(&mut jot("jot-rm")).args([name, "--yes"]));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, 0, "jot-rm {name}: {stderr}");
    stdout
}

#[test]
fn jots_role_goes_with_the_last_function_that_uses_it() {
    aws::require_ministack();
    let names: Vec<String> = (0..2).map(|_| aws::unique("role-rm")).collect();
    let _cleanups: Vec<_> = names.iter().map(|n| aws::Cleanup::named(n)).collect();
    let others = other_users(&names);
    assert!(
        others.is_empty(),
        "other functions use {ROLE}, so its removal cannot be shown here (leftovers of another test?): {others:?}"
    );
    for name in &names {
        let descriptor = aws::remote_descriptor(name, "Any", DIGEST);
        let output = run_with_stdin(aws_env(&mut jot("jot-deploy")), descriptor.as_bytes());
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, 0, "deploy of {name}: {stderr}");
    }
    assert!(role_exists(), "jot-deploy did not make {ROLE}");

    // One of two users goes: the role stays.
    let stdout = remove(&names[0]);
    assert!(
        role_exists(),
        "{ROLE} went while {} still uses it: {stdout}",
        names[1]
    );
    assert!(
        !stdout.contains(&format!("deleted IAM role {ROLE}")),
        "jot-rm deleted the role: {stdout}"
    );

    // The last user goes: so does the role, with its policy detached.
    let stdout = remove(&names[1]);
    assert!(
        !role_exists(),
        "{ROLE} is still there after its last function went: {stdout}"
    );
    assert!(
        stdout.contains(&format!("deleted IAM role {ROLE}")),
        "jot-rm did not report the role's removal: {stdout}"
    );
    let (status, _) = aws::lambda("GET", &format!("/2015-03-31/functions/{}", names[1]), None);
    assert_eq!(status, 404, "the function is still there");
}
