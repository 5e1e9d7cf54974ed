//! Labels written on every image (and, by the AWS tools, as ECR and Lambda tags)
//! so that the local image, the ECR image and the Lambda function can be linked
//! back to the responder they came from, and stale copies recognised.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::descriptor::{ResponderInfo, ResponderKind};

pub const OCI_CREATED: &str = "org.opencontainers.image.created";
pub const OCI_TITLE: &str = "org.opencontainers.image.title";
pub const OCI_VERSION: &str = "org.opencontainers.image.version";
pub const OCI_REVISION: &str = "org.opencontainers.image.revision";
pub const OCI_SOURCE: &str = "org.opencontainers.image.source";
/// Marks a resource as made by jot: tools never change one without it unless `--force`.
pub const JOT_NAME: &str = "dev.jot.name";
pub const JOT_TREE_HASH: &str = "dev.jot.tree-hash";
pub const JOT_FUNCTION: &str = "dev.jot.function";
pub const JOT_ARG_TYPE: &str = "dev.jot.arg-type";
pub const JOT_RESPONDER_KIND: &str = "dev.jot.responder-kind";
pub const JOT_MODULE: &str = "dev.jot.module";
pub const JOT_VERSION_LABEL: &str = "dev.jot.version";
/// Lambda's name of the image's instruction set (`x86_64`, `arm64`), for jot-deploy.
pub const JOT_ARCHITECTURE: &str = "dev.jot.architecture";
/// The script's `--dep` list, as given (for `jot-ls` and people).
pub const JOT_DEPS: &str = "dev.jot.deps";
/// Lambda publishes a SnapStart version of a container image only if the image
/// implements `/runtime/restore/next` or carries this label set to `Allow`;
/// jot's runtime does both.
pub const SNAPSTART_LABEL: &str = "com.amazonaws.lambda.feature.snapstart";

/// A time as RFC 3339 in UTC, to the second.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// The labels of an image built from `responder` as `name:tag`.
pub fn image_labels(
    name: &str,
    tag: &str,
    responder: &ResponderInfo,
    modified: SystemTime,
) -> HashMap<String, String> {
    let mut labels = HashMap::from([
        (OCI_CREATED, rfc3339(modified)),
        (OCI_TITLE, name.to_string()),
        (OCI_VERSION, tag.to_string()),
        (OCI_REVISION, responder.tree_hash.clone()),
        (OCI_SOURCE, responder.source.clone()),
        (JOT_NAME, name.to_string()),
        (JOT_TREE_HASH, responder.tree_hash.clone()),
        (JOT_FUNCTION, responder.function.clone()),
        (JOT_ARG_TYPE, responder.arg_type.clone()),
        (
            JOT_RESPONDER_KIND,
            match responder.kind {
                ResponderKind::Script => "script",
                ResponderKind::Package => "package",
            }
            .to_string(),
        ),
        (JOT_VERSION_LABEL, crate::JOT_VERSION.to_string()),
        (SNAPSTART_LABEL, "Allow".to_string()),
    ]);
    if let Some(module) = &responder.module {
        labels.insert(JOT_MODULE, module.clone());
    }
    labels
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Rebuilds the responder facts from an image's labels (for `jot-ls` and
/// `jot-invoke --image`); `None` when the image was not built by jot.
pub fn responder_from_labels(labels: &HashMap<String, String>) -> Option<(String, ResponderInfo)> {
    let get = |key: &str| labels.get(key).cloned();
    let kind = match get(JOT_RESPONDER_KIND)?.as_str() {
        "package" => ResponderKind::Package,
        _ => ResponderKind::Script,
    };
    Some((
        get(JOT_NAME)?,
        ResponderInfo {
            source: get(OCI_SOURCE).unwrap_or_default(),
            kind,
            module: get(JOT_MODULE),
            function: get(JOT_FUNCTION)?,
            arg_type: get(JOT_ARG_TYPE).unwrap_or_else(|| "Any".into()),
            tree_hash: get(JOT_TREE_HASH)?,
        },
    ))
}

/// Checks that an image is the one a descriptor names: its jot labels carry
/// the descriptor's `name` and tree hash, and the engine knows it under the
/// descriptor's image reference. A hand-edited descriptor (another jot's
/// image under this name) fails here; the message says which fact differs.
pub fn check_image_matches(
    name: &str,
    tree_hash: &str,
    image: &str,
    labels: &HashMap<String, String>,
    repo_tags: &[String],
) -> Result<(), String> {
    let label = |key: &str| labels.get(key).map(String::as_str);
    match label(JOT_NAME) {
        None => {
            return Err(format!(
                "image {image} has no {JOT_NAME} label, so jot did not build it; build it with jot-build"
            ));
        }
        Some(labelled) if labelled != name => {
            return Err(format!(
                "the descriptor names {name:?} but image {image} is labelled {JOT_NAME}={labelled:?}; use the descriptor jot-build printed for it"
            ));
        }
        Some(_) => {}
    }
    if label(JOT_TREE_HASH) != Some(tree_hash) {
        return Err(format!(
            "the descriptor's tree hash {tree_hash} is not image {image}'s ({JOT_TREE_HASH}={}); use the descriptor jot-build printed for it",
            label(JOT_TREE_HASH).unwrap_or("none")
        ));
    }
    if !repo_tags.iter().any(|t| t == image) {
        return Err(format!(
            "the descriptor's image {image} is not a name of that image (it has {}); use the descriptor jot-build printed for it",
            if repo_tags.is_empty() {
                "none".to_string()
            } else {
                repo_tags.join(", ")
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_matches_only_the_descriptor_of_its_labels_and_tags() {
        let labels = HashMap::from([
            (JOT_NAME.to_string(), "inc".to_string()),
            (JOT_TREE_HASH.to_string(), "ab".to_string()),
        ]);
        let tags = ["inc:t1".to_string()];
        assert_eq!(
            check_image_matches("inc", "ab", "inc:t1", &labels, &tags),
            Ok(())
        );
        let forged = check_image_matches("other", "ab", "inc:t1", &labels, &tags).unwrap_err();
        assert!(forged.contains("labelled dev.jot.name=\"inc\""), "{forged}");
        let hash = check_image_matches("inc", "cd", "inc:t1", &labels, &tags).unwrap_err();
        assert!(hash.contains("tree hash cd"), "{hash}");
        let image = check_image_matches("inc", "ab", "inc:t2", &labels, &tags).unwrap_err();
        assert!(image.contains("it has inc:t1"), "{image}");
        let foreign =
            check_image_matches("inc", "ab", "inc:t1", &HashMap::new(), &tags).unwrap_err();
        assert!(foreign.contains("jot did not build it"), "{foreign}");
    }

    #[test]
    fn labels_round_trip_to_responder_facts() {
        let responder = ResponderInfo {
            source: "/src/Greeter".into(),
            kind: ResponderKind::Package,
            module: Some("Greeter".into()),
            function: "greet".into(),
            arg_type: "String".into(),
            tree_hash: "cd".repeat(32),
        };
        let labels = image_labels("greeter", "abc", &responder, SystemTime::UNIX_EPOCH);
        assert_eq!(labels[OCI_CREATED], "1970-01-01T00:00:00Z");
        assert_eq!(labels[OCI_VERSION], "abc");
        let (name, back) = responder_from_labels(&labels).unwrap();
        assert_eq!(name, "greeter");
        assert_eq!(back, responder);
        assert!(responder_from_labels(&HashMap::new()).is_none());
    }
}
