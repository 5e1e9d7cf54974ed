//! A rebuild under a reference that already names another jot image (the same
//! tag over different content: the same code from another path, another
//! modification time) takes the tag away from it. The old image is removed
//! then, unless something still uses it, so rebuilds leave no untagged images.

use jot_core::labels;
use jot_docker::{Docker, inspect_image, remove_image};

/// The id of the jot-built image `reference` names now, if any (an image
/// without jot's labels is never ours to remove).
pub(crate) async fn current_jot_image(docker: &Docker, reference: &str) -> Option<String> {
    let existing = inspect_image(docker, reference).await.ok()??;
    let ours = existing.labels.contains_key(labels::JOT_NAME);
    ours.then_some(existing.id)
}

/// Removes `previous` once `current` holds its tag, if nothing else names or
/// uses it. Best effort: the new image is built and tagged either way, and the
/// engine refuses (without force) an image a container or a child image uses.
pub(crate) async fn remove_replaced(docker: &Docker, previous: Option<String>, current: &str) {
    let Some(previous) = previous.filter(|p| p != current) else {
        return;
    };
    let Ok(Some(image)) = inspect_image(docker, &previous).await else {
        return;
    };
    // Still named elsewhere (`docker tag`, another jot tag): it stays.
    if !image.repo_tags.is_empty() {
        return;
    }
    let _ = remove_image(docker, &previous, false).await;
}
