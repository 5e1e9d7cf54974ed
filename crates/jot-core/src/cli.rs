//! What every jot executable does the same way: parse arguments, print shell
//! completions, run on a Tokio runtime, and turn an error into one line on
//! stderr and its documented exit code.

use std::future::Future;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_complete::Shell;

use crate::error::{Error, Result};

/// The hidden first argument that prints completions, used to generate
/// `shell-completions/` (see `make completions`).
pub const COMPLETIONS_FLAG: &str = "--generate-completions";

/// Writes the completion script of command `A` for `shell` to `out`.
pub fn write_completions<A: CommandFactory>(shell: Shell, out: &mut dyn std::io::Write) {
    let mut command = A::command();
    let name = command.get_name().to_string();
    clap_complete::generate(shell, &mut command, name, out);
}

/// Parses `A` from the command line and runs `main` to completion.
/// Errors print as `NAME: error: MESSAGE` and exit with [`Error::exit_code`].
pub fn run<A, F, Fut>(main: F) -> ExitCode
where
    A: Parser,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut argv = std::env::args_os();
    let program = A::command().get_name().to_string();
    if argv.nth(1).is_some_and(|a| a == COMPLETIONS_FLAG) {
        let shell = argv
            .next()
            .and_then(|s| s.to_str().and_then(|s| s.parse::<Shell>().ok()));
        return match shell {
            Some(shell) => {
                write_completions::<A>(shell, &mut std::io::stdout());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "{program}: error: {COMPLETIONS_FLAG} needs a shell: bash, zsh, fish, elvish or powershell"
                );
                ExitCode::from(crate::error::exit::USAGE)
            }
        };
    }
    let args = A::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return report(
                &program,
                &Error::Internal(format!("cannot start the async runtime: {e}")),
            );
        }
    };
    match runtime.block_on(main(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&program, &e),
    }
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM), so a tool
/// can remove its containers before it exits.
pub async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn report(program: &str, error: &Error) -> ExitCode {
    eprintln!("{program}: error: {error}");
    ExitCode::from(error.exit_code())
}
