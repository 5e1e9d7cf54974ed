//! Tar archives: the builder's context and jot's own code layer.

use std::time::SystemTime;

use jot_core::descriptor::ResponderKind;
use jot_core::error::{Error, Result};

use crate::responder::Responder;
use crate::tarball::{append_entry, append_file};
use crate::template;

/// Seconds since the epoch of the responder's last change: the time stamp of
/// its files in the image, so an unchanged responder makes the same layers.
fn modified_secs(responder: &Responder) -> u64 {
    responder
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The build context as a tar archive: the rendered `dockerfile`, runtime/,
/// and for a package deps/ and code/.
pub fn build_context(dockerfile: &str, responder: &Responder) -> Result<Vec<u8>> {
    let mtime = modified_secs(responder);
    let mut archive = tar::Builder::new(Vec::new());
    append_file(&mut archive, "Dockerfile", dockerfile.as_bytes(), 0o644, 0)?;
    for file in template::RUNTIME_FILES {
        append_file(
            &mut archive,
            &format!("runtime/{}", file.path),
            file.contents,
            file.mode,
            0,
        )?;
    }
    if responder.info.kind == ResponderKind::Package {
        for file in &responder.files {
            append_file(
                &mut archive,
                &format!("code/{}", file.relative),
                &file.contents,
                0o644,
                mtime,
            )?;
            if matches!(file.relative.as_str(), "Project.toml" | "Manifest.toml") {
                append_file(
                    &mut archive,
                    &format!("deps/{}", file.relative),
                    &file.contents,
                    0o644,
                    mtime,
                )?;
            }
        }
    }
    archive
        .into_inner()
        .map_err(|e| Error::io("creating the build context", e))
}

/// A build context holding only a Dockerfile.
pub(crate) fn dockerfile_context(dockerfile: &str) -> Result<Vec<u8>> {
    let mut archive = tar::Builder::new(Vec::new());
    append_file(&mut archive, "Dockerfile", dockerfile.as_bytes(), 0o644, 0)?;
    archive
        .into_inner()
        .map_err(|e| Error::io("creating the build context", e))
}

/// The code layer of a script responder: `/var/task/<file>`.
pub(crate) fn code_layer(responder: &Responder) -> Result<Vec<u8>> {
    let mtime = modified_secs(responder);
    let mut archive = tar::Builder::new(Vec::new());
    for dir in ["var/", "var/task/"] {
        append_entry(&mut archive, tar::EntryType::Directory, dir, &[], 0o755, 0)?;
    }
    for file in &responder.files {
        append_file(
            &mut archive,
            &format!("var/task/{}", file.relative),
            &file.contents,
            0o644,
            mtime,
        )?;
    }
    archive
        .into_inner()
        .map_err(|e| Error::io("creating the code layer", e))
}
