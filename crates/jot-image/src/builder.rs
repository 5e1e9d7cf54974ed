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
            BuildError::Failed { message, log } => build_failure(&reference, &message, &log),
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

/// A build error with the last lines of the build log, which say why, as one
/// line without the terminal colour codes build steps print.
pub(crate) fn build_failure(what: &str, error: &str, log: &[String]) -> Error {
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
