//! The engine's builder: a Dockerfile and its context into a tagged image,
//! leaving nothing half-made when a step fails.

use std::collections::HashMap;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use crate::Docker;
use crate::error::DockerError;
use crate::images::remove_image;

/// One builder run.
#[derive(Debug, Clone, Default)]
pub struct BuildImage {
    /// A tar archive holding `Dockerfile` and what it copies.
    pub context: Vec<u8>,
    /// The reference the image is tagged with.
    pub tag: String,
    /// `--build-arg`s.
    pub build_args: Vec<(String, String)>,
}

/// Why a builder run made no image.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The engine could not be asked, or failed mid-stream.
    #[error(transparent)]
    Engine(#[from] DockerError),
    /// A step failed: the engine's message and the build's output so far,
    /// chunk by chunk as the engine sent it (trimmed, blanks dropped) and
    /// as one text with its own line breaks.
    #[error("{message}")]
    Failed {
        message: String,
        log: Vec<String>,
        output: String,
    },
    /// The stream ended without naming the image built.
    #[error("the engine did not say which image it built")]
    NoImage,
}

/// Runs the builder; returns the id of the image built (as the engine gave
/// it: full or short). `on_step` sees each `Step N/M : …` line as it comes.
/// Build steps run in the engine's network mode of [`Docker::network`].
/// After a failure the images the build's own steps made are removed.
pub async fn build_image(
    docker: &Docker,
    build: BuildImage,
    mut on_step: impl FnMut(&str),
) -> Result<String, BuildError> {
    let build_args: HashMap<&str, &str> = build
        .build_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let options = BuildImageOptionsBuilder::default()
        .buildargs(&build_args)
        .dockerfile("Dockerfile")
        .t(&build.tag)
        .rm(true)
        .forcerm(true)
        .networkmode(docker.network().engine_name())
        .build();
    let mut log = Vec::new();
    let mut output = String::new();
    // The images this build's own steps made (not the FROM image, not a
    // cached step shared with other builds), removed if the build fails.
    let mut step_images = Vec::new();
    let mut made_by_step = false;
    let mut image_id = None;
    let mut stream = docker.client.build_image(
        options,
        None,
        Some(bollard::body_full(build.context.into())),
    );
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                remove_step_images(docker, &step_images).await;
                return Err(BuildError::Failed {
                    message: error,
                    log,
                    output,
                });
            }
            Err(e) => {
                remove_step_images(docker, &step_images).await;
                let context = format!("building {}", build.tag);
                return Err(DockerError::from_engine(&context, e).into());
            }
        };
        if let Some(error) = info.error_detail.and_then(|d| d.message).or(info.error) {
            remove_step_images(docker, &step_images).await;
            return Err(BuildError::Failed {
                message: error,
                log,
                output,
            });
        }
        if let Some(id) = info.aux.and_then(|aux| aux.id) {
            image_id = Some(id);
        }
        if let Some(text) = info.stream {
            output.push_str(&text);
            let line = text.trim_end();
            if line.starts_with("Step ") {
                on_step(line);
                // A FROM step names an image the build did not make.
                made_by_step = !line.to_ascii_uppercase().contains(" : FROM ");
            }
            if line.trim() == "---> Using cache" {
                made_by_step = false;
            }
            if let Some(id) = step_image(line).filter(|_| made_by_step) {
                step_images.push(id.to_string());
            }
            if let Some(short) = line.strip_prefix("Successfully built ") {
                image_id.get_or_insert_with(|| short.trim().to_string());
            }
            if !line.is_empty() {
                log.push(line.to_string());
            }
        }
    }
    image_id.ok_or(BuildError::NoImage)
}

/// The image a classic-builder step left (` ---> 0123456789ab`), if the line
/// names one (not ` ---> Running in …` or ` ---> Using cache`).
fn step_image(line: &str) -> Option<&str> {
    let id = line.trim().strip_prefix("---> ")?;
    (id.len() >= 12 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// After a failed build, removes the images its own steps made, newest first,
/// so a half-made build leaves no untagged image behind. One that another
/// image already stands on is kept (the engine refuses; that is ignored).
async fn remove_step_images(docker: &Docker, ids: &[String]) {
    for id in ids.iter().rev() {
        let _ = remove_image(docker, id, false).await;
    }
}

#[cfg(test)]
mod tests {
    use super::step_image;

    #[test]
    fn step_images_are_read_from_the_classic_builders_lines() {
        assert_eq!(step_image(" ---> 5d0f6b2a4c1e"), Some("5d0f6b2a4c1e"));
        assert_eq!(step_image(" ---> Running in 5d0f6b2a4c1e"), None);
        assert_eq!(step_image(" ---> Using cache"), None);
        assert_eq!(step_image("Step 2/5 : COPY runtime/ /opt/jot/"), None);
    }
}
