//! What every jot executable does the same way: the flags they share, shell
//! completions, the (optional) Tokio runtime, signals, and turning an error
//! into one line on stderr and its documented exit code.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clap_complete::Shell;

use crate::error::{Error, Result, exit};
use crate::output::{self, ColorChoice, Verbosity};

/// The hidden first argument that prints completions, used to generate
/// `shell-completions/` (see `make completions`).
pub const COMPLETIONS_FLAG: &str = "--generate-completions";

/// The hidden first argument that prints the tool's man page (roff), written
/// to `shell-completions/TOOL.1` by `make completions`.
pub const MAN_FLAG: &str = "--generate-man";

/// Output flags every tool takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// When to colour output: auto (a terminal, and NO_COLOR unset), always, never
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Print only warnings and errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail on stderr (each build step, each AWS call)
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl OutputArgs {
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        }
    }
}

/// Which AWS account (through a profile) and region a tool acts in: the
/// flags of every tool that calls AWS.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AwsArgs {
    /// AWS profile of ~/.aws/config (keys, assume-role, SSO or credential_process); beats
    /// AWS_PROFILE and jot.toml's `profile` [e.g. --profile prod]
    #[arg(long, value_name = "NAME", env = "JOT_PROFILE")]
    pub profile: Option<String>,
    /// AWS region; beats AWS_REGION, jot.toml's `region` and the profile's [e.g. --region eu-west-1]
    #[arg(long, value_name = "NAME", env = "JOT_REGION")]
    pub region: Option<String>,
}

/// One chosen AWS setting and where it came from (for `--show-config` and errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub value: String,
    pub from: String,
}

/// The profile and region a run uses; `None` leaves the choice to the
/// standard AWS chain (the `default` profile, the profile's region, the
/// instance's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSelection {
    pub profile: Option<Chosen>,
    pub region: Option<Chosen>,
}

impl AwsArgs {
    /// Flags (or `JOT_PROFILE`/`JOT_REGION`) > `AWS_PROFILE`/`AWS_REGION`/`AWS_DEFAULT_REGION`
    /// > the file's values (already checked, with where they were written) > the chain.
    pub fn select(
        &self,
        file_profile: Option<Chosen>,
        file_region: Option<Chosen>,
    ) -> Result<AwsSelection> {
        let from_env = |names: &[&str]| {
            names.iter().find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|value| Chosen {
                        value,
                        from: format!("environment {name}"),
                    })
            })
        };
        let flag = |value: &Option<String>, what: &str| {
            value.clone().map(|value| Chosen {
                value,
                from: format!("--{what} (or JOT_{})", what.to_uppercase()),
            })
        };
        let profile = flag(&self.profile, "profile")
            .or_else(|| from_env(&["AWS_PROFILE"]))
            .or(file_profile);
        let region = flag(&self.region, "region")
            .or_else(|| from_env(&["AWS_REGION", "AWS_DEFAULT_REGION"]))
            .or(file_region);
        if let Some(p) = &profile {
            crate::names::validate_profile(&p.value)
                .map_err(|e| Error::InvalidInput(format!("{}: {e}", p.from)))?;
        }
        if let Some(r) = &region {
            crate::names::validate_region(&r.value)
                .map_err(|e| Error::InvalidInput(format!("{}: {e}", r.from)))?;
        }
        Ok(AwsSelection { profile, region })
    }
}

impl AwsSelection {
    /// The selection as `--show-config` prints it.
    pub fn show(&self) -> serde_json::Value {
        let part = |c: &Option<Chosen>| {
            c.as_ref().map_or(
                serde_json::Value::Null,
                |c| serde_json::json!({"value": c.value, "from": c.from}),
            )
        };
        serde_json::json!({"profile": part(&self.profile), "region": part(&self.region)})
    }

    /// The profile's name, if one is chosen.
    pub fn profile_name(&self) -> Option<&str> {
        self.profile.as_ref().map(|c| c.value.as_str())
    }

    /// The region's name, if one is chosen.
    pub fn region_name(&self) -> Option<&str> {
        self.region.as_ref().map(|c| c.value.as_str())
    }
}

/// A command line that carries the shared output flags.
pub trait Command: Parser {
    fn output(&self) -> &OutputArgs;
}

/// Implements [`Command`] for a clap struct whose shared flags are in its
/// field `output` (`#[command(flatten)] output: OutputArgs`).
#[macro_export]
macro_rules! output_args {
    ($args:ty) => {
        impl $crate::cli::Command for $args {
            fn output(&self) -> &$crate::cli::OutputArgs {
                &self.output
            }
        }
    };
}

/// The `--help` epilogue of every tool: an example, then its exit codes
/// from the one table.
pub fn after_help(example: &str, codes: &[u8]) -> String {
    format!("Example:\n  {example}\n\n{}", exit::help(codes))
}

/// Writes the completion script of command `A` for `shell` to `out`.
pub fn write_completions<A: CommandFactory>(shell: Shell, out: &mut dyn std::io::Write) {
    let mut command = A::command();
    let name = command.get_name().to_string();
    clap_complete::generate(shell, &mut command, name, out);
}

/// Writes the man page of command `A`, generated from the same clap
/// definition as `--help`, to `out`.
pub fn write_man_page<A: CommandFactory>(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(A::command()).render(out)
}

/// Parses the command line (printing completions or the man page when asked)
/// and sets up output.
fn parse<A: Command>() -> std::result::Result<A, ExitCode> {
    let mut argv = std::env::args_os();
    let program = A::command().get_name().to_string();
    let first = argv.nth(1);
    if first.as_ref().is_some_and(|a| a == MAN_FLAG) {
        return Err(match write_man_page::<A>(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: error: writing the man page: {e}");
                ExitCode::from(exit::INTERNAL)
            }
        });
    }
    if first.is_some_and(|a| a == COMPLETIONS_FLAG) {
        let shell = argv
            .next()
            .and_then(|s| s.to_str().and_then(|s| s.parse::<Shell>().ok()));
        return Err(match shell {
            Some(shell) => {
                write_completions::<A>(shell, &mut std::io::stdout());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!(
                    "{program}: error: {COMPLETIONS_FLAG} needs a shell: bash, zsh, fish, elvish or powershell"
                );
                ExitCode::from(exit::USAGE)
            }
        });
    }
    let args = A::parse();
    output::configure(args.output().color, args.output().verbosity());
    Ok(args)
}

/// Runs a tool that needs no async runtime (the front command).
pub fn run_sync<A: Command>(main: impl FnOnce(A) -> Result<()>) -> ExitCode {
    match parse::<A>() {
        Ok(args) => finish(A::command().get_name(), main(args)),
        Err(code) => code,
    }
}

/// Turns a tool's result into its exit code, printing the error on one line.
/// A closed stdout (the reader went away: `jot-ls | head`) ends quietly.
pub fn finish(program: &str, result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        // A stop asked for by a signal is no error: say what was cleaned up.
        Err(e @ Error::Interrupted { .. }) => {
            eprintln!("{program}: {e}");
            ExitCode::from(e.exit_code())
        }
        Err(e) => {
            eprintln!("{program}: {} {e}", output::paint("error:", "31"));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Writes `text` and a newline to stdout, flushed, mapping a closed pipe to
/// an error that [`finish`] treats as a quiet end.
pub fn print_line(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))
}

#[cfg(feature = "runtime")]
mod runtime {
    use std::future::Future;
    use std::process::ExitCode;

    use super::{Command, finish, parse};
    use crate::error::{Error, Result, StopSignal};

    /// Runs `main` on a single-threaded Tokio runtime.
    pub fn run<A, F, Fut>(main: F) -> ExitCode
    where
        A: Command,
        F: FnOnce(A) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        run_on(tokio::runtime::Builder::new_current_thread(), main)
    }

    /// Runs `main` on a multi-threaded Tokio runtime (servers) with half the
    /// cores as workers: a local server shares the machine with the sandboxes
    /// and clients it serves, and a worker per core costs each request a hop
    /// between threads (on 2 cores one worker answers ~30% more requests at
    /// concurrency 1 and as many at 16). `TOKIO_WORKER_THREADS` overrides it.
    pub fn run_multi_thread<A, F, Fut>(main: F) -> ExitCode
    where
        A: Command,
        F: FnOnce(A) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            builder.worker_threads(server_workers(cores));
        }
        run_on(builder, main)
    }

    /// Workers for a server on a machine with `cores` cores.
    pub(crate) fn server_workers(cores: usize) -> usize {
        (cores / 2).max(1)
    }

    fn run_on<A, F, Fut>(mut builder: tokio::runtime::Builder, main: F) -> ExitCode
    where
        A: Command,
        F: FnOnce(A) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let args = match parse::<A>() {
            Ok(args) => args,
            Err(code) => return code,
        };
        let program = A::command().get_name().to_string();
        let result = match builder.enable_all().build() {
            Ok(runtime) => runtime.block_on(main(args)),
            Err(e) => Err(Error::Internal(format!(
                "cannot start the async runtime: {e}"
            ))),
        };
        finish(&program, result)
    }

    /// Resolves when the process is asked to stop (SIGINT or SIGTERM), with
    /// the signal, so a tool can remove its containers and exit 130 or 143.
    pub async fn stop_requested() -> StopSignal {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => StopSignal::Interrupt,
                    _ = terminate.recv() => StopSignal::Terminate,
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                StopSignal::Interrupt
            }
        }
    }

    /// The error a tool returns after cleaning up for `signal`.
    pub fn interrupted(signal: StopSignal, what: impl Into<String>) -> Error {
        Error::Interrupted {
            signal,
            what: what.into(),
        }
    }
}

#[cfg(feature = "runtime")]
pub use runtime::{interrupted, run, run_multi_thread, stop_requested};

#[cfg(all(test, feature = "runtime"))]
mod tests {
    #[test]
    fn a_server_leaves_half_the_cores_to_what_it_serves() {
        let workers: Vec<usize> = [1, 2, 3, 8].map(super::runtime::server_workers).into();
        assert_eq!(workers, [1, 1, 1, 4]);
    }
}
