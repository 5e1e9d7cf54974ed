//! The engine handle and the connection to the engine named by DOCKER_HOST
//! or the default socket.

use crate::error::{DockerError, Result};
use crate::network::NetworkMode;

/// A connection to the Docker engine, with the network mode its sandboxes
/// and build steps use. Cheap to clone (the client is shared).
#[derive(Clone)]
pub struct Docker {
    pub(crate) client: bollard::Docker,
    network: NetworkMode,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Docker {
    /// The engine API version agreed at connection (`(1, 46)`).
    pub fn api_version(&self) -> (usize, usize) {
        let version = self.client.client_version();
        (version.major_version, version.minor_version)
    }

    /// How sandboxes and build steps are networked, and how they reach jot.
    pub fn network(&self) -> &NetworkMode {
        &self.network
    }
}

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
    let docker =
        bollard::Docker::connect_with_defaults().map_err(|e| unavailable(e.to_string()))?;
    docker
        .ping()
        .await
        .map_err(|e| unavailable(jot_core::error::innermost_cause(&e)))?;
    let client = docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(jot_core::error::innermost_cause(&e)))?;
    Ok(Docker {
        client,
        network: NetworkMode::chosen(),
    })
}
