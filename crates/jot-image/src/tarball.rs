//! Tar entries with fixed owner, mode and time, so equal inputs make
//! byte-equal archives: the pieces of every archive jot writes.

use jot_core::error::{Error, Result};

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
pub(crate) fn append_entry(
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
