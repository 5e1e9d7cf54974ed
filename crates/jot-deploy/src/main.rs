//! jot-deploy: deploys the ECR images described on stdin as AWS Lambda
//! functions and prints one `function` descriptor per function on stdout.

use std::process::ExitCode;

use clap::Parser;
use jot_aws::deploy::{self, Deployer, Settings, architecture};
use jot_core::cli::{self, OutputArgs};
use jot_core::{Result, descriptor, output};
use jot_deploy::DeployFlags;

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
    #[command(flatten)]
    settings: DeployFlags,
    #[command(flatten)]
    aws: cli::AwsArgs,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    // Flags first: a bad value fails before stdin is read or AWS is called.
    let flags = &args.settings;
    Settings::check(&flags.options())?;
    let descriptors =
        descriptor::read_piped("jot-deploy", "jot-build f.jl | jot-push | jot-deploy")?;
    let config = jot_config::for_descriptors(&descriptors, &flags.config)?;
    let settings = jot_deploy::settings(flags, config.as_ref())?;
    let selection = jot_config::aws_selection(&args.aws, config.as_ref())?;
    if flags.config.show_config {
        let mut shown = jot_deploy::show(&settings, config.as_ref());
        shown["aws"] = selection.show();
        return cli::print_line(&shown.to_string());
    }
    for descriptor in &descriptors {
        architecture::check_wanted(&settings, descriptor)?;
    }
    if flags.snapstart {
        output::note(
            "note: SnapStart applies to published versions (invoke the version or an alias); $LATEST is not snap-started",
        );
    }
    let planned = deploy::plan(descriptors)?;
    let mut deployer = Deployer::connect(settings, &selection, &planned).await?;
    for item in planned {
        let deployed = deployer.deploy(item).await?;
        descriptor::write_line(&mut std::io::stdout(), &deployed)?;
    }
    Ok(())
}
