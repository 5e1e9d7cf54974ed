//! The local side: images in the Docker engine, grouped by image id, with
//! the jot facts their labels carry.

use jot_core::image_ref::ImageRef;
use jot_core::labels;
use jot_core::{Error, Result};
use jot_docker::Docker;

use crate::filter::NameFilter;
use crate::model::LocalCopy;

/// jot's own runtime layers: shared by every script, never a jot.
const RUNTIME_REPOSITORY: &str = "jot-runtime";

/// Every local image of a jot whose name passes `filter`; with `foreign_too`,
/// also images without jot's labels whose repository name passes it.
pub async fn collect_local(
    docker: &Docker,
    filter: &NameFilter,
    foreign_too: bool,
) -> Result<Vec<LocalCopy>> {
    let summaries = if foreign_too {
        jot_docker::list_all_images(docker).await
    } else {
        jot_docker::list_images(docker, labels::JOT_NAME).await
    }
    .map_err(Error::from)?;
    let mut copies = Vec::new();
    for summary in summaries {
        let responder = labels::responder_from_labels(&summary.labels);
        let label_name = summary.labels.get(labels::JOT_NAME).cloned();
        let references: Vec<(String, String)> = summary
            .repo_tags
            .iter()
            .filter(|t| t.as_str() != "<none>:<none>")
            .filter_map(|t| {
                let short = ImageRef::parse(t).ok()?.short_name().to_string();
                Some((short, t.clone()))
            })
            .collect();
        // A jot image belongs to its labelled name; a foreign one to each
        // repository name it is tagged under.
        let mut names: Vec<String> = match &label_name {
            Some(name) => vec![name.clone()],
            None => references.iter().map(|(short, _)| short.clone()).collect(),
        };
        names.dedup();
        let digests: Vec<String> = summary
            .repo_digests
            .iter()
            .filter_map(|d| d.split_once('@').map(|(_, digest)| digest.to_string()))
            .collect();
        for name in names {
            if name == RUNTIME_REPOSITORY || !filter.matches(&name) {
                continue;
            }
            let mine: Vec<String> = references
                .iter()
                .filter(|(short, _)| *short == name)
                .map(|(_, reference)| reference.clone())
                .collect();
            if mine.is_empty() {
                continue;
            }
            copies.push(LocalCopy {
                name,
                jot: label_name.is_some(),
                references: mine,
                id: summary.id.clone(),
                size: summary.size,
                created: summary.created,
                tree_hash: responder.as_ref().map(|(_, r)| r.tree_hash.clone()),
                responder: responder.as_ref().map(|(_, r)| r.clone()),
                digests: digests.clone(),
                architecture: summary.labels.get(labels::JOT_ARCHITECTURE).cloned(),
            });
        }
    }
    copies.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(copies)
}
