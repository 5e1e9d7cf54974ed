//! jot-deploy: deploys the ECR images described on stdin as AWS Lambda
//! functions and prints one `function` descriptor per function on stdout.

use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use jot_aws::deploy::{self, DeployOptions};
use jot_core::{Result, descriptor};

/// Deploy jot images as AWS Lambda functions.
///
/// Reads remote_image descriptors (from jot-push) on stdin. Creates the function (image
/// pinned by digest) or updates the code and changed settings of a function jot created,
/// publishes a version, and with --alias creates or moves the alias. Never touches a
/// function jot did not create unless --force. Settings not given keep the function's
/// current values (new functions: 1024 MB, 60 s, x86_64, 512 MB /tmp).
/// Exit status: 0 success, 5 bad input or a function that is not jot's, 8 AWS failure.
#[derive(Parser, Debug)]
#[command(name = "jot-deploy", version)]
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
    architecture: Option<Arch>,
    /// Size of /tmp in MB (512 to 10240)
    #[arg(long, value_name = "MB")]
    ephemeral_storage: Option<u32>,
    /// Description of the function (up to 256 characters)
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Create this alias, or move it, to the published version
    #[arg(long, value_name = "NAME")]
    alias: Option<String>,
    /// Change a function (or use a role) that jot did not create
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    Arm64,
}

fn main() -> ExitCode {
    jot_core::cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    let options = DeployOptions {
        role: args.role,
        memory: args.memory,
        timeout: args.timeout,
        environment: args.environment,
        architecture: args.architecture.map(|a| {
            match a {
                Arch::X86_64 => "x86_64",
                Arch::Arm64 => "arm64",
            }
            .to_string()
        }),
        ephemeral_storage: args.ephemeral_storage,
        description: args.description,
        alias: args.alias,
        force: args.force,
    };
    // Flags first: a bad value fails before stdin is read or AWS is called.
    deploy::validate(&options)?;
    let descriptors =
        descriptor::read_piped("jot-deploy", "jot-build f.jl | jot-push | jot-deploy")?;
    deploy::deploy_all(descriptors, &options, &mut std::io::stdout())
        .await
        .map_err(Into::into)
}
