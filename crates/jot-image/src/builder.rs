//! The engine's builder: its stream, and failures as one readable line.

use std::collections::HashMap;

use futures_util::StreamExt;
use jot_core::error::{Error, Result};
use jot_core::output::Step;
use jot_docker::bollard::models::ImageInspect;
use jot_docker::bollard::query_parameters::BuildImageOptionsBuilder;
use jot_docker::{Docker, DockerError, bollard, inspect_image};

use crate::build::BuildRequest;
use crate::context::build_context;
use crate::tag::RUNTIME_STAGE_REPOSITORY;

/// Runs the Dockerfile through the engine's builder; returns the image built.
pub(crate) async fn run_builder(
    docker: &Docker,
    request: &BuildRequest,
    labels: &HashMap<String, String>,
    reference: &str,
    step: &Step,
) -> Result<ImageInspect> {
    run_builder_with(docker, request, labels, None, reference, step).await
}

/// [`run_builder`] with a build context of its own (a Dockerfile and what it
/// copies), or the responder's when `None`. The request's `--build-arg`s go to every
/// run but the shared runtime stage's (whose key they are not part of).
pub(crate) async fn run_builder_with(
    docker: &Docker,
    request: &BuildRequest,
    labels: &HashMap<String, String>,
    context: Option<Vec<u8>>,
    reference: &str,
    step: &Step,
) -> Result<ImageInspect> {
    let stage = reference.starts_with(&format!("{RUNTIME_STAGE_REPOSITORY}:"));
    let build_args: HashMap<&str, &str> = if stage {
        HashMap::new()
    } else {
        request
            .build_args
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    };
    let options = BuildImageOptionsBuilder::default()
        .buildargs(&build_args)
        .dockerfile("Dockerfile")
        .t(reference)
        .rm(true)
        .forcerm(true)
        // Build steps must not need a bridge network: engines here run without one.
        .networkmode("host");
    let context = match context {
        Some(context) => context,
        None => build_context(request, labels)?,
    };
    let mut log = Vec::new();
    // The images this build's own steps made (not the FROM image, not a
    // cached step shared with other builds), removed if the build fails.
    let mut step_images = Vec::new();
    let mut made_by_step = false;
    let mut image_id = None;
    let mut stream = docker.build_image(
        options.build(),
        None,
        Some(bollard::body_full(context.into())),
    );
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                remove_step_images(docker, &step_images).await;
                return Err(build_failure(reference, &error, &log));
            }
            Err(e) => {
                remove_step_images(docker, &step_images).await;
                return Err(DockerError::from_engine(&format!("building {reference}"), e).into());
            }
        };
        if let Some(error) = info.error_detail.and_then(|d| d.message).or(info.error) {
            remove_step_images(docker, &step_images).await;
            return Err(build_failure(reference, &error, &log));
        }
        if let Some(id) = info.aux.and_then(|aux| aux.id) {
            image_id = Some(id);
        }
        if let Some(text) = info.stream {
            let line = text.trim_end();
            if line.starts_with("Step ") {
                step.phase(line, false);
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
    let id = image_id.ok_or_else(|| {
        Error::Build(format!(
            "{reference}: the engine did not say which image it built"
        ))
    })?;
    // Resolve a short id to the full one.
    let inspect = inspect_image(docker, &id).await?.ok_or_else(|| {
        Error::Build(format!("the engine reported success but has no image {id}"))
    })?;
    Ok(inspect)
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
        let _ = jot_docker::remove_image(docker, id, false).await;
    }
}

/// A build error with the last lines of the build log, which say why, as one
/// line without the terminal colour codes build steps print.
pub(crate) fn build_failure(what: &str, error: &str, log: &[String]) -> Error {
    let tail: Vec<String> = log
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|line| strip_terminal_codes(line).trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    Error::Build(format!(
        "{what}: {}{}",
        strip_terminal_codes(error.trim()),
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (last build output: {})", tail.join(" | "))
        }
    ))
}

/// Removes ANSI escape sequences (`ESC [ … letter`) and other control characters.
fn strip_terminal_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if c == '\n' || c == '\t' {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
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
