//! Tar archives: the builder's context and jot's own code layer.

use std::collections::HashMap;
use std::time::SystemTime;

use jot_core::descriptor::ResponderKind;
use jot_core::error::{Error, Result};

use crate::build::BuildRequest;
use crate::dockerfile::render_dockerfile;
use crate::responder::Responder;
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

/// Appends a regular file with fixed owner and the given time to a tar archive.
pub(crate) fn append_file(
    archive: &mut tar::Builder<Vec<u8>>,
    path: &str,
    contents: &[u8],
    mode: u32,
    mtime: u64,
) -> Result<()> {
    append_entry(
        archive,
        tar::EntryType::Regular,
        path,
        contents,
        mode,
        mtime,
    )
}

/// One root-owned entry (file or directory) with a fixed mode and mtime, so
/// that equal inputs make byte-equal archives.
fn append_entry(
    archive: &mut tar::Builder<Vec<u8>>,
    entry_type: tar::EntryType,
    path: &str,
    contents: &[u8],
    mode: u32,
    mtime: u64,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    // Files keep the header's blank type flag (a regular file to every
    // reader), as in layers jot made before, so those stay byte-equal.
    if entry_type != tar::EntryType::Regular {
        header.set_entry_type(entry_type);
    }
    header.set_size(contents.len() as u64);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    archive
        .append_data(&mut header, path, contents)
        .map_err(|e| Error::io("creating an image archive", e))
}

/// The build context as a tar archive: Dockerfile, runtime/, and for a
/// package deps/ and code/.
pub fn build_context(request: &BuildRequest, labels: &HashMap<String, String>) -> Result<Vec<u8>> {
    let responder = &request.responder;
    let mtime = modified_secs(responder);
    let mut archive = tar::Builder::new(Vec::new());
    append_file(
        &mut archive,
        "Dockerfile",
        render_dockerfile(request, labels).as_bytes(),
        0o644,
        0,
    )?;
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
pub(crate) fn code_layer(request: &BuildRequest) -> Result<Vec<u8>> {
    let responder = &request.responder;
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
