//! The AWS side of jot, with the SDK only (no Docker): configuration from the
//! standard AWS chain, ECR repositories and logins, the deploy of ECR images
//! as Lambda functions (settings, lifecycle, roles), the remote invoker, the
//! functions' CloudWatch Logs, and the inventory's listing and removal calls.
//!
//! Nothing secret (ECR authorization tokens, AWS keys) is ever printed,
//! labelled or written into a descriptor by anything here; functions return
//! descriptors and typed results, and only the binaries write to stdout.

pub mod account;
mod call_log;
pub mod config;
pub mod deploy;
pub mod ecr;
mod error;
pub mod invoke;
pub mod listing;
pub mod logs;
mod origin;
pub mod removal;
pub mod retry;
pub mod tags;

pub use config::Aws;
pub use error::{AwsError, service_failure};

/// Results of this crate: failures carry what the user must do.
pub type Result<T, E = AwsError> = std::result::Result<T, E>;
