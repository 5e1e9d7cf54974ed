//! Every build parses the responder first: its Julia files go through the
//! base image's own parser (`parse.jl`, in a one-shot container without
//! network that evaluates nothing), and a syntax error fails the build with
//! its `file:line` (exit 5) before anything is built.

use std::path::Path;
use std::time::Duration;

use jot_core::descriptor::ResponderKind;
use jot_core::error::{Error, Result};
use jot_core::labels;
use jot_docker::{Docker, OneShot, inspect_image, run_one_shot};

use crate::responder::{Responder, ResponderFile};
use crate::tarball::{append_entry, append_file};

/// The parser's script (Julia 1.5 and later).
const PARSE_JL: &str = include_str!("parse.jl");

/// Label of the parse's containers, holding their owner.
pub const PARSE_LABEL: &str = "dev.jot.parse.owner";

/// Longest a parse may take (it is about a second; a parser caught in a loop
/// would otherwise hold the build).
const PARSE_DEADLINE: Duration = Duration::from_secs(120);

/// The files a build parses: a script's file; a package's `src/` (and its
/// `test/` when the build runs the package's tests).
pub(crate) fn files_to_parse(responder: &Responder, with_tests: bool) -> Vec<&ResponderFile> {
    responder
        .files
        .iter()
        .filter(|f| f.relative.ends_with(".jl"))
        .filter(|f| match responder.info.kind {
            ResponderKind::Script => true,
            ResponderKind::Package => {
                f.relative.starts_with("src/") || (with_tests && f.relative.starts_with("test/"))
            }
        })
        .collect()
}

/// Parses the responder's files with the Julia of `base_image`; a syntax
/// error is one line `FILE:LINE: syntax: …` (bad input).
pub(crate) async fn parse_responder(
    docker: &Docker,
    base_image: &str,
    responder: &Responder,
    with_tests: bool,
) -> Result<()> {
    let files = files_to_parse(responder, with_tests);
    if files.is_empty() {
        return Ok(());
    }
    let mut archive = tar::Builder::new(Vec::new());
    for dir in ["jot-parse/", "jot-parse/files/"] {
        append_entry(&mut archive, tar::EntryType::Directory, dir, &[], 0o755, 0)?;
    }
    append_file(
        &mut archive,
        "jot-parse/parse.jl",
        PARSE_JL.as_bytes(),
        0o644,
        0,
    )?;
    // Numbered names: a package's folders need no entries of their own.
    for (i, file) in files.iter().enumerate() {
        let path = format!("jot-parse/files/{i}.jl");
        append_file(&mut archive, &path, &file.contents, 0o644, 0)?;
    }
    let archive = archive
        .into_inner()
        .map_err(|e| Error::io("creating the parse's archive", e))?;
    let mut cmd: Vec<String> = ["julia", "--startup-file=no", "--history-file=no"]
        .map(String::from)
        .into();
    cmd.push("/jot-parse/parse.jl".into());
    cmd.extend((0..files.len()).map(|i| format!("{i}.jl")));
    let spec = OneShot {
        image: base_image.to_string(),
        cmd,
        user: "65534:65534".into(),
        env: vec![
            ("HOME".into(), "/tmp".into()),
            ("JULIA_DEPOT_PATH".into(), "/tmp/jot-parse-depot".into()),
        ],
        files: archive,
        kind_label: PARSE_LABEL.into(),
        memory_bytes: 1 << 30,
        deadline: PARSE_DEADLINE,
    };
    let exit = run_one_shot(docker, &spec).await?;
    let source = Path::new(&responder.info.source);
    let path_of = |i: usize| match responder.info.kind {
        ResponderKind::Script => source.to_path_buf(),
        ResponderKind::Package => source.join(&files[i].relative),
    };
    if let Some(error) = first_syntax_error(&exit.output) {
        return Err(Error::InvalidInput(format!(
            "{}:{}: {}",
            path_of(error.file).display(),
            error.line,
            error.message
        )));
    }
    match exit.code {
        Some(0) => Ok(()),
        code => Err(Error::Build(format!(
            "the parse of the responder with {base_image}'s julia {}: {}",
            code.map_or(format!("took over {} s", PARSE_DEADLINE.as_secs()), |c| {
                format!("exited {c}")
            }),
            last_lines(&exit.output)
        ))),
    }
}

/// True when jot built the image at `reference` from these very files (its
/// tree-hash label), and so parsed them then.
pub(crate) async fn parsed_before(docker: &Docker, reference: &str, responder: &Responder) -> bool {
    matches!(
        inspect_image(docker, reference).await,
        Ok(Some(image)) if image.labels.get(labels::JOT_TREE_HASH) == Some(&responder.info.tree_hash)
    )
}

/// One `jot-parse-error` line of parse.jl.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// The file's number on the command line.
    pub file: usize,
    pub line: u64,
    pub message: String,
}

/// The first syntax error parse.jl reported, if any.
pub(crate) fn first_syntax_error(output: &str) -> Option<SyntaxError> {
    output.lines().find_map(|line| {
        let mut fields = line.strip_prefix("jot-parse-error\t")?.splitn(3, '\t');
        let file = fields.next()?.strip_suffix(".jl")?.parse().ok()?;
        let line = fields.next()?.parse().ok()?;
        let message = fields.next()?.trim().to_string();
        Some(SyntaxError {
            file,
            line,
            message,
        })
    })
}

/// The last lines of a program's output, on one line.
fn last_lines(output: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reported_error_is_read_and_other_output_ignored() {
        let output = "some warning\njot-parse-error\t1.jl\t12\tsyntax: unexpected \"end\"\njot-parse-error\t2.jl\t3\tsyntax: x\n";
        assert_eq!(
            first_syntax_error(output),
            Some(SyntaxError {
                file: 1,
                line: 12,
                message: "syntax: unexpected \"end\"".into()
            })
        );
        assert_eq!(first_syntax_error("ok\n"), None);
        assert_eq!(first_syntax_error("jot-parse-error\tx\t1\tm\n"), None);
    }
}
