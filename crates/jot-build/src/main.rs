//! jot-build: turns Julia scripts or packages into Lambda container images and
//! prints one `local_image` descriptor per PATH on stdout.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::limits::Architecture;
use jot_core::{Error, Result, check, descriptor, names, output};
use jot_image::{BuildRequest, InitOptions, Responder, choose_base_image};

/// Build Julia responders into AWS Lambda container images.
///
/// Each PATH is a Julia script (.jl) or a package directory (with Project.toml).
/// Prints one local_image descriptor (JSON) per PATH on stdout, for jot-invoke,
/// jot-push and the other jot tools. The first build on a base image makes the shared
/// runtime stage (about 2 minutes on 2 cores, once); later builds of a script take about 0.1 s.
#[derive(Parser, Debug)]
#[command(name = "jot-build", version, after_help = cli::after_help("jot-build increment_vector.jl --arg-type 'Vector{Int}' --test-payload '[1,2]' --expect '[2,3]' | jot-invoke --local --payload '[1,2,3]'", &[0, 1, 2, 3, 4, 5, 6, 7, 130, 143]))]
struct Args {
    /// Julia scripts (.jl) or package directories
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Function to call [default: the script's stem or the package's name]
    #[arg(long, value_name = "NAME")]
    function: Option<String>,
    /// Julia type the event is converted to, e.g. 'Vector{Int}' [default: Any]
    #[arg(long, value_name = "TYPE")]
    arg_type: Option<String>,
    /// Image repository and Lambda function name [default: from the function]
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Image tag [default: a hash of the responder, runtime and base image]
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Base image with Julia [default: $JOT_BASE_IMAGE, else julia:<julia-version>]
    #[arg(long, value_name = "IMAGE")]
    base_image: Option<String>,
    /// Julia release of the official base image
    #[arg(long, value_name = "VERSION", default_value = jot_image::DEFAULT_JULIA_VERSION)]
    julia_version: String,
    /// Pull the base image (needed when the engine does not have it; refreshes it otherwise)
    #[arg(long)]
    pull: bool,
    /// Run the built image once with this event (JSON) and fail the build on an error
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    test_payload: Option<String>,
    /// The response --test-payload must give (JSON)
    #[arg(
        long,
        value_name = "JSON",
        requires = "test_payload",
        allow_hyphen_values = true
    )]
    expect: Option<String>,
    /// Event (JSON) the runtime sends through the function in init, answer discarded, so the
    /// first request finds it compiled; in inits off the request path (provisioned
    /// concurrency, SnapStart) unless --warmup-always. A failing warm-up is an init error
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    warmup_payload: Option<String>,
    /// Warm up in every init, on-demand cold starts included
    #[arg(long)]
    warmup_always: bool,
    /// Lambda architecture the caches are compiled for (Julia's release CPU targets)
    #[arg(long, value_enum, default_value = "x86_64")]
    architecture: Architecture,
    /// Seconds the test invocation may take, init included
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    test_timeout: u64,
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
    if args.paths.len() > 1 && (args.name.is_some() || args.tag.is_some()) {
        return Err(Error::Usage(
            "--name and --tag name one image; build one PATH at a time to use them".into(),
        ));
    }
    let test_payload = args
        .test_payload
        .as_deref()
        .map(|p| check::parse_json_flag("--test-payload", p))
        .transpose()?;
    let expect = args
        .expect
        .as_deref()
        .map(|e| check::parse_json_flag("--expect", e))
        .transpose()?;
    let warmup_payload = args
        .warmup_payload
        .as_deref()
        .map(|p| check::parse_json_flag("--warmup-payload", p).map(|v| v.to_string()))
        .transpose()?;
    if let Some(function) = &args.function {
        names::validate_julia_identifier("--function", function)?;
    }
    // Read and check every responder before building anything.
    let base_image = choose_base_image(args.base_image.as_deref(), Some(&args.julia_version));
    let mut requests = Vec::new();
    for path in &args.paths {
        let responder = Responder::load(path, args.function.as_deref(), args.arg_type.as_deref())?;
        let (name, note) = names::resolve_jot_name(args.name.as_deref(), &responder.info.function)?;
        note.into_iter().for_each(output::note);
        if let Some(tag) = &args.tag {
            names::validate_tag(tag)?;
        }
        requests.push(BuildRequest {
            responder,
            name,
            tag: args.tag.clone(),
            base_image: base_image.clone(),
            pull: args.pull,
            force: args.force,
            architecture: args.architecture,
            init: InitOptions {
                warmup_payload: warmup_payload.clone(),
                warmup_always: args.warmup_always,
            },
        });
    }
    let docker = jot_docker::connect().await?;
    let mut stdout = std::io::stdout();
    for request in &requests {
        let built = jot_image::build(&docker, request).await?;
        if let Some(payload) = &test_payload {
            let timeout = Duration::from_secs(args.test_timeout);
            jot_build::test_run(&docker, &built, payload, expect.as_ref(), timeout).await?;
        }
        descriptor::write_line(&mut stdout, &built)?;
    }
    Ok(())
}
