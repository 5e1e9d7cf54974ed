//! The Docker engine client: connection with API version negotiation (so old
//! engines such as 20.10 work) and errors that tell the user what to do.

use bollard::Docker;
use bollard::models::ImageInspect;

use crate::error::{Error, Result};

/// Where the engine is expected, for messages.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Connects to the engine named by DOCKER_HOST (or the default socket), checks
/// that it answers, and negotiates the API version.
pub async fn connect() -> Result<Docker> {
    let unavailable = |detail: String| Error::DockerUnavailable {
        host: docker_host(),
        detail,
    };
    let docker = Docker::connect_with_defaults().map_err(|e| unavailable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unavailable(short_cause(&e)))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(short_cause(&e)))
}

/// Maps an engine error to ours: refusals keep the engine's message, transport
/// failures say the engine went away.
pub fn engine_error(context: &str, error: bollard::errors::Error) -> Error {
    use bollard::errors::Error as E;
    match error {
        E::DockerResponseServerError { message, .. } => {
            Error::Docker(format!("{context}: {message}"))
        }
        other => Error::Docker(format!("{context}: {}", short_cause(&other))),
    }
}

/// The innermost cause of an error, which is the readable part of socket errors.
fn short_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The image's metadata, or `None` when the engine has no such image.
pub async fn inspect_image(docker: &Docker, image: &str) -> Result<Option<ImageInspect>> {
    match docker.inspect_image(image).await {
        Ok(inspect) => Ok(Some(inspect)),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(e) => Err(engine_error(&format!("inspecting image {image}"), e)),
    }
}
