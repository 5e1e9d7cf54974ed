//! The run service behind `jot-serve`: local Lambda functions with versions
//! and weighted aliases, reserved and provisioned concurrency, Event queues
//! with retries and an on-failure destination, rollouts from `--watch` or a
//! signed webhook, a status endpoint, and a graceful shutdown that leaves no
//! sandbox behind. Built on `jot-emulator`'s sandboxes.
//!
//! Split by job: the [`pool`] of sandboxes of one version; the [`scheduler`]
//! admitting invocations within a function's concurrency; the [`registry`] of
//! functions, versions and aliases; the [`router`] from HTTP requests to
//! [`invoke`] and the [`control`] plane; [`events`], [`watch`], [`hooks`],
//! [`owner`] (stray sandboxes) and [`report`] (REPORT lines, log tails).

pub mod control;
pub mod error;
pub mod events;
pub mod function_url;
pub mod hooks;
pub mod invoke;
pub mod owner;
pub mod pool;
pub mod registry;
pub mod report;
pub mod router;
pub mod scheduler;
pub mod service;
pub mod watch;

pub use error::ApiError;
pub use registry::Settings;
pub use service::{Options, Served, Service, Shutdown};
