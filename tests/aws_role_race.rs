//! Deploys that start at once on an account without jot's role: the role is
//! created once, and the runs whose CreateRole loses the race use it instead
//! of failing (a fresh CI account hit exactly this). A test binary of its own,
//! because it deletes the shared role first.

use jot_tests::aws::{self, aws_env};
use jot_tests::*;

const ROLE: &str = "jot-lambda-basic-execution";
const DIGEST: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

#[test]
fn first_deploys_at_once_share_one_new_role() {
    aws::require_ministack();
    aws::delete_role(ROLE);
    // The race is only a race on an account without the role.
    let (status, answer) = aws::iam(&[("Action", "GetRole"), ("RoleName", ROLE)]);
    assert_eq!(status, 404, "the role is still there: {answer}");
    assert!(answer.contains("NoSuchEntity"), "{answer}");
    let names: Vec<String> = (0..8).map(|_| aws::unique("role-race")).collect();
    let _cleanups: Vec<_> = names.iter().map(|n| aws::Cleanup::named(n)).collect();
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            let descriptor = aws::remote_descriptor(name, "Any", DIGEST);
            spawn_with_stdin(aws_env(&mut jot("jot-deploy")), descriptor.as_bytes())
        })
        .collect();
    let mut creators = Vec::new();
    for (name, child) in names.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, 0, "deploy of {name}: {stderr}");
        // jot-deploy says so when it created the role (roles.rs); a run that
        // found it (or lost CreateRole to another) says nothing about it.
        let said = stderr
            .lines()
            .filter(|l| l.contains("created IAM role arn:aws:iam::"))
            .count();
        assert!(
            said <= 1,
            "deploy of {name} created the role {said} times: {stderr}"
        );
        if said == 1 {
            creators.push(name.clone());
        }
        let function = aws::get_function(name, None);
        let role = function["Configuration"]["Role"]
            .as_str()
            .unwrap_or_default();
        assert!(role.ends_with(&format!(":role/{ROLE}")), "{function}");
    }
    assert_eq!(
        creators.len(),
        1,
        "runs that created the role: {creators:?}"
    );
    let (status, answer) = aws::iam(&[("Action", "GetRole"), ("RoleName", ROLE)]);
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(&format!(":role/{ROLE}</Arn>")), "{answer}");
}
