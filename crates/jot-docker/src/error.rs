//! Engine failures, typed by what a caller can do about them.

use jot_core::error::DockerFailure;

/// A failure talking to the Docker engine.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No engine answers at `host`.
    #[error(
        "cannot reach the Docker engine at {host} ({detail}); start it (for example `make docker`, `sudo systemctl start docker`) or set DOCKER_HOST"
    )]
    Unavailable { host: String, detail: String },
    /// The engine answered with an error status.
    #[error("docker: {context}: {message}")]
    Refused {
        context: String,
        status: u16,
        message: String,
    },
    /// The engine ran the operation and reported that it failed (an image
    /// archive it could not load).
    #[error("docker: {context}: {message}")]
    Failed { context: String, message: String },
    /// The connection failed in the middle of an operation.
    #[error("docker: {context}: {detail}")]
    Transport { context: String, detail: String },
}

pub type Result<T, E = DockerError> = std::result::Result<T, E>;

impl DockerError {
    /// Maps a bollard error: refusals keep the engine's message and status,
    /// transport failures keep their innermost cause.
    pub(crate) fn from_engine(context: &str, error: bollard::errors::Error) -> Self {
        use bollard::errors::Error as E;
        match error {
            E::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::Refused {
                context: context.to_string(),
                status: status_code,
                message,
            },
            E::DockerStreamError { error } => DockerError::Refused {
                context: context.to_string(),
                status: 500,
                message: error,
            },
            other => DockerError::Transport {
                context: context.to_string(),
                detail: jot_core::error::innermost_cause(&other),
            },
        }
    }

    /// True when the engine said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, DockerError::Refused { status: 404, .. })
    }
}

impl From<DockerError> for jot_core::Error {
    fn from(error: DockerError) -> Self {
        let message = error.to_string();
        match error {
            DockerError::Unavailable { host, detail } => {
                jot_core::Error::DockerUnavailable { host, detail }
            }
            DockerError::Refused { status, .. } => jot_core::Error::Docker {
                failure: match status {
                    404 => DockerFailure::NotFound,
                    409 => DockerFailure::Conflict,
                    _ => DockerFailure::Refused { status },
                },
                message,
            },
            DockerError::Failed { .. } => jot_core::Error::Docker {
                failure: DockerFailure::Refused { status: 500 },
                message,
            },
            DockerError::Transport { .. } => jot_core::Error::Docker {
                failure: DockerFailure::Transport,
                message,
            },
        }
    }
}
