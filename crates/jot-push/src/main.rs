//! jot-push: pushes the local images described on stdin to Amazon ECR and
//! prints one `remote_image` descriptor per image on stdout.

use std::process::ExitCode;

use clap::Parser;
use jot_aws::ecr::RepositorySettings;
use jot_config::pick_plain;
use jot_core::cli::{self, OutputArgs};
use jot_core::{Result, descriptor};
use jot_push::{PushOptions, Pusher};

/// Push jot images to Amazon ECR.
///
/// Reads local_image descriptors (from jot-build) on stdin, creates the ECR repository
/// when missing (tagged as jot's), pushes the image unless the repository already holds
/// it, and prints a remote_image descriptor with the image digest for jot-deploy.
/// AWS settings come from the standard chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL…).
#[derive(Parser, Debug)]
#[command(name = "jot-push", version, after_help = cli::after_help("jot-build f.jl | jot-push --registry 127.0.0.1:4566 | jot-deploy", &[0, 1, 2, 5, 6, 8]))]
struct Args {
    /// Push to this registry host instead of the one ECR reports (emulators, proxies)
    #[arg(long, value_name = "HOST", env = jot_config::env::REGISTRY)]
    registry: Option<String>,
    /// Scan images for vulnerabilities on push (sets the repository's scan-on-push)
    #[arg(long)]
    scan_on_push: bool,
    /// Make the repository's tags immutable (a tag can never point at another image)
    #[arg(long)]
    immutable_tags: bool,
    /// Push into an existing repository that jot did not create
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    aws: cli::AwsArgs,
    #[command(flatten)]
    config: jot_config::ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    let descriptors = descriptor::read_piped("jot-push", "jot-build f.jl | jot-push")?;
    let config = jot_config::for_descriptors(&descriptors, &args.config)?;
    let cfg = config.as_ref();
    let flag = |on: bool| on.then_some(true);
    let options = PushOptions {
        registry: pick_plain(args.registry, cfg, "registry", |s| &s.registry)
            .filter(|r| !r.is_empty()),
        repository: RepositorySettings {
            scan_on_push: pick_plain(flag(args.scan_on_push), cfg, "scan_on_push", |s| {
                &s.scan_on_push
            })
            .unwrap_or(false),
            immutable_tags: pick_plain(flag(args.immutable_tags), cfg, "immutable_tags", |s| {
                &s.immutable_tags
            })
            .unwrap_or(false),
            force: args.force,
        },
    };
    let selection = jot_config::aws_selection(&args.aws, cfg)?;
    if args.config.show_config {
        return cli::print_line(&jot_push::show(&options, cfg, &selection).to_string());
    }
    let planned = jot_push::plan(descriptors, &options)?;
    let pusher = Pusher::connect(options, &selection, &planned).await?;
    // Every image is checked against its descriptor before any is pushed.
    for item in &planned {
        pusher.check(item).await?;
    }
    for item in planned {
        let pushed = pusher.push(item).await?;
        descriptor::write_line(&mut std::io::stdout(), &pushed)?;
    }
    Ok(())
}
