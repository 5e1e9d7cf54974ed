//! The engine's builder, run for an image: its context, its arguments, and
//! failures as one readable line.

use jot_core::error::{Error, Result};
use jot_core::output::Step;
use jot_docker::{BuildError, BuildImage, Docker, Image, inspect_image};

/// One run of the engine's builder: the context (a Dockerfile and what it
/// copies), the reference the image gets, and its build arguments.
pub(crate) struct BuilderRun {
    pub context: Vec<u8>,
    pub reference: String,
    pub args: BuildArgs,
}

/// Which `--build-arg`s a builder run gets.
pub(crate) enum BuildArgs {
    /// None: the runtime stage shared by every script on a base image, whose
    /// key the arguments are not part of.
    SharedStage,
    /// The request's (a responder's image, its dependency stage, its compiled layers).
    Request(Vec<(String, String)>),
}

/// Runs the Dockerfile through the engine's builder; returns the image built.
pub(crate) async fn run_builder(docker: &Docker, run: BuilderRun, step: &Step) -> Result<Image> {
    let BuilderRun {
        context,
        reference,
        args,
    } = run;
    let build_args = match args {
        BuildArgs::SharedStage => Vec::new(),
        BuildArgs::Request(args) => args,
    };
    let build = BuildImage {
        context,
        tag: reference.clone(),
        build_args,
    };
    let id = jot_docker::build_image(docker, build, |line| step.phase(line, false))
        .await
        .map_err(|e| match e {
            BuildError::Engine(e) => e.into(),
            BuildError::Failed {
                message,
                log,
                output,
            } => build_failure(&reference, &message, &log, &output),
            BuildError::NoImage => Error::Build(format!(
                "{reference}: the engine did not say which image it built"
            )),
        })?;
    // Resolve a short id to the full one.
    let inspect = inspect_image(docker, &id).await?.ok_or_else(|| {
        Error::Build(format!("the engine reported success but has no image {id}"))
    })?;
    Ok(inspect)
}

/// The start of the line the workload of `bootstrap --compile` writes when
/// the exemplar session or `--compile-tests` fails.
const COMPILE_FAILED: &str = "jot: --compile failed: ";

/// A build error with the last lines of the build log, which say why, as one
/// line without the terminal colour codes build steps print. A failed
/// compile is its workload's own line instead, with the path of a report
/// holding the whole build output (a test suite's failures, Julia's own
/// account of the failed precompilation).
pub(crate) fn build_failure(what: &str, error: &str, log: &[String], output: &str) -> Error {
    failure_reported_in(
        &jot_core::state_dir().join("build-reports"),
        what,
        error,
        log,
        output,
    )
}

/// [`build_failure`], with a failed compile's report written into `dir`.
fn failure_reported_in(
    dir: &std::path::Path,
    what: &str,
    error: &str,
    log: &[String],
    output: &str,
) -> Error {
    // The whole output's own lines (the engine's chunks can split a line).
    let text: Vec<String> = output.lines().map(strip_terminal_codes).collect();
    if let Some(reason) = text
        .iter()
        .find_map(|line| line.split_once(COMPILE_FAILED).map(|(_, r)| r.trim()))
    {
        return Error::Build(format!(
            "{what}: --compile failed: {reason}; {}",
            write_report(dir, what, &text)
        ));
    }
    let tail: Vec<String> = log
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|line| strip_terminal_codes(line).trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    Error::Build(format!(
        "{what}: {}{}",
        strip_terminal_codes(error.trim()),
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (last build output: {})", tail.join(" | "))
        }
    ))
}

/// Writes a failed build's output into `dir` (mode 0600: a build's output
/// can hold its arguments); says where, or why it could not.
fn write_report(dir: &std::path::Path, what: &str, text: &[String]) -> String {
    let name: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let path = dir.join(format!("{name}-{epoch}.log"));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(text.join("\n").as_bytes())?;
        file.write_all(b"\n")
    });
    match written {
        Ok(()) => format!("the whole build output is in {}", path.display()),
        Err(e) => format!(
            "the build output could not be written to {} ({e})",
            path.display()
        ),
    }
}

/// Removes ANSI escape sequences (`ESC [ … letter`) and other control characters.
fn strip_terminal_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if c == '\n' || c == '\t' {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_compile_is_its_workloads_line_and_a_report_of_the_whole_output() {
        let dir = tempfile::tempdir().unwrap();
        // As the engine streams it: a line can come in pieces.
        let chunks = [
            "Step 7/9 : RUN /opt/jot/bootstrap --compile\n",
            "Test Failed",
            " at\n/var/task/test/runtests.jl:3\n  Expression: ",
            "f(1) == 2\n",
            "\u{1b}[91mjot: --compile failed: --compile-tests: the package's test suite failed: Some tests did not pass\u{1b}[0m\n",
            "ERROR: Failed to precompile JotCompiled\n",
        ];
        let log: Vec<String> = chunks.map(|c| c.trim_end().to_string()).into();
        let output = chunks.concat();
        let error = failure_reported_in(
            dir.path(),
            "t:1",
            "returned a non-zero code: 1",
            &log,
            &output,
        )
        .to_string();
        let (line, path) = error
            .split_once("; the whole build output is in ")
            .unwrap_or_else(|| panic!("{error}"));
        assert_eq!(
            line,
            "build failed: t:1: --compile failed: --compile-tests: the package's test suite failed: Some tests did not pass"
        );
        let report = std::fs::read_to_string(path).unwrap();
        assert!(report.contains("Expression: f(1) == 2\n"), "{report}");
        assert!(report.contains("Test Failed at\n"), "{report}");
        assert!(
            report.ends_with("Failed to precompile JotCompiled\n"),
            "{report}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Another failure keeps the last lines of the build output.
        let other =
            failure_reported_in(dir.path(), "t:1", "failed", &log[..2], chunks[0]).to_string();
        assert!(other.contains("(last build output: "), "{other}");
    }
}
