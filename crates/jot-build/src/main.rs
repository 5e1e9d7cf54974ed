//! jot-build: turns Julia scripts or packages into Lambda container images and
//! prints one `local_image` descriptor per PATH on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use jot_build::settings::{self, BuildFlags};
use jot_core::cli::{self, OutputArgs};
use jot_core::{Error, Result, descriptor};

/// Build Julia responders into AWS Lambda container images.
///
/// Each PATH is a Julia script (.jl) or a package directory (with Project.toml).
/// Prints one local_image descriptor (JSON) per PATH on stdout, for jot-invoke,
/// jot-push and the other jot tools. The first build on a base image makes the shared
/// runtime stage (about 5 to 8 minutes on 2 cores, once); later builds of a script take about 2 s
/// (the base image's Julia parses the code first: a syntax error fails the build with its FILE:LINE, exit 5).
#[derive(Parser, Debug)]
#[command(name = "jot-build", version, after_help = cli::after_help("jot-build increment_vector.jl --arg-type 'Vector{Int}' --test-payload '[1,2]' --expect '[2,3]' | jot-invoke --local --payload '[1,2,3]'", &[0, 1, 2, 3, 4, 5, 6, 7, 130, 143]))]
struct Args {
    /// Julia scripts (.jl) or package directories
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    settings: BuildFlags,
    /// Pull the base image (needed when the engine does not have it; refreshes it otherwise)
    #[arg(long)]
    pull: bool,
    /// Replace a local image NAME:TAG that jot did not build
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(build)
}

async fn build(args: Args) -> Result<()> {
    let flags = &args.settings;
    if args.paths.len() > 1 && (flags.name.is_some() || flags.tag.is_some()) {
        return Err(Error::Usage(
            "--name and --tag name one image; build one PATH at a time to use them".into(),
        ));
    }
    // Read and check every responder and its settings before building anything.
    let planned = args
        .paths
        .iter()
        .map(|path| settings::plan(path, flags, args.pull, args.force))
        .collect::<Result<Vec<_>>>()?;
    let mut stdout = std::io::stdout();
    if flags.config.show_config {
        for plan in &planned {
            cli::print_line(&settings::show(plan).to_string())?;
        }
        return Ok(());
    }
    let docker = jot_docker::connect().await?;
    for plan in &planned {
        let built = jot_build::build_one(&docker, plan).await?;
        descriptor::write_line(&mut stdout, &built)?;
    }
    Ok(())
}
