//! The one error type of the core crate and the one place that maps errors to
//! exit codes, so every `jot-*` executable reports failures the same way.

use std::path::PathBuf;

/// Exit codes shared by every jot executable (documented in README.md).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// An unexpected internal failure.
    pub const INTERNAL: u8 = 1;
    /// Bad command line (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// The function raised an error, timed out or failed to initialise.
    pub const FUNCTION_ERROR: u8 = 3;
    /// `--expect` did not match the response.
    pub const EXPECT_MISMATCH: u8 = 4;
    /// Bad input: a descriptor, a name, a responder file, a payload.
    pub const BAD_INPUT: u8 = 5;
    /// The Docker engine is not reachable or refused an operation.
    pub const DOCKER: u8 = 6;
    /// The image build failed.
    pub const BUILD: u8 = 7;
    /// An AWS call failed (credentials, endpoint, service error).
    pub const AWS: u8 = 8;
}

/// Everything that can go wrong in a jot tool, grouped by what the user must do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("stdin line {line}: {message}")]
    Descriptor { line: usize, message: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("{path}: {message}")]
    Responder { path: PathBuf, message: String },
    #[error(
        "cannot reach the Docker engine at {host} ({detail}); start it (for example `make docker`, `sudo systemctl start docker`) or set DOCKER_HOST"
    )]
    DockerUnavailable { host: String, detail: String },
    #[error("docker: {0}")]
    Docker(String),
    #[error("build failed: {0}")]
    Build(String),
    #[error("{0}")]
    Aws(String),
    /// The function answered with an error; the payload is its error JSON.
    #[error("the function returned an error: {0}")]
    FunctionError(String),
    #[error("the response did not match --expect: expected {expected}, got {actual}")]
    ExpectMismatch { expected: String, actual: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The documented exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Descriptor { .. } | Error::InvalidInput(_) | Error::Responder { .. } => {
                exit::BAD_INPUT
            }
            Error::DockerUnavailable { .. } | Error::Docker(_) => exit::DOCKER,
            Error::Build(_) => exit::BUILD,
            Error::Aws(_) => exit::AWS,
            Error::FunctionError(_) => exit::FUNCTION_ERROR,
            Error::ExpectMismatch { .. } => exit::EXPECT_MISMATCH,
            Error::Io { .. } | Error::Internal(_) => exit::INTERNAL,
        }
    }

    /// Wraps an I/O error with what was being done, so the message says which file.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
