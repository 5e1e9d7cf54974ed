//! The one error type of the core crate and the one table of exit codes, so
//! every `jot-*` executable reports failures the same way. README.md's table
//! is checked against [`exit::TABLE`] by a test.

use std::path::PathBuf;

/// Exit codes shared by every jot executable.
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
    /// Bad input: a descriptor, a name, a responder file, a payload, a limit,
    /// or a resource jot did not create.
    pub const BAD_INPUT: u8 = 5;
    /// The Docker engine is not reachable or refused an operation.
    pub const DOCKER: u8 = 6;
    /// The image build failed.
    pub const BUILD: u8 = 7;
    /// An AWS call failed (credentials, endpoint, service error).
    pub const AWS: u8 = 8;
    /// Part of the work failed and the rest was done (jot-ls, jot-rm).
    pub const PARTIAL: u8 = 9;
    /// Stopped by SIGINT (Ctrl-C), after cleaning up (128 + 2).
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM, after cleaning up (128 + 15).
    pub const TERMINATED: u8 = 143;

    /// Every code with its meaning: the source of README.md's table and of
    /// the exit-status section of every `--help`.
    pub const TABLE: &[(u8, &str)] = &[
        (OK, "success"),
        (INTERNAL, "internal error"),
        (USAGE, "usage: bad or missing arguments"),
        (
            FUNCTION_ERROR,
            "the function returned an error, timed out or failed to initialise (its error JSON is printed on stdout)",
        ),
        (EXPECT_MISMATCH, "the response did not match `--expect`"),
        (
            BAD_INPUT,
            "bad input: a descriptor, name, image reference, argument type, responder file, payload, a value outside Lambda's limits, or a resource jot did not create (without `--force`)",
        ),
        (
            DOCKER,
            "the Docker engine is not reachable or refused an operation",
        ),
        (BUILD, "the image build failed"),
        (
            AWS,
            "an AWS call failed (credentials, endpoint, service error)",
        ),
        (
            PARTIAL,
            "part of the work failed (one service of a listing, one step of a removal); the rest was done and what remains is listed",
        ),
        (
            INTERRUPTED,
            "interrupted by SIGINT (Ctrl-C), after cleaning up",
        ),
        (TERMINATED, "stopped by SIGTERM, after cleaning up"),
    ];

    /// The text `--help` ends with: the codes a tool can return.
    pub fn help(codes: &[u8]) -> String {
        debug_assert!(codes.iter().all(|c| TABLE.iter().any(|(t, _)| t == c)));
        let mut text = String::from("Exit status:\n");
        for (code, meaning) in TABLE.iter().filter(|(c, _)| codes.contains(c)) {
            text.push_str(&format!("  {code:>3}  {meaning}\n"));
        }
        text
    }

    /// The Markdown table README.md carries.
    pub fn markdown() -> String {
        let mut text = String::from("| code | meaning |\n|---|---|\n");
        for (code, meaning) in TABLE {
            text.push_str(&format!("| {code} | {meaning} |\n"));
        }
        text
    }
}

/// How the Docker engine failed, for callers that map failures (a service's
/// HTTP status, a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DockerFailure {
    NotFound,
    Conflict,
    Refused { status: u16 },
    Transport,
}

/// How an AWS call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure {
    Credentials,
    Region,
    Unreachable,
    Throttled,
    NotFound,
    Conflict,
    AccessDenied,
    Service,
    Other,
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
    /// A resource exists that jot did not create; jot never touches it without `--force`.
    #[error("{0}")]
    NotJot(String),
    #[error(
        "cannot reach the Docker engine at {host} ({detail}); start it (for example `make docker`, `sudo systemctl start docker`) or set DOCKER_HOST"
    )]
    DockerUnavailable { host: String, detail: String },
    #[error("{message}")]
    Docker {
        failure: DockerFailure,
        message: String,
    },
    #[error("build failed: {0}")]
    Build(String),
    #[error("{message}")]
    Aws {
        failure: AwsFailure,
        message: String,
    },
    /// The function answered with an error; the payload is its error JSON.
    #[error("the function returned an error: {0}")]
    FunctionError(String),
    /// The function's init took longer than Lambda's init budget (build-time self-test).
    #[error("{0}")]
    SlowInit(String),
    #[error("the response did not match --expect: expected {expected}, got {actual}")]
    ExpectMismatch { expected: String, actual: String },
    /// Some of the work failed; the message lists what remains.
    #[error("{0}")]
    Partial(String),
    /// Stopped by a signal after cleaning up.
    #[error("{what}")]
    Interrupted { signal: StopSignal, what: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Internal(String),
}

/// The signal that stopped a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
}

impl Error {
    /// The documented exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Descriptor { .. }
            | Error::InvalidInput(_)
            | Error::Responder { .. }
            | Error::NotJot(_) => exit::BAD_INPUT,
            Error::DockerUnavailable { .. } | Error::Docker { .. } => exit::DOCKER,
            Error::Build(_) => exit::BUILD,
            Error::Aws { .. } => exit::AWS,
            Error::FunctionError(_) | Error::SlowInit(_) => exit::FUNCTION_ERROR,
            Error::ExpectMismatch { .. } => exit::EXPECT_MISMATCH,
            Error::Partial(_) => exit::PARTIAL,
            Error::Interrupted {
                signal: StopSignal::Interrupt,
                ..
            } => exit::INTERRUPTED,
            Error::Interrupted {
                signal: StopSignal::Terminate,
                ..
            } => exit::TERMINATED,
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

    /// True for a write to a closed pipe (`jot-ls | head`): the reader is
    /// gone, so the tool ends quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// The innermost cause of an error chain: the readable part of transport
/// errors ("Connection refused (os error 111)") without the wrapping.
pub fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_table_once() {
        let codes: Vec<u8> = exit::TABLE.iter().map(|(c, _)| *c).collect();
        let mut unique = codes.clone();
        unique.dedup();
        assert_eq!(codes, unique);
        for code in [
            exit::OK,
            exit::INTERNAL,
            exit::USAGE,
            exit::FUNCTION_ERROR,
            exit::EXPECT_MISMATCH,
            exit::BAD_INPUT,
            exit::DOCKER,
            exit::BUILD,
            exit::AWS,
            exit::PARTIAL,
            exit::INTERRUPTED,
            exit::TERMINATED,
        ] {
            assert!(codes.contains(&code), "{code}");
        }
    }

    #[test]
    fn help_lists_only_the_codes_asked_for() {
        let help = exit::help(&[exit::OK, exit::AWS]);
        assert!(help.contains("  0  success"));
        assert!(help.contains("  8  an AWS call failed"));
        assert!(!help.contains("Docker"));
    }

    #[test]
    fn signals_map_to_128_plus_their_number() {
        let stop = |signal| Error::Interrupted {
            signal,
            what: String::new(),
        };
        assert_eq!(stop(StopSignal::Interrupt).exit_code(), 130);
        assert_eq!(stop(StopSignal::Terminate).exit_code(), 143);
    }
}
