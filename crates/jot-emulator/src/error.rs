use crate::MAX_PAYLOAD_BYTES;

/// Failures of the emulator itself (not of the function, which are outcomes).
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(
        "the payload is {size} bytes; Lambda accepts at most {MAX_PAYLOAD_BYTES} bytes for a synchronous invocation"
    )]
    PayloadTooLarge { size: usize },
    #[error("cannot serve the Lambda Runtime API on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error(transparent)]
    Docker(#[from] jot_docker::DockerError),
    #[error(transparent)]
    Core(#[from] jot_core::Error),
}

impl From<EmulatorError> for jot_core::Error {
    fn from(error: EmulatorError) -> Self {
        match error {
            EmulatorError::Core(core) => core,
            EmulatorError::Docker(docker) => docker.into(),
            EmulatorError::PayloadTooLarge { .. } => {
                jot_core::Error::InvalidInput(error.to_string())
            }
            EmulatorError::Bind(_) => jot_core::Error::Internal(error.to_string()),
        }
    }
}
