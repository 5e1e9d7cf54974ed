//! jot-invoke: invokes functions described on stdin (or named by `--image` /
//! `--function-name`) and prints each response on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use jot_core::check;
use jot_core::cli::{self, OutputArgs};
use jot_core::session::InvokePlan;
use jot_core::{Error, Result, limits};
use jot_emulator::InstanceConfig;
use jot_invoke::{Reporting, Target, invoke_local};

/// Invoke jot functions, locally (exactly as Lambda runs them) or on AWS Lambda.
///
/// Reads descriptors from stdin (from jot-build, jot-push or jot-deploy)
/// unless --image or --function-name is given. A local_image descriptor or --image
/// runs locally; a function descriptor or --function-name runs on AWS Lambda unless --local.
#[derive(Parser, Debug)]
#[command(name = "jot-invoke", version, after_help = cli::after_help("jot-build f.jl | jot-invoke --local --payload '[1,2,3]' --expect '[2,3,4]'", &[0, 1, 2, 3, 4, 5, 6, 8, 130, 143]))]
struct Args {
    /// Run the image in the local Docker engine even for deployed functions
    #[arg(long)]
    local: bool,
    /// Local image to run instead of descriptors on stdin
    #[arg(long, value_name = "IMAGE", conflicts_with = "function_name")]
    image: Option<String>,
    /// Lambda function to invoke instead of descriptors on stdin
    #[arg(long, value_name = "NAME")]
    function_name: Option<String>,
    /// Event to send (JSON); repeat the flag to send several in turn [default: {}]
    #[arg(long = "payload", value_name = "JSON", allow_hyphen_values = true)]
    payloads: Vec<String>,
    /// Read the event (JSON) from a file
    #[arg(long, value_name = "FILE", conflicts_with = "payloads")]
    payload_file: Option<PathBuf>,
    /// Response every invocation must give (JSON); exit 4 otherwise
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    expect: Option<String>,
    /// Seconds an invocation may run before it is stopped (local) or abandoned
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u32,
    /// Send each payload N times (to the same warm sandbox)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Print timings as JSON on stderr: init, first response, warm p50/p99 and (local) the
    /// cold start split into container, Julia start, runtime, responder, warm-up, first response
    #[arg(long)]
    json: bool,
    /// Print the function's logs on stderr
    #[arg(long)]
    logs: bool,
    /// Version number or alias of the Lambda function to invoke [default: $LATEST]
    #[arg(long, value_name = "VERSION|ALIAS")]
    qualifier: Option<String>,
    /// Memory of the local sandbox in MB
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    memory: u32,
    /// How the local sandbox is initialised (AWS_LAMBDA_INITIALIZATION_TYPE); snap-start
    /// runs the SnapStart lifecycle (hooks, /runtime/restore/next) without a real snapshot
    #[arg(long, value_name = "TYPE", default_value = "on-demand",
          value_parser = ["on-demand", "provisioned-concurrency", "snap-start"])]
    init_type: String,
    /// Environment variable for the local sandbox (NAME=VALUE, repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(invoke)
}

async fn invoke(args: Args) -> Result<()> {
    let plan = plan(&args)?;
    limits::check_timeout(args.timeout)?;
    limits::check_memory(args.memory)?;
    let environment = limits::parse_environment(&args.environment)?;
    let targets = targets(&args)?;
    let mut verdict = Ok(());
    for target in targets {
        let result = match target {
            Target::Local { name, image } => {
                let mut config = InstanceConfig::new(image, name);
                config.timeout = Duration::from_secs(args.timeout.into());
                config.memory_mb = args.memory;
                config.environment = environment.clone();
                config.initialization_type = args.init_type.clone();
                let reporting = Reporting {
                    logs: args.logs,
                    json: args.json,
                };
                invoke_local(config, &plan, reporting, &mut std::io::stdout()).await
            }
            Target::Remote { name, qualifier } => {
                let options = jot_aws::invoke::RemoteOptions {
                    // --qualifier wins over the alias or version the descriptor names.
                    qualifier: args.qualifier.clone().or(qualifier),
                    timeout: Duration::from_secs(args.timeout.into()),
                    logs: args.logs,
                    json: args.json,
                };
                jot_aws::invoke::run(&name, &plan, &options, &mut std::io::stdout()).await
            }
        };
        // Keep going through the targets; the worst verdict decides the exit code.
        match result {
            Ok(()) => {}
            Err(e @ (Error::FunctionError(_) | Error::ExpectMismatch { .. })) => {
                check::fold_verdict(&mut verdict, e)
            }
            Err(other) => return Err(other),
        }
    }
    verdict
}

/// The functions to invoke, from flags or descriptors on stdin.
fn targets(args: &Args) -> Result<Vec<Target>> {
    if let Some(image) = &args.image {
        return Ok(vec![Target::image(image)?]);
    }
    if let Some(name) = &args.function_name {
        return Ok(vec![Target::Remote {
            name: name.clone(),
            qualifier: None,
        }]);
    }
    Target::piped(args.local)
}

fn plan(args: &Args) -> Result<InvokePlan> {
    let texts =
        match &args.payload_file {
            Some(path) => vec![std::fs::read_to_string(path).map_err(|e| {
                Error::InvalidInput(format!("--payload-file {}: {e}", path.display()))
            })?],
            None if args.payloads.is_empty() => vec!["{}".to_string()],
            None => args.payloads.clone(),
        };
    jot_invoke::plan(texts, args.expect.as_deref(), args.repeat)
}
