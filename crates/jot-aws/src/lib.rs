//! The AWS side of jot: configuration from the standard AWS chain, the push of
//! local images to Amazon ECR, the deploy of ECR images as Lambda functions and
//! the remote invoker used by `jot-invoke`.
//!
//! The executables `jot-push`, `jot-deploy` and `jot-invoke` are thin over this
//! crate, so the AWS SDK is linked only where it is needed (never by jot-build
//! or jot-core). Nothing secret (ECR authorization tokens, AWS keys) is ever
//! printed, labelled or written into a descriptor by anything here.

pub mod config;
pub mod deploy;
mod error;
pub mod invoke;
pub mod push;
pub mod retry;
pub mod tags;

pub use config::Aws;
pub use error::AwsError;

/// Results of this crate: failures carry what the user must do.
pub type Result<T, E = AwsError> = std::result::Result<T, E>;
