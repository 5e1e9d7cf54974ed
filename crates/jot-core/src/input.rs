//! Reads with a bound fixed before the first byte: a file or stream that is
//! larger than its limit (`/dev/zero`, a runaway pipe) is refused after
//! reading one byte more than the limit, never read to its end.

use std::io::{BufRead, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// Longest descriptor line a tool reads (descriptors are a few kilobytes).
pub const MAX_DESCRIPTOR_LINE_BYTES: usize = 1024 * 1024;
/// Most descriptors one stream may hold.
pub const MAX_DESCRIPTORS: usize = 100_000;
/// Largest settings file (`jot.toml`, an imported `config.json`).
pub const MAX_SETTINGS_FILE_BYTES: usize = 1024 * 1024;

/// What a bounded read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Bounded {
    /// Everything the reader held, within the limit.
    All(Vec<u8>),
    /// The reader held more than the limit (what was read is dropped).
    TooLarge,
}

/// Reads `reader` to its end if it holds at most `limit` bytes; stops after
/// `limit + 1` bytes otherwise.
pub fn read_at_most(reader: impl Read, limit: usize) -> std::io::Result<Bounded> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    Ok(if bytes.len() > limit {
        Bounded::TooLarge
    } else {
        Bounded::All(bytes)
    })
}

/// A file's contents as text, at most `limit` bytes: `what` names it in
/// errors (`--payload-file x.json`), which are bad input (exit 5); `why`
/// says where the limit comes from.
pub fn read_file_at_most(path: &Path, limit: usize, what: &str, why: &str) -> Result<String> {
    let bad = |message: String| Error::InvalidInput(format!("{what}: {message}"));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    match read_at_most(file, limit).map_err(|e| bad(format!("cannot read it: {e}")))? {
        Bounded::All(bytes) => {
            String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".to_string()))
        }
        Bounded::TooLarge => Err(bad(format!("larger than {limit} bytes; {why}"))),
    }
}

/// The next line of `reader` (without its `\n`) if it has at most `limit`
/// bytes, `TooLarge` for a longer one (the reader is then left mid-line),
/// `None` at the end of the stream.
pub fn read_line_at_most(
    reader: &mut impl BufRead,
    limit: usize,
) -> std::io::Result<Option<Bounded>> {
    let mut line = Vec::new();
    // One byte more than the limit, and the newline.
    let read = reader
        .by_ref()
        .take(limit as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(Some(if line.len() > limit {
        Bounded::TooLarge
    } else {
        Bounded::All(line)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_within_the_limit_and_refuses_one_byte_more() {
        assert_eq!(
            read_at_most(&b"abc"[..], 3).unwrap(),
            Bounded::All(b"abc".to_vec())
        );
        assert_eq!(read_at_most(&b"abcd"[..], 3).unwrap(), Bounded::TooLarge);
        // An endless reader is read to the limit and one byte, no further.
        let mut endless = std::io::repeat(0);
        assert_eq!(
            read_at_most(&mut endless, 1 << 20).unwrap(),
            Bounded::TooLarge
        );
    }

    #[test]
    fn a_file_too_large_is_bad_input_naming_it() {
        let err = read_file_at_most(
            Path::new("/dev/zero"),
            10,
            "--payload-file /dev/zero",
            "why",
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT);
        assert_eq!(
            err.to_string(),
            "--payload-file /dev/zero: larger than 10 bytes; why"
        );
        let missing = read_file_at_most(Path::new("/no/such/file"), 10, "x", "why").unwrap_err();
        assert!(
            missing.to_string().starts_with("x: cannot read it"),
            "{missing}"
        );
    }

    #[test]
    fn lines_are_bounded_one_by_one() {
        let mut input = &b"ab\n\nabcdef\nxyz"[..];
        let mut lines = Vec::new();
        while let Some(line) = read_line_at_most(&mut input, 3).unwrap() {
            lines.push(line);
            if lines.last() == Some(&Bounded::TooLarge) {
                break;
            }
        }
        assert_eq!(
            lines,
            [
                Bounded::All(b"ab".to_vec()),
                Bounded::All(Vec::new()),
                Bounded::TooLarge
            ]
        );
        // A line of exactly the limit, with or without its newline.
        let mut exact = &b"abc\nabc"[..];
        assert_eq!(
            read_line_at_most(&mut exact, 3).unwrap(),
            Some(Bounded::All(b"abc".to_vec()))
        );
        assert_eq!(
            read_line_at_most(&mut exact, 3).unwrap(),
            Some(Bounded::All(b"abc".to_vec()))
        );
        assert_eq!(read_line_at_most(&mut exact, 3).unwrap(), None);
        // An endless line stops at the limit.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        assert_eq!(
            read_line_at_most(&mut endless, 1 << 16).unwrap(),
            Some(Bounded::TooLarge)
        );
    }
}
