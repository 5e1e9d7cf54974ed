//! The one error type of jot-aws. Each variant says what the user must do;
//! the conversion into `jot_core::Error` picks the documented exit code
//! (bad input 5, Docker 6, AWS 8).

use std::error::Error as StdError;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::error::SdkError;
use jot_core::error::AwsFailure;

/// Everything that can go wrong talking to AWS or preparing to.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// A flag or descriptor value AWS would refuse; found before any AWS call.
    #[error("{0}")]
    InvalidInput(String),
    /// A resource exists that jot did not create; jot never touches it without `--force`.
    #[error("{0}")]
    NotJot(String),
    #[error(
        "no AWS credentials found ({0}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile in ~/.aws/credentials or ~/.aws/config"
    )]
    NoCredentials(String),
    /// A chosen profile that is missing or cannot give credentials, with what to run.
    #[error("{0}")]
    Profile(String),
    #[error(
        "no AWS region configured; set AWS_REGION (for example AWS_REGION=us-east-1) or `region` in the profile named by AWS_PROFILE"
    )]
    NoRegion,
    /// The endpoint did not answer after the bounded retries.
    #[error(
        "{operation}: cannot reach {endpoint} ({detail}); gave up after {attempts} attempt{}; check AWS_ENDPOINT_URL, the network or the service's status",
        if *attempts == 1 { "" } else { "s" }
    )]
    Unreachable {
        operation: String,
        endpoint: String,
        detail: String,
        attempts: u32,
    },
    /// The endpoint took a connection but did not answer within the deadline.
    #[error(
        "{operation}: {endpoint} did not answer within {} s (jot's deadline for one AWS call); check AWS_ENDPOINT_URL, the network or the service's status",
        deadline.as_secs()
    )]
    TimedOut {
        operation: String,
        endpoint: String,
        deadline: std::time::Duration,
    },
    /// The service answered with an error.
    #[error("{operation}: {code}: {message}")]
    Service {
        operation: String,
        code: String,
        message: String,
    },
    /// Any other AWS failure (unexpected response, waiter gave up, registry refusal).
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Core(#[from] jot_core::Error),
}

impl AwsError {
    /// What kind of failure this is, for callers that map failures (a
    /// service's HTTP status, a retry); `None` for input errors.
    pub fn failure(&self) -> Option<AwsFailure> {
        Some(match self {
            AwsError::InvalidInput(_) | AwsError::NotJot(_) | AwsError::Core(_) => return None,
            AwsError::NoCredentials(_) | AwsError::Profile(_) => AwsFailure::Credentials,
            AwsError::NoRegion => AwsFailure::Region,
            AwsError::Unreachable { .. } | AwsError::TimedOut { .. } => AwsFailure::Unreachable,
            AwsError::Service { code, .. } => service_failure(code),
            AwsError::Other(_) => AwsFailure::Other,
        })
    }

    /// The service's error code, when the service answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// AWS's error codes grouped by what a caller can do.
pub fn service_failure(code: &str) -> AwsFailure {
    match code {
        "ThrottlingException"
        | "TooManyRequestsException"
        | "Throttling"
        | "RequestLimitExceeded"
        | "ThrottledException" => AwsFailure::Throttled,
        c if c.ends_with("NotFoundException") || c == "NoSuchEntity" => AwsFailure::NotFound,
        "ResourceConflictException"
        | "ResourceInUseException"
        | "PreconditionFailedException"
        | "EntityAlreadyExists"
        | "RepositoryAlreadyExistsException" => AwsFailure::Conflict,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "ExpiredTokenException" => AwsFailure::AccessDenied,
        _ => AwsFailure::Service,
    }
}

impl From<AwsError> for jot_core::Error {
    fn from(error: AwsError) -> Self {
        match error {
            AwsError::Core(core) => core,
            AwsError::InvalidInput(message) => jot_core::Error::InvalidInput(message),
            AwsError::NotJot(message) => jot_core::Error::NotJot(message),
            other => jot_core::Error::Aws {
                failure: other.failure().unwrap_or(AwsFailure::Other),
                message: other.to_string(),
            },
        }
    }
}

/// The service's error code (`ResourceConflictException`, ...), if the service answered.
pub(crate) fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

pub(crate) use jot_core::error::innermost_cause as innermost;

/// Where an operation was sent, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub endpoint: String,
    pub attempts: u32,
    /// The call's total deadline, retries included.
    pub deadline: std::time::Duration,
}

impl Context {
    /// Turns an SDK error into ours: service errors keep AWS's code and message,
    /// transport failures say the endpoint did not answer.
    pub(crate) fn sdk<E>(&self, operation: &str, error: SdkError<E>) -> AwsError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let operation = operation.to_string();
        match &error {
            SdkError::ServiceError(service) => {
                let err = service.err();
                let status = service.raw().status().as_u16();
                AwsError::Service {
                    operation,
                    code: match err.code() {
                        Some(code) => code.to_string(),
                        None => format!("HTTP {status} from {}", self.endpoint),
                    },
                    message: err
                        .message()
                        .map(|m| m.lines().next().unwrap_or_default().to_string())
                        .unwrap_or_else(|| innermost(err)),
                }
            }
            SdkError::TimeoutError(_) => AwsError::TimedOut {
                operation,
                endpoint: self.endpoint.clone(),
                deadline: self.deadline,
            },
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                AwsError::Unreachable {
                    operation,
                    endpoint: self.endpoint.clone(),
                    detail: innermost(&error),
                    attempts: self.attempts,
                }
            }
            SdkError::ResponseError(_) => AwsError::Other(format!(
                "{operation}: unexpected response from {}: {}",
                self.endpoint,
                innermost(&error)
            )),
            _ => AwsError::Other(format!("{operation}: {}", innermost(&error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let code = |e: AwsError| jot_core::Error::from(e).exit_code();
        assert_eq!(code(AwsError::InvalidInput("x".into())), 5);
        assert_eq!(code(AwsError::NotJot("x".into())), 5);
        assert_eq!(code(AwsError::NoRegion), 8);
        assert_eq!(code(AwsError::NoCredentials("x".into())), 8);
        assert_eq!(
            code(AwsError::Core(jot_core::Error::Docker {
                failure: jot_core::error::DockerFailure::Transport,
                message: "down".into()
            })),
            6
        );
    }

    #[test]
    fn service_codes_map_to_what_a_caller_can_do() {
        let service = |code: &str| AwsError::Service {
            operation: "Op".into(),
            code: code.into(),
            message: "m".into(),
        };
        assert_eq!(
            service("TooManyRequestsException").failure(),
            Some(AwsFailure::Throttled)
        );
        assert_eq!(
            service("ResourceNotFoundException").failure(),
            Some(AwsFailure::NotFound)
        );
        assert_eq!(
            service("PreconditionFailedException").failure(),
            Some(AwsFailure::Conflict)
        );
        assert_eq!(service("Weird").failure(), Some(AwsFailure::Service));
        assert_eq!(AwsError::InvalidInput("x".into()).failure(), None);
        match jot_core::Error::from(service("ThrottlingException")) {
            jot_core::Error::Aws { failure, .. } => assert_eq!(failure, AwsFailure::Throttled),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_are_one_line() {
        let e = AwsError::Unreachable {
            operation: "DescribeRepositories".into(),
            endpoint: "http://127.0.0.1:1".into(),
            detail: "Connection refused".into(),
            attempts: 3,
        };
        let text = e.to_string();
        assert!(!text.contains('\n'));
        assert!(text.contains("http://127.0.0.1:1") && text.contains("3 attempts"));
    }
}
