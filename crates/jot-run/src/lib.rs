//! The run service behind `jot-serve`: local Lambda functions with versions
//! and weighted aliases, reserved and provisioned concurrency, Event queues
//! with retries and an on-failure destination, rollouts from `--watch` or a
//! signed webhook, a status endpoint, and a graceful shutdown that leaves no
//! sandbox behind. Built on `jot-emulator`'s sandboxes.
//!
//! Split by job: the [`pool`] of sandboxes of one version; the [`scheduler`]
//! admitting invocations within a function's concurrency; the [`registry`] of
//! functions, versions and aliases; the [`service`] and its [`start`]; the
//! [`router`] from HTTP requests to [`invoke`] and the [`control`] plane,
//! which find the function a request names ([`identify`]) and answer with a
//! [`reply`]; [`events`], [`watch`], [`hooks`], [`owner`] (stray sandboxes)
//! and [`report`] (REPORT lines, log tails).

pub mod auth;
pub mod control;
pub mod error;
pub mod events;
pub mod function_url;
pub mod hooks;
pub mod identify;
pub mod invoke;
pub mod owner;
pub mod pool;
pub mod registry;
pub mod reply;
pub mod report;
pub mod router;
pub mod scheduler;
pub mod service;
pub mod start;
pub mod watch;

pub use error::ApiError;

/// Where jot-serve keeps files of its own (credentials, Event records).
pub use jot_core::state_dir;
pub use registry::Settings;
pub use service::{Options, Served, Service, Shutdown};
