//! Joining the copies into one [`Jot`] per name. A part belongs to a jot by
//! the `dev.jot.name` its labels or tags carry (foreign parts by their own
//! name); how the parts relate — pushed, deployed, pinned — is decided only by
//! digests, and the source's state by the tree hash.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jot_core::descriptor::ResponderInfo;
use jot_core::labels;

use crate::collect::Collected;
use crate::filter::NameFilter;
use crate::model::{Jot, SourceState, Status, repository_is_jot};

/// The jot name a repository or function belongs to: its `dev.jot.name`
/// tag, else (foreign) its own name.
fn owner(tags: &HashMap<String, String>, own: &str) -> String {
    tags.get(labels::JOT_NAME)
        .cloned()
        .unwrap_or_else(|| own.to_string())
}

/// Joins what was collected into jots whose name passes `filter`, newest
/// first; foreign parts only when `foreign`.
pub fn join(collected: &Collected, filter: &NameFilter, foreign: bool) -> Vec<Jot> {
    let ecr_known = matches!(collected.repositories, Some(Ok(_)));
    let lambda_known = matches!(collected.functions, Some(Ok(_)));
    let mut jots: BTreeMap<String, Jot> = BTreeMap::new();
    let new = |name: &str| Jot {
        name: name.to_string(),
        responder: None,
        source: SourceState::Unknown,
        local: Vec::new(),
        repository: None,
        function: None,
        ecr_known,
        lambda_known,
        status: Status::UpToDate,
    };
    if let Some(Ok(local)) = &collected.local {
        for copy in local.iter().filter(|c| foreign || c.jot) {
            slot(&mut jots, &copy.name, &new).local.push(copy.clone());
        }
    }
    if let Some(Ok(repositories)) = &collected.repositories {
        for repository in repositories {
            if !foreign && !repository_is_jot(repository) {
                continue;
            }
            let name = owner(&repository.tags, &repository.name);
            slot(&mut jots, &name, &new).repository = Some(repository.clone());
        }
    }
    if let Some(Ok(functions)) = &collected.functions {
        for function in functions {
            if !foreign && !function.is_jot() {
                continue;
            }
            let name = owner(&function.tags, &function.name);
            slot(&mut jots, &name, &new).function = Some(function.clone());
        }
    }
    let mut jots: Vec<Jot> = jots
        .into_values()
        .filter(|j| filter.matches(&j.name))
        .map(|mut jot| {
            jot.local.sort_by_key(|l| std::cmp::Reverse(l.created));
            jot.responder = responder_of(&jot);
            jot.source = source_state(jot.responder.as_ref());
            jot.status = crate::status::status(&jot);
            jot
        })
        .collect();
    jots.sort_by(|a, b| b.newest().cmp(&a.newest()).then(a.name.cmp(&b.name)));
    jots
}

/// The jot named `name`, made by `new` when it is the first part seen.
fn slot<'a>(
    jots: &'a mut BTreeMap<String, Jot>,
    name: &str,
    new: &impl Fn(&str) -> Jot,
) -> &'a mut Jot {
    jots.entry(name.to_string()).or_insert_with(|| new(name))
}

/// The responder facts of the newest copy: a local image's labels, else the
/// function's tags, else the repository's.
fn responder_of(jot: &Jot) -> Option<ResponderInfo> {
    if let Some(responder) = jot.local.iter().find_map(|l| l.responder.clone()) {
        return Some(responder);
    }
    let from_tags = |tags: &HashMap<String, String>| {
        labels::responder_from_labels(tags).map(|(_, responder)| responder)
    };
    jot.function
        .as_ref()
        .and_then(|f| from_tags(&f.tags))
        .or_else(|| jot.repository.as_ref().and_then(|r| from_tags(&r.tags)))
}

/// Reads the source again and compares its tree hash with the built one.
fn source_state(responder: Option<&ResponderInfo>) -> SourceState {
    let Some(responder) = responder else {
        return SourceState::Unknown;
    };
    let path = Path::new(&responder.source);
    if responder.source.is_empty() {
        return SourceState::Unknown;
    }
    if !path.exists() {
        return SourceState::Gone;
    }
    match jot_image::Responder::load(path, Some(&responder.function), Some(&responder.arg_type)) {
        Ok(now) if now.info.tree_hash == responder.tree_hash => SourceState::Current,
        Ok(_) => SourceState::Changed,
        // It exists but no longer loads (the function was renamed, …): changed.
        Err(_) => SourceState::Changed,
    }
}
