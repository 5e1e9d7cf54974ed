//! jot-serve: runs the functions described on stdin behind the AWS Lambda
//! Invoke API on loopback, with warm sandboxes reused and scaled out per
//! function. Prints the endpoint URL on stdout, then serves until interrupted.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::{Error, Result, descriptor, limits, output};
use jot_emulator::InstanceConfig;
use jot_emulator::invoke_api::{InvokeApi, StatusCode};
use jot_emulator::pool::FunctionPool;

/// Serve jot functions locally behind the AWS Lambda Invoke API.
///
/// Reads descriptors with a local_image on stdin (from jot-build) and
/// serves POST /2015-03-31/functions/NAME/invocations, so an AWS SDK or CLI with its
/// endpoint set to the printed URL invokes the Julia code in the local Docker engine.
#[derive(Parser, Debug)]
#[command(name = "jot-serve", version, after_help = cli::after_help("jot-build f.jl | jot-serve --port 9001 &\n  aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name f --payload '[1]' out.json", &[0, 1, 2, 5, 6, 130, 143]))]
struct Args {
    /// Address to listen on (loopback by default; anything else exposes your functions)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (0 picks a free one)
    #[arg(long, value_name = "PORT", default_value_t = 9001)]
    port: u16,
    /// Sandboxes each function may run at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1000))]
    max_concurrency: u16,
    /// Seconds an invocation may run
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u32,
    /// Memory of each sandbox in MB
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    memory: u32,
    /// HTTP status of a function error: 200 with X-Amz-Function-Error as Lambda
    /// answers, or e.g. 500 for proxies that look only at the status (MiniStack)
    #[arg(long, value_name = "CODE", default_value_t = 200, value_parser = clap::value_parser!(u16).range(200..=599))]
    function_error_status: u16,
    /// Environment variable for the functions (NAME=VALUE, repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run_multi_thread(serve)
}

async fn serve(args: Args) -> Result<()> {
    limits::check_timeout(args.timeout)?;
    limits::check_memory(args.memory)?;
    let environment = limits::parse_environment(&args.environment)?;
    let descriptors = descriptor::read_piped("jot-serve", "jot-build f.jl | jot-serve")?;
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = descriptors.iter().find(|d| !seen.insert(d.name.as_str())) {
        return Err(Error::InvalidInput(format!(
            "two descriptors name the function {}; serve each name once",
            twice.name
        )));
    }
    let loopback = args
        .bind
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || args.bind == "localhost";
    if !loopback {
        output::warn(format!(
            "warning: --bind {} exposes your functions (and their Runtime API answers) beyond this machine",
            args.bind
        ));
    }
    let docker = jot_docker::connect().await?;
    let mut functions = HashMap::new();
    for descriptor in &descriptors {
        let image = descriptor.require_local_image()?.image.clone();
        let mut config = InstanceConfig::new(image, descriptor.name.clone());
        config.timeout = Duration::from_secs(args.timeout.into());
        config.memory_mb = args.memory;
        config.environment = environment.clone();
        let pool = FunctionPool::new(&docker, config, args.max_concurrency.into());
        functions.insert(descriptor.name.clone(), Arc::new(pool));
    }
    let listener = tokio::net::TcpListener::bind((args.bind.as_str(), args.port))
        .await
        .map_err(|e| Error::io(format!("listening on {}:{}", args.bind, args.port), e))?;
    let address = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listening address", e))?;
    let endpoint = format!("http://{address}");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{endpoint}")
        .and_then(|_| stdout.flush())
        .map_err(|e| Error::io("writing the endpoint to stdout", e))?;
    for name in functions.keys() {
        output::note(format!(
            "serving {name} at {endpoint}/2015-03-31/functions/{name}/invocations"
        ));
    }
    let status = StatusCode::from_u16(args.function_error_status)
        .map_err(|e| Error::Usage(format!("--function-error-status: {e}")))?;
    let api = InvokeApi::new(functions, status);
    let signal = tokio::select! {
        _ = api.clone().serve(listener) => None,
        signal = cli::stop_requested() => Some(signal),
    };
    output::note("stopping: removing the sandboxes");
    api.shutdown().await;
    match signal {
        Some(signal) => Err(cli::interrupted(
            signal,
            "stopped; every sandbox was removed",
        )),
        None => Ok(()),
    }
}
