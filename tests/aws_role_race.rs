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
    let names: Vec<String> = (0..8).map(|_| aws::unique("role-race")).collect();
    let _cleanups: Vec<_> = names.iter().map(|n| aws::Cleanup::named(n)).collect();
    let children: Vec<_> = names
        .iter()
        .map(|name| {
            let descriptor = aws::remote_descriptor(name, "Any", DIGEST);
            spawn_with_stdin(aws_env(&mut jot("jot-deploy")), descriptor.as_bytes())
        })
        .collect();
    for (name, child) in names.iter().zip(children) {
        let output = child.wait_with_output().unwrap();
        let (code, _, stderr) = outcome(&output);
        assert_eq!(code, 0, "deploy of {name}: {stderr}");
        let function = aws::get_function(name, None);
        let role = function["Configuration"]["Role"]
            .as_str()
            .unwrap_or_default();
        assert!(role.ends_with(&format!(":role/{ROLE}")), "{function}");
    }
    let (status, answer) = aws::iam(&[("Action", "GetRole"), ("RoleName", ROLE)]);
    assert_eq!(status, 200, "{answer}");
}
