//! The nouns every jot tool shares: descriptors, names, labels, limits, image
//! references, invocations and their verdicts, errors and the exit-code
//! table, output, and the command-line plumbing. No Docker, no AWS: those
//! live in `jot-docker` and `jot-aws`, the image build in `jot-image`.

pub mod check;
pub mod cli;
pub mod descriptor;
pub mod error;
pub mod image_ref;
pub mod input;
pub mod invocation;
pub mod labels;
pub mod limits;
pub mod names;
pub mod output;
pub mod session;

pub use error::{Error, Result};

/// The jot release, written into labels and tags.
pub const JOT_VERSION: &str = env!("CARGO_PKG_VERSION");
