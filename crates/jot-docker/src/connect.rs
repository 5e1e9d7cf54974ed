//! Connecting to the engine named by DOCKER_HOST or the default socket.

use bollard::Docker;

use crate::error::{DockerError, Result};

/// Where the engine is expected, for messages.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Connects, checks that the engine answers, and negotiates the API version.
pub async fn connect() -> Result<Docker> {
    let unavailable = |detail: String| DockerError::Unavailable {
        host: docker_host(),
        detail,
    };
    let docker = Docker::connect_with_defaults().map_err(|e| unavailable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unavailable(jot_core::error::innermost_cause(&e)))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(jot_core::error::innermost_cause(&e)))
}
