//! Runs last (cargo runs test binaries in name order): nothing the earlier
//! test binaries of this `cargo test` run created is left, neither a sandbox
//! nor an image in the engine, nor a repository, function or role in MiniStack.
//! Only this run's own resources count (by the run id in their names and
//! sources), so other runs on a shared machine do not.

use jot_tests::*;

#[test]
fn this_run_left_no_sandbox_image_or_aws_resource() {
    let prefix = std::env::temp_dir().join(run_prefix());
    let prefix = prefix.to_string_lossy();
    let containers = jot_containers_from(&prefix);
    assert!(containers.is_empty(), "sandboxes left: {containers:?}");
    let images = jot_images_from(&prefix);
    assert!(images.is_empty(), "images left: {images:?}");
    aws::require_ministack();
    let resources = aws::resources_with(&format!("-{}-", aws::run_marker()));
    assert!(
        resources.is_empty(),
        "MiniStack resources left: {resources:?}"
    );
}
