//! jot-deploy: deploys the ECR images described on stdin as AWS Lambda
//! functions and prints one `function` descriptor per function on stdout.

use std::process::ExitCode;

use clap::Parser;
use jot_aws::deploy::{self, DeployOptions, Deployer, Settings};
use jot_core::cli::{self, OutputArgs};
use jot_core::limits::Architecture;
use jot_core::{Result, descriptor, output};

/// Deploy jot images as AWS Lambda functions.
///
/// Reads remote_image descriptors (from jot-push) on stdin. Creates the function (image
/// pinned by digest) or updates the code and changed settings of a function jot created,
/// publishes a version, and with --alias creates or moves the alias. Never touches a
/// function jot did not create unless --force. Settings not given keep the function's
/// current values (new functions: 1024 MB, 60 s, x86_64, 512 MB /tmp).
/// Two deploys of one function at once never lose an update: each publishes a
/// version with its own settings (guarded by Lambda's RevisionId).
#[derive(Parser, Debug)]
#[command(name = "jot-deploy", version, after_help = cli::after_help("jot-build f.jl | jot-push | jot-deploy --memory 2048 --alias live", &[0, 1, 2, 5, 8]))]
struct Args {
    /// Execution role [default: jot-lambda-basic-execution, created once with only AWSLambdaBasicExecutionRole]
    #[arg(long, value_name = "ARN")]
    role: Option<String>,
    /// Memory in MB (128 to 10240)
    #[arg(long, value_name = "MB")]
    memory: Option<u32>,
    /// Timeout in seconds (1 to 900)
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u32>,
    /// Environment variable (NAME=VALUE, repeatable); given ones replace all the function's variables
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    /// Instruction set of the image
    #[arg(long, value_enum, value_name = "ARCH")]
    architecture: Option<Architecture>,
    /// Size of /tmp in MB (512 to 10240)
    #[arg(long, value_name = "MB")]
    ephemeral_storage: Option<u32>,
    /// Description of the function (up to 256 characters)
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Create this alias, or move it, to the published version
    #[arg(long, value_name = "NAME")]
    alias: Option<String>,
    /// Turn on SnapStart: each published version is initialised (with its warm-up) and
    /// snapshotted at publish, and cold starts restore the snapshot. $LATEST is never snap-started
    #[arg(long)]
    snapstart: bool,
    /// Change a function (or use a role) that jot did not create
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    // Flags first: a bad value fails before stdin is read or AWS is called.
    let settings = Settings::check(&DeployOptions {
        role: args.role,
        memory: args.memory,
        timeout: args.timeout,
        environment: args.environment,
        architecture: args.architecture,
        ephemeral_storage: args.ephemeral_storage,
        description: args.description,
        alias: args.alias,
        force: args.force,
        snap_start: args.snapstart,
    })?;
    if args.snapstart {
        output::note(
            "note: SnapStart applies to published versions (invoke the version or an alias); $LATEST is not snap-started",
        );
    }
    let planned = deploy::plan(descriptor::read_piped(
        "jot-deploy",
        "jot-build f.jl | jot-push | jot-deploy",
    )?)?;
    let mut deployer = Deployer::connect(settings).await?;
    for item in planned {
        let deployed = deployer.deploy(item).await?;
        descriptor::write_line(&mut std::io::stdout(), &deployed)?;
    }
    Ok(())
}
