//! jot-invoke: invokes functions described on stdin (or named by `--image` /
//! `--function-name`) and prints each response on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use jot_core::check;
use jot_core::cli::{self, OutputArgs};
use jot_core::descriptor::{self, Descriptor, Kind};
use jot_core::error::exit;
use jot_core::image_ref::ImageRef;
use jot_core::session::{self, InvokePlan};
use jot_core::{Error, Result, limits, output};
use jot_emulator::{InstanceConfig, LocalFunction};

/// Invoke jot functions, locally (exactly as Lambda runs them) or on AWS Lambda.
///
/// Reads descriptors from stdin (from jot-build, jot-push or jot-deploy)
/// unless --image or --function-name is given. A local_image descriptor or --image
/// runs locally; a function descriptor or --function-name runs on AWS Lambda unless --local.
#[derive(Parser, Debug)]
#[command(name = "jot-invoke", version, after_help = after_help())]
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
    /// Print timings (init, first response, warm p50/p99) as JSON on stderr
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
    /// Environment variable for the local sandbox (NAME=VALUE, repeatable)
    #[arg(long = "env", value_name = "NAME=VALUE")]
    environment: Vec<String>,
    #[command(flatten)]
    output: OutputArgs,
}

impl cli::Command for Args {
    fn output(&self) -> &OutputArgs {
        &self.output
    }
}

fn after_help() -> String {
    format!(
        "Example:\n  jot-build f.jl | jot-invoke --local --payload '[1,2,3]' --expect '[2,3,4]'\n\n{}",
        exit::help(&[
            exit::OK,
            exit::INTERNAL,
            exit::USAGE,
            exit::FUNCTION_ERROR,
            exit::EXPECT_MISMATCH,
            exit::BAD_INPUT,
            exit::DOCKER,
            exit::AWS,
            exit::INTERRUPTED,
            exit::TERMINATED,
        ])
    )
}

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
                invoke_local(config, &plan, &args).await
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

enum Target {
    Local {
        name: String,
        image: String,
    },
    /// A Lambda function, at the alias or version its descriptor names.
    Remote {
        name: String,
        qualifier: Option<String>,
    },
}

/// The functions to invoke, from flags or descriptors on stdin.
fn targets(args: &Args) -> Result<Vec<Target>> {
    if let Some(image) = &args.image {
        let name = ImageRef::parse(image)?.short_name().to_string();
        return Ok(vec![Target::Local {
            name,
            image: image.clone(),
        }]);
    }
    if let Some(name) = &args.function_name {
        return Ok(vec![Target::Remote {
            name: name.clone(),
            qualifier: None,
        }]);
    }
    let descriptors = descriptor::read_piped(
        "jot-invoke",
        "jot-build f.jl | jot-invoke --local (or pass --image or --function-name)",
    )?;
    descriptors
        .iter()
        .map(|d| target_of(d, args.local))
        .collect()
}

fn target_of(descriptor: &Descriptor, local: bool) -> Result<Target> {
    if local || descriptor.kind == Kind::LocalImage {
        let image = descriptor.require_local_image()?.image.clone();
        Ok(Target::Local {
            name: descriptor.name.clone(),
            image,
        })
    } else {
        let function = descriptor.function.as_ref();
        Ok(Target::Remote {
            name: function.map_or_else(|| descriptor.name.clone(), |f| f.name.clone()),
            qualifier: function.and_then(|f| f.alias.clone().or_else(|| f.version.clone())),
        })
    }
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
    let mut payloads = Vec::new();
    for text in texts {
        if text.len() > jot_emulator::MAX_PAYLOAD_BYTES {
            return Err(Error::InvalidInput(format!(
                "the payload is {} bytes; Lambda accepts at most {} bytes for a synchronous invocation",
                text.len(),
                jot_emulator::MAX_PAYLOAD_BYTES
            )));
        }
        check::parse_json_flag("--payload", &text)?;
        payloads.push(Bytes::from(text));
    }
    let expect = args
        .expect
        .as_deref()
        .map(|e| check::parse_json_flag("--expect", e))
        .transpose()?;
    Ok(InvokePlan {
        payloads,
        repeat: args.repeat,
        expect,
    })
}

async fn invoke_local(config: InstanceConfig, plan: &InvokePlan, args: &Args) -> Result<()> {
    let docker = jot_docker::connect().await?;
    let target = config.image.clone();
    let mut function = LocalFunction::new(&docker, config);
    let started = Instant::now();
    let mut stdout = std::io::stdout();
    let ran = tokio::select! {
        ran = session::run(&target, plan, started, &mut function, &mut stdout) => Ok(ran),
        signal = cli::stop_requested() => Err(signal),
    };
    if args.logs {
        eprint!("{}", function.logs().await);
    }
    let init = function.first_init();
    function.shutdown().await;
    let (mut report, verdict) = match ran {
        Ok(ran) => ran,
        Err(signal) => {
            return Err(cli::interrupted(
                signal,
                "interrupted; the sandbox was removed",
            ));
        }
    };
    report.init = init;
    if args.json {
        output::note(report.to_json().to_string());
    }
    verdict
}
