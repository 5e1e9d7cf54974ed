//! jot-invoke: invokes functions described on stdin (or named by `--image` /
//! `--function-name`) and prints each response on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use jot_core::check;
use jot_core::cli::{self, OutputArgs};
use jot_core::descriptor::Descriptor;
use jot_core::{Error, Result, limits};
use jot_emulator::InstanceConfig;
use jot_invoke::settings::Given;
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
    /// Event to send (JSON); repeat the flag to send several in turn [default: jot.toml's test_payload, else {}]
    #[arg(long = "payload", value_name = "JSON", allow_hyphen_values = true)]
    payloads: Vec<String>,
    /// Read the event (JSON) from a file
    #[arg(long, value_name = "FILE", conflicts_with = "payloads")]
    payload_file: Option<PathBuf>,
    /// Response every invocation must give (JSON); exit 4 otherwise
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    expect: Option<String>,
    /// Seconds an invocation may run before it is stopped (local) or abandoned [default: jot.toml's timeout, else 30]
    #[arg(long, value_name = "SECONDS", env = jot_config::env::TIMEOUT)]
    timeout: Option<u32>,
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
    /// Memory of the local sandbox in MB [default: jot.toml's memory, else 1024]
    #[arg(long, value_name = "MB", env = jot_config::env::MEMORY)]
    memory: Option<u32>,
    /// Local AWS_LAMBDA_INITIALIZATION_TYPE (snap-start: the SnapStart hooks, no real snapshot)
    #[arg(long, value_name = "TYPE", default_value = "on-demand",
          value_parser = ["on-demand", "provisioned-concurrency", "snap-start"])]
    init_type: String,
    /// Environment variable for the local sandbox (NAME=VALUE, repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    #[command(flatten)]
    aws: cli::AwsArgs,
    #[command(flatten)]
    config: jot_config::ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(invoke)
}

async fn invoke(args: Args) -> Result<()> {
    args.timeout.map(limits::check_timeout).transpose()?;
    args.memory.map(limits::check_memory).transpose()?;
    let environment = limits::parse_environment(&args.environment)?;
    let (targets, descriptors) = targets(&args)?;
    let config = jot_config::for_descriptors(&descriptors, &args.config)?;
    let given = Given {
        payloads: &args.payloads,
        payload_file: args.payload_file.as_deref(),
        expect: args.expect.as_deref(),
        timeout: args.timeout,
        memory: args.memory,
        repeat: args.repeat,
    };
    let settings = jot_invoke::settings::resolve(&given, config.as_ref())?;
    let selection = jot_config::aws_selection(&args.aws, config.as_ref())?;
    if args.config.show_config {
        let mut shown = settings.show(config.as_ref());
        shown["aws"] = selection.show();
        return cli::print_line(&shown.to_string());
    }
    let plan = settings.plan;
    let mut verdict = Ok(());
    let mut piped = descriptors.iter();
    for target in targets {
        // Descriptors and targets are in step when the targets came from stdin.
        let descriptor = piped.next();
        let result = match target {
            Target::Local { name, image } => {
                let config = InstanceConfig {
                    timeout: Duration::from_secs(settings.timeout.into()),
                    memory_mb: settings.memory,
                    environment: environment.clone(),
                    initialization_type: args.init_type.clone(),
                    ..InstanceConfig::new(image, name)
                };
                let reporting = Reporting::new(args.logs, args.json);
                invoke_local(config, &plan, reporting, &mut std::io::stdout()).await
            }
            Target::Remote { name, qualifier } => {
                let options = jot_aws::invoke::RemoteOptions {
                    // --qualifier wins over the alias or version the descriptor names.
                    qualifier: args.qualifier.clone().or(qualifier),
                    timeout: Duration::from_secs(settings.timeout.into()),
                    logs: args.logs,
                    json: args.json,
                };
                jot_aws::invoke::run(
                    &name,
                    &plan,
                    &options,
                    &selection,
                    descriptor,
                    &mut std::io::stdout(),
                )
                .await
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

/// The functions to invoke, from flags or descriptors on stdin (and those descriptors).
fn targets(args: &Args) -> Result<(Vec<Target>, Vec<Descriptor>)> {
    if let Some(image) = &args.image {
        return Ok((vec![Target::image(image)?], Vec::new()));
    }
    if let Some(name) = &args.function_name {
        let target = Target::Remote {
            name: name.clone(),
            qualifier: None,
        };
        return Ok((vec![target], Vec::new()));
    }
    Target::piped(args.local)
}
