//! jot-config: the `jot.toml` tools: import the bash predecessor's
//! `config.json`, and check a file (every key, every named section).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jot_config::Config;
use jot_core::cli::{self, OutputArgs};
use jot_core::{Result, output};

/// Read, check and import jot.toml, the settings file beside a responder.
///
/// jot-build, jot-push, jot-deploy and jot-invoke read jot.toml beside the responder
/// (the script's folder or the package directory), or the file --config names.
/// Flags beat JOT_* variables, which beat the file's [env.NAME] section (--env-name),
/// which beats its top-level keys. Every key is in docs/configuration.md.
#[derive(Parser, Debug)]
#[command(name = "jot-config", version, after_help = cli::after_help("jot-config import config.json > jot.toml && jot-config check jot.toml --env-name prod", &[0, 1, 2, 5]))]
struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Print a jot.toml for the bash predecessor's config.json (julia-aws-lambda-image)
    Import {
        /// The config.json to read
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Check a jot.toml: unknown keys and bad types are one line naming the file, line and key
    Check {
        /// The jot.toml to check
        #[arg(value_name = "FILE", default_value = jot_config::FILE_NAME)]
        file: PathBuf,
        /// Check this named section ([env.NAME]) too
        #[arg(long, value_name = "NAME")]
        env_name: Option<String>,
    },
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run_sync(run)
}

fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Import { file } => {
            let text = jot_config::read_settings_file(&file)?;
            let toml = jot_config::import::from_config_json(&file.display().to_string(), &text)?;
            print!("{toml}");
            Ok(())
        }
        Action::Check { file, env_name } => {
            Config::load(&file, env_name.as_deref())?;
            output::detail(format!(
                "{}: checked its top{}",
                file.display(),
                env_name
                    .as_deref()
                    .map(|n| format!(" and [env.{n}]"))
                    .unwrap_or_default()
            ));
            output::note(format!("{}: ok", file.display()));
            Ok(())
        }
    }
}
