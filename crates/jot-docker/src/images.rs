//! Images in the engine: inspect, list, tag, remove, history, pull and load.

use std::collections::HashMap;

use bollard::query_parameters::{
    CreateImageOptionsBuilder, ImportImageOptionsBuilder, ListImagesOptions,
    RemoveImageOptionsBuilder, TagImageOptions,
};
use futures_util::StreamExt;

use crate::Docker;
use crate::error::{DockerError, Result};

/// What the engine knows of one image.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// `sha256:…`
    pub id: String,
    pub repo_tags: Vec<String>,
    /// `repository@sha256:…` for each registry it was pushed to or pulled from.
    pub repo_digests: Vec<String>,
    /// OCI architecture (`amd64`, `arm64`), when the engine says.
    pub architecture: Option<String>,
    pub os: Option<String>,
    /// RFC 3339, as the engine gives it.
    pub created: Option<String>,
    /// The labels of its config.
    pub labels: HashMap<String, String>,
    /// The diff ids of its layers, oldest first.
    pub layers: Vec<String>,
    /// Its container config as the engine's JSON (`Env`, `Labels`, `Cmd`…),
    /// for an image made on top of it.
    pub config: serde_json::Value,
}

impl Image {
    fn from_engine(inspect: bollard::models::ImageInspect) -> Result<Image> {
        let config = inspect.config.unwrap_or_default();
        let labels = config.labels.clone().unwrap_or_default();
        let config = serde_json::to_value(config).map_err(|e| DockerError::Transport {
            context: "reading an image's config".into(),
            detail: e.to_string(),
        })?;
        Ok(Image {
            id: inspect.id.unwrap_or_default(),
            repo_tags: inspect.repo_tags.unwrap_or_default(),
            repo_digests: inspect.repo_digests.unwrap_or_default(),
            architecture: inspect.architecture,
            os: inspect.os,
            created: inspect.created,
            labels,
            layers: inspect.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            config,
        })
    }
}

/// One image of a listing.
#[derive(Debug, Clone, Default)]
pub struct ImageSummary {
    pub id: String,
    /// The image it was built on, by the classic builder (empty otherwise).
    pub parent_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub labels: HashMap<String, String>,
    /// Bytes.
    pub size: i64,
    /// Seconds since the epoch.
    pub created: i64,
}

impl From<bollard::models::ImageSummary> for ImageSummary {
    fn from(summary: bollard::models::ImageSummary) -> Self {
        ImageSummary {
            id: summary.id,
            parent_id: summary.parent_id,
            repo_tags: summary.repo_tags,
            repo_digests: summary.repo_digests,
            labels: summary.labels,
            size: summary.size,
            created: summary.created,
        }
    }
}

/// One step of an image's history, newest first as the engine lists them.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// Seconds since the epoch.
    pub created: i64,
    pub created_by: String,
    pub comment: String,
    /// Bytes of the layer the step made (0: a metadata step).
    pub size: i64,
}

/// The image's metadata, or `None` when the engine has no such image.
pub async fn inspect_image(docker: &Docker, image: &str) -> Result<Option<Image>> {
    match docker.client.inspect_image(image).await {
        Ok(inspect) => Image::from_engine(inspect).map(Some),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(DockerError::from_engine(
            &format!("inspecting image {image}"),
            e,
        )),
    }
}

async fn list(docker: &Docker, options: ListImagesOptions) -> Result<Vec<ImageSummary>> {
    docker
        .client
        .list_images(Some(options))
        .await
        .map(|images| images.into_iter().map(ImageSummary::from).collect())
        .map_err(|e| DockerError::from_engine("listing images", e))
}

/// Every image carrying `label` (any value).
pub async fn list_images(docker: &Docker, label: &str) -> Result<Vec<ImageSummary>> {
    let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
    list(
        docker,
        ListImagesOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        },
    )
    .await
}

/// Every image in the engine (for `jot-ls --all`, which marks foreign ones).
pub async fn list_all_images(docker: &Docker) -> Result<Vec<ImageSummary>> {
    list(
        docker,
        ListImagesOptions {
            all: false,
            ..Default::default()
        },
    )
    .await
}

/// The ids of the images (intermediate ones included) built on `parent`.
pub async fn child_images(docker: &Docker, parent: &str) -> Result<Vec<String>> {
    let all = list(
        docker,
        ListImagesOptions {
            all: true,
            ..Default::default()
        },
    )
    .await?;
    Ok(all
        .into_iter()
        .filter(|image| image.parent_id == parent)
        .map(|image| image.id)
        .collect())
}

/// Tags `image` (an id or reference) as `repository:tag`.
pub async fn tag_image(docker: &Docker, image: &str, repository: &str, tag: &str) -> Result<()> {
    docker
        .client
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
        .client
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

/// The image's history, newest step first.
pub async fn image_history(docker: &Docker, image: &str) -> Result<Vec<HistoryEntry>> {
    let items = docker
        .client
        .image_history(image)
        .await
        .map_err(|e| DockerError::from_engine(&format!("reading the history of {image}"), e))?;
    Ok(items
        .into_iter()
        .map(|item| HistoryEntry {
            created: item.created,
            created_by: item.created_by,
            comment: item.comment,
            size: item.size,
        })
        .collect())
}

/// Pulls `name:tag` from its registry (for `platform`, `linux/arm64`, when
/// given; else the engine's own).
pub async fn pull_image(
    docker: &Docker,
    name: &str,
    tag: &str,
    platform: Option<&str>,
) -> Result<()> {
    let mut options = CreateImageOptionsBuilder::default()
        .from_image(name)
        .tag(tag);
    if let Some(platform) = platform {
        options = options.platform(platform);
    }
    let mut stream = docker
        .client
        .create_image(Some(options.build()), None, None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| DockerError::from_engine(&format!("pulling {name}:{tag}"), e))?;
    }
    Ok(())
}

/// Loads an image archive (`docker load`: a `manifest.json`, image configs
/// and the layers the engine does not have yet). `what` names it in errors;
/// an archive the engine rejects is [`DockerError::Failed`].
pub async fn load_image(docker: &Docker, archive: Vec<u8>, what: &str) -> Result<()> {
    let options = ImportImageOptionsBuilder::default().quiet(true).build();
    let mut stream = docker
        .client
        .import_image(options, bollard::body_full(archive.into()), None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| DockerError::from_engine(&format!("loading {what}"), e))?;
        if let Some(message) = info.error_detail.and_then(|d| d.message).or(info.error) {
            return Err(DockerError::Failed {
                context: format!("loading {what}"),
                message,
            });
        }
    }
    Ok(())
}
