//! The removal rules on hand-made listings (the end-to-end tests run them
//! against MiniStack and the engine).

use std::collections::HashMap;

use jot_aws::listing::{
    AliasListing, EcrImage, FunctionListing, RepositoryListing, VersionListing,
};

use super::*;
use crate::model::SourceState;
use crate::model::Status;

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

fn jot_tags(name: &str) -> HashMap<String, String> {
    HashMap::from([(jot_core::labels::JOT_NAME.to_string(), name.to_string())])
}

fn version(n: u8) -> VersionListing {
    VersionListing {
        version: n.to_string(),
        digest: Some(digest(n)),
        image_uri: None,
        last_modified: String::new(),
    }
}

fn function(name: &str, versions: &[u8], alias_on: Option<u8>) -> FunctionListing {
    FunctionListing {
        name: name.into(),
        arn: format!("arn:aws:lambda:us-east-1:1:function:{name}"),
        tags: jot_tags(name),
        state: "Active".into(),
        memory: None,
        timeout: None,
        role: format!("arn:aws:iam::1:role/{ROLE_NAME}"),
        latest: VersionListing {
            version: "$LATEST".into(),
            ..version(*versions.last().unwrap())
        },
        versions: versions.iter().copied().map(version).collect(),
        aliases: alias_on
            .map(|v| AliasListing {
                name: "live".into(),
                version: v.to_string(),
                weights: Vec::new(),
            })
            .into_iter()
            .collect(),
    }
}

fn jot(name: &str, function: Option<FunctionListing>, images: &[u8]) -> Jot {
    Jot {
        name: name.into(),
        responder: None,
        source: SourceState::Current,
        local: Vec::new(),
        repository: Some(RepositoryListing {
            name: name.into(),
            uri: format!("1.dkr.ecr.us-east-1.amazonaws.com/{name}"),
            tags: jot_tags(name),
            images: images
                .iter()
                .rev()
                .map(|&n| EcrImage {
                    digest: digest(n),
                    tags: vec![format!("t{n}")],
                    pushed_at: None,
                    size: None,
                })
                .collect(),
        }),
        function,
        ecr_known: true,
        lambda_known: true,
        status: Status::UpToDate,
    }
}

#[test]
fn keep_one_removes_the_middle_version_and_its_image_only() {
    let f = function("f", &[1, 2, 3], Some(1));
    let jots = [jot("f", Some(f.clone()), &[1, 2, 3])];
    let options = RemoveOptions {
        keep: Some(1),
        ..Default::default()
    };
    let plan = plan(&jots, &[f], &options).unwrap();
    assert_eq!(
        plan.steps,
        [
            Action::DeleteVersion {
                function: "f".into(),
                version: "2".into()
            },
            Action::DeleteImage {
                repository: "f".into(),
                digest: digest(2),
                tags: vec!["t2".into()]
            },
        ]
    );
    assert!(
        plan.kept
            .iter()
            .any(|k| k.what == "Lambda function f version 1"
                && k.reason == "alias live points at it")
    );
}

#[test]
fn an_image_another_function_runs_is_kept_when_its_jot_goes() {
    let f = function("f", &[1], None);
    let other = function("other", &[1], None);
    let jots = [jot("f", Some(f.clone()), &[1])];
    let plan = plan(&jots, &[f, other], &RemoveOptions::default()).unwrap();
    assert!(matches!(plan.steps[0], Action::DeleteFunction { .. }));
    assert_eq!(plan.steps.len(), 1, "{:?}", plan.steps);
    assert!(plan.kept.iter().any(|k| k.reason.contains("other $LATEST")));
    // jot's role stays: `other` still uses it.
    assert!(plan.kept.iter().any(|k| k.what.contains(ROLE_NAME)));
}

#[test]
fn the_last_function_takes_the_role_and_an_empty_repository_goes() {
    let f = function("f", &[1], None);
    let jots = [jot("f", Some(f.clone()), &[1])];
    let plan = plan(&jots, &[f], &RemoveOptions::default()).unwrap();
    assert_eq!(
        plan.steps.last(),
        Some(&Action::DeleteRole {
            role: ROLE_NAME.into()
        })
    );
    assert!(plan.steps.contains(&Action::DeleteRepository {
        repository: "f".into()
    }));
}

#[test]
fn foreign_parts_refuse_the_whole_plan_unless_forced() {
    let mut f = function("f", &[1], None);
    f.tags.clear();
    let jots = [jot("f", Some(f.clone()), &[1])];
    let err = plan(&jots, &[f.clone()], &RemoveOptions::default()).unwrap_err();
    assert_eq!(err.exit_code(), jot_core::error::exit::BAD_INPUT);
    assert!(err.to_string().contains("Lambda function f"), "{err}");
    let forced = RemoveOptions {
        force: true,
        ..Default::default()
    };
    assert!(!plan(&jots, &[f], &forced).unwrap().steps.is_empty());
}

#[test]
fn without_lambda_no_image_is_deleted() {
    let mut j = jot("f", None, &[1]);
    j.lambda_known = false;
    let plan = plan(&[j], &[], &RemoveOptions::default()).unwrap();
    assert!(plan.steps.is_empty(), "{:?}", plan.steps);
    assert_eq!(plan.unknown.len(), 2, "{:?}", plan.unknown);
}
