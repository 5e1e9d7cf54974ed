//! jot-serve: runs the functions described on stdin behind the AWS Lambda API
//! on loopback (crate `jot-run` does the work). Prints the endpoint URL on
//! stdout, then serves until SIGINT/SIGTERM, when it finishes what is in
//! flight and removes every sandbox.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::{Result, descriptor, limits};
use jot_run::{Options, Served, Settings};
use jot_serve::settings;

/// Serve jot functions locally behind the AWS Lambda API.
///
/// Reads descriptors with a local_image on stdin (from jot-build) and serves Lambda's
/// Invoke, ListFunctions, GetFunction, versions and aliases, so an AWS SDK or CLI with
/// its endpoint set to the printed URL runs the Julia code in the local Docker engine.
/// GET /_jot/status reports instances, queues and latencies. Webhook: with
/// JOT_WEBHOOK_SECRET set, POST /_jot/hooks/NAME signed with X-Hub-Signature-256 rebuilds NAME.
#[derive(Parser, Debug)]
#[command(name = "jot-serve", version, after_help = cli::after_help("jot-build f.jl | jot-serve --port 9001 --watch &\n  aws lambda invoke --endpoint-url http://127.0.0.1:9001 --function-name f --payload '[1]' out.json", &[0, 1, 2, 5, 6, 130, 143]))]
struct Args {
    /// Address to listen on; anything but loopback exposes your functions [default: jot.toml's [serve], else 127.0.0.1]
    #[arg(long, value_name = "ADDR", env = jot_config::env::SERVE_BIND)]
    bind: Option<String>,
    /// Port to listen on, 0 picks a free one [default: jot.toml's [serve], else 9001]
    #[arg(long, value_name = "PORT", env = jot_config::env::SERVE_PORT)]
    port: Option<u16>,
    /// Reserved concurrency: invocations of a function running at once; beyond it, 429 [default: jot.toml's [serve], else 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    max_concurrency: Option<u16>,
    /// Requests beyond --max-concurrency that wait for a slot instead of a 429
    #[arg(long, value_name = "N", default_value_t = 0)]
    queue: usize,
    /// Provisioned concurrency: sandboxes initialised before the first request
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1000))]
    min_instances: u16,
    /// Seconds an idle sandbox (beyond --min-instances) is kept warm
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    idle_timeout: u64,
    /// Seconds an invocation may run [default: the descriptor's, jot.toml's [serve], else 30]
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u32>,
    /// Memory of each sandbox in MB [default: the descriptor's, jot.toml's [serve], else 1024]
    #[arg(long, value_name = "MB")]
    memory: Option<u32>,
    /// CPUs of each sandbox [default: the descriptor's, jot.toml's [serve], else memory / 1769 MB, as Lambda; 0: no limit]
    #[arg(long, value_name = "N")]
    cpus: Option<f64>,
    /// Most processes a sandbox may run [default: the descriptor's, jot.toml's [serve], else the engine's]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(1..))]
    pids_limit: Option<i64>,
    /// Event invocations that may wait per function; beyond it, 429
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100000))]
    event_queue: u32,
    /// File receiving one NDJSON record per Event invocation that failed all 3 attempts
    #[arg(long, value_name = "FILE")]
    dead_letter: Option<PathBuf>,
    /// Milliseconds before the first Event retry (the second waits twice as long)
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    event_retry_delay: u64,
    /// Rebuild a function when its responder source changes and roll out the new version
    #[arg(long)]
    watch: bool,
    /// Where to write the control plane's credentials (an AWS credentials file, profile
    /// jot-serve, mode 0600, removed at exit) [default: $XDG_STATE_HOME/jot/serve/PORT.credentials]
    #[arg(long, value_name = "FILE")]
    credentials_file: Option<PathBuf>,
    /// HTTP status of a function error: 200 with X-Amz-Function-Error as Lambda
    /// answers, or e.g. 500 for proxies that look only at the status (MiniStack)
    /// [default: jot.toml's [serve], else 200]
    #[arg(long, value_name = "CODE", env = jot_config::env::SERVE_FUNCTION_ERROR_STATUS, value_parser = clap::value_parser!(u16).range(200..=599))]
    function_error_status: Option<u16>,
    /// Environment variable for the functions (NAME=VALUE, repeatable; over the descriptor's and jot.toml's)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    #[command(flatten)]
    config: jot_config::ConfigFileArgs,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

/// `JOT_WEBHOOK_SECRET`: at least 16 bytes (a short one can be guessed from
/// the signatures of a few deliveries), or refused at start.
fn webhook_secret() -> Result<Option<jot_core::image_ref::Secret>> {
    match std::env::var("JOT_WEBHOOK_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(secret) if secret.len() < jot_run::hooks::MIN_SECRET_BYTES => {
            Err(jot_core::Error::Usage(format!(
                "JOT_WEBHOOK_SECRET has {} bytes; use at least {} (e.g. openssl rand -hex 32)",
                secret.len(),
                jot_run::hooks::MIN_SECRET_BYTES
            )))
        }
        secret => Ok(secret.map(jot_core::image_ref::Secret::new)),
    }
}

fn main() -> ExitCode {
    cli::run_multi_thread(serve)
}

async fn serve(args: Args) -> Result<()> {
    let environment = limits::parse_environment(&args.environment)?;
    let settings = Settings {
        memory_mb: jot_core::limits::DEFAULT_MEMORY_MB,
        timeout: Duration::from_secs(settings::DEFAULT_TIMEOUT.into()),
        environment: Vec::new(),
        max_concurrency: settings::DEFAULT_MAX_CONCURRENCY.into(),
        queue: args.queue,
        min_instances: args.min_instances.into(),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        cpus: None,
        pids_limit: None,
        event_queue: args.event_queue as usize,
        labels: Vec::new(),
        sandbox_environment: Vec::new(),
    };
    let descriptors = descriptor::read_piped("jot-serve", "jot-build f.jl | jot-serve")?;
    let mut served = Served::from_descriptors(&descriptors, &settings)?;
    let flags = settings::Flags {
        memory: args.memory,
        timeout: args.timeout,
        cpus: args.cpus,
        pids_limit: args.pids_limit,
        max_concurrency: args.max_concurrency,
        environment: &environment,
        config: &args.config,
    };
    let server = settings::ServerFlags {
        bind: args.bind.clone(),
        port: args.port,
        function_error_status: args.function_error_status,
    };
    let server = settings::apply(&mut served, &flags, server)?;
    let options = Options {
        account_id: std::env::var("JOT_LOCAL_ACCOUNT_ID").unwrap_or_else(|_| "000000000000".into()),
        region: jot_emulator::InstanceConfig::new("", "").region,
        function_error_status: jot_run::router::status_code(server.function_error_status)?,
        dead_letter: args.dead_letter,
        event_retry_delay: Duration::from_millis(args.event_retry_delay),
        webhook_secret: webhook_secret()?,
        watch: args.watch,
        keys: jot_run::auth::Keys::generate(),
    };
    jot_serve::run(
        &server.bind,
        server.port,
        served,
        options,
        args.credentials_file,
    )
    .await
}
