//! jot-push: pushes the local images described on stdin to Amazon ECR and
//! prints one `remote_image` descriptor per image on stdout.

use std::process::ExitCode;

use clap::Parser;
use jot_aws::push::{self, PushOptions};
use jot_core::{Result, descriptor};

/// Push jot images to Amazon ECR.
///
/// Reads local_image descriptors (from jot-build) on stdin, creates the ECR repository
/// when missing (tagged as jot's), pushes the image unless the repository already holds
/// it, and prints a remote_image descriptor with the image digest for jot-deploy.
/// AWS settings come from the standard chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL…).
/// Exit status: 0 success, 5 bad input, 6 Docker failure, 8 AWS failure.
#[derive(Parser, Debug)]
#[command(name = "jot-push", version)]
struct Args {
    /// Push to this registry host instead of the one ECR reports (emulators, proxies)
    #[arg(long, value_name = "HOST", env = "JOT_REGISTRY")]
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
}

fn main() -> ExitCode {
    jot_core::cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    let descriptors = descriptor::read_piped("jot-push", "jot-build f.jl | jot-push")?;
    let options = PushOptions {
        registry: args.registry.filter(|r| !r.is_empty()),
        scan_on_push: args.scan_on_push,
        immutable_tags: args.immutable_tags,
        force: args.force,
    };
    push::push_all(descriptors, &options, &mut std::io::stdout())
        .await
        .map_err(Into::into)
}
