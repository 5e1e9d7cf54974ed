//! jot: the front command. `jot SUB ARGS…` runs the executable `jot-SUB`
//! (the cargo and git plugin convention), looked up first beside this binary
//! and then on PATH, so anyone can add a subcommand by putting `jot-NAME` on PATH.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::output::ColorChoice;
use jot_core::{Error, Result};

/// Turn Julia code into AWS Lambda functions and keep track of every copy.
///
/// `jot SUB ARGS…` runs `jot-SUB ARGS…`; `jot --list` shows the subcommands found.
/// A plugin's exit status is jot's; the codes below are jot's own.
#[derive(Parser, Debug)]
#[command(
    name = "jot",
    version,
    allow_external_subcommands = true,
    after_help = cli::after_help("jot build f.jl | jot invoke --local --payload '[1,2,3]'", &[0, 1, 2])
)]
struct Args {
    /// List the jot subcommands (jot-* executables) found beside jot and on PATH
    #[arg(long)]
    list: bool,
    #[command(subcommand)]
    command: Option<Subcommand>,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

#[derive(clap::Subcommand, Debug)]
enum Subcommand {
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

fn main() -> ExitCode {
    cli::run_sync(front)
}

fn front(args: Args) -> Result<()> {
    match args.command {
        Some(Subcommand::External(mut argv)) if !args.list => {
            let sub = argv.remove(0).to_string_lossy().into_owned();
            // `jot -q SUB` is `jot SUB -q`: jot's own output flags go on.
            let mut passed: Vec<OsString> = Vec::new();
            if args.output.quiet {
                passed.push("-q".into());
            }
            if args.output.verbose {
                passed.push("-v".into());
            }
            if args.output.color != ColorChoice::Auto {
                let when = format!("{:?}", args.output.color).to_lowercase();
                passed.extend(["--color".into(), when.into()]);
            }
            passed.extend(argv);
            run_plugin(&sub, passed)
        }
        _ => {
            let plugins = find_plugins();
            if plugins.is_empty() {
                eprintln!("no jot subcommands found beside jot or on PATH");
            }
            for (name, path) in plugins {
                cli::print_line(&format!("{name:<12} {}", path.display()))?;
            }
            Ok(())
        }
    }
}

/// Directories searched for plugins: beside this executable, then PATH.
fn search_dirs() -> Vec<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(PathBuf::from));
    let path = std::env::var_os("PATH").unwrap_or_default();
    beside
        .into_iter()
        .chain(std::env::split_paths(&path))
        .collect()
}

fn find_plugin(sub: &str) -> Option<PathBuf> {
    let program = format!("jot-{sub}");
    let dirs = std::env::join_paths(search_dirs()).ok()?;
    let cwd = std::env::current_dir().ok()?;
    which::which_in(program, Some(dirs), cwd).ok()
}

/// Every `jot-NAME` executable, the first found for each name.
fn find_plugins() -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    for dir in search_dirs() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(sub) = file_name.strip_prefix("jot-") else {
                continue;
            };
            if sub.is_empty() || sub.contains('.') || !is_executable(&entry.path()) {
                continue;
            }
            found.entry(sub.to_string()).or_insert_with(|| entry.path());
        }
    }
    found
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Replaces this process with the plugin, so signals, stdin and stdout pass straight through.
fn run_plugin(sub: &str, argv: Vec<OsString>) -> Result<()> {
    use std::os::unix::process::CommandExt;
    let Some(path) = find_plugin(sub) else {
        let known: Vec<String> = find_plugins().into_keys().collect();
        return Err(Error::Usage(format!(
            "no such subcommand `{sub}`: no jot-{sub} beside jot or on PATH (found: {})",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    };
    let error = std::process::Command::new(&path).args(argv).exec();
    Err(Error::io(format!("running {}", path.display()), error))
}
