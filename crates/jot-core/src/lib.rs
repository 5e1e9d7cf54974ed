//! The core of jot: the nouns every tool shares (descriptors, responders, names,
//! labels, errors, output) and the Docker client. Each `jot-*` executable is a
//! thin `main.rs` over this crate.

pub mod build;
pub mod check;
pub mod cli;
pub mod descriptor;
pub mod docker;
pub mod error;
pub mod invocation;
pub mod labels;
pub mod limits;
pub mod names;
pub mod output;
pub mod responder;
pub mod session;

pub use error::{Error, Result};

/// The jot release, written into labels and tags.
pub const JOT_VERSION: &str = env!("CARGO_PKG_VERSION");
