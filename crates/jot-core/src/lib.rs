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

/// Where jot keeps files of its own (jot-serve's credentials and Event
/// records, the reports of failed compiles): `$XDG_STATE_HOME/jot`, else
/// `~/.local/state/jot`, else the temporary directory.
pub fn state_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/state"))
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("jot")
}

/// The jot release, written into labels and tags.
pub const JOT_VERSION: &str = env!("CARGO_PKG_VERSION");
