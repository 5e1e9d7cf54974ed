//! A local AWS Lambda. It serves the Lambda Runtime API on loopback and runs a
//! function image in the Docker engine with host networking, the Lambda
//! environment, a read-only root filesystem with a writable /tmp, real epoch
//! deadlines and ARNs, the 6 MiB payload limits and per-invocation timeouts.
//! Each sandbox's Runtime API sits under a path prefix only that sandbox is told.
//!
//! [`Instance`] is one sandbox (one container and its Runtime API);
//! [`LocalFunction`] replaces an instance that died or timed out, as Lambda
//! starts a fresh sandbox. Used by `jot-invoke --local` and the run service (crate `jot-run`).

mod error;
mod function;
pub mod http;
mod instance;
mod logs;
mod phases;
mod runtime_api;

pub use error::EmulatorError;
pub use function::LocalFunction;
pub use instance::{
    EMULATOR_LABEL, EXIT_GRACE, INIT_BUDGET, Instance, InstanceConfig, InstanceTimings,
};
pub use phases::{ColdStart, RuntimePhases};
pub use runtime_api::{Invocation, Outcome};

pub use jot_core::invocation::MAX_PAYLOAD_BYTES;
/// What the Runtime API accepts in a response POST (the limit plus headroom, as Lambda).
pub const MAX_RESPONSE_BYTES: usize = MAX_PAYLOAD_BYTES + 100;
