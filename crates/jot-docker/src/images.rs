//! Images in the engine: inspect, list by label, tag, remove.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ImageInspect, ImageSummary};
use bollard::query_parameters::{ListImagesOptions, RemoveImageOptionsBuilder, TagImageOptions};

use crate::error::{DockerError, Result};

/// The image's metadata, or `None` when the engine has no such image.
pub async fn inspect_image(docker: &Docker, image: &str) -> Result<Option<ImageInspect>> {
    match docker.inspect_image(image).await {
        Ok(inspect) => Ok(Some(inspect)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(DockerError::from_engine(
            &format!("inspecting image {image}"),
            e,
        )),
    }
}

/// Every image carrying `label` (any value).
pub async fn list_images(docker: &Docker, label: &str) -> Result<Vec<ImageSummary>> {
    let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
    docker
        .list_images(Some(ListImagesOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(|e| DockerError::from_engine("listing images", e))
}

/// Every image in the engine (for `jot-ls --all`, which marks foreign ones).
pub async fn list_all_images(docker: &Docker) -> Result<Vec<ImageSummary>> {
    docker
        .list_images(Some(ListImagesOptions {
            all: false,
            ..Default::default()
        }))
        .await
        .map_err(|e| DockerError::from_engine("listing images", e))
}

/// Tags `image` (an id or reference) as `repository:tag`.
pub async fn tag_image(docker: &Docker, image: &str, repository: &str, tag: &str) -> Result<()> {
    docker
        .tag_image(
            image,
            Some(TagImageOptions {
                repo: Some(repository.to_string()),
                tag: Some(tag.to_string()),
            }),
        )
        .await
        .map_err(|e| DockerError::from_engine(&format!("tagging {repository}:{tag}"), e))
}

/// Removes an image reference (or id). `Ok(false)` when it was already gone.
pub async fn remove_image(docker: &Docker, image: &str, force: bool) -> Result<bool> {
    match docker
        .remove_image(
            image,
            Some(RemoveImageOptionsBuilder::new().force(force).build()),
            None,
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(e) => Err(DockerError::from_engine(
            &format!("removing image {image}"),
            e,
        )),
    }
}
