//! jot-ls: the table of jots — every local image, ECR image and Lambda
//! function, linked by digest and tree hash, with one status each.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::error::exit;
use jot_core::output::{self, ColorChoice};
use jot_core::{Error, Result, descriptor};
use jot_inventory::{NameFilter, Scope};

/// List jots: local images, and with --remote their ECR images and Lambda functions.
///
/// One row per jot, newest first, with the state of its source, its local image, its
/// ECR image, its function (with versions and aliases) and one status to act on. Copies
/// are linked by digest and tree hash, never by name alone; resources without jot's
/// labels or tags are shown only with --all, marked foreign.
#[derive(Parser, Debug)]
#[command(name = "jot-ls", version, after_help = after_help())]
struct Args {
    /// Names or glob patterns (`inc-*`); none lists every jot
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Also list ECR repositories and Lambda functions (AWS's standard settings)
    #[arg(long)]
    remote: bool,
    /// One line per local image, ECR image, published version and alias
    #[arg(long)]
    all_versions: bool,
    /// Also show resources jot did not make, marked foreign
    #[arg(long)]
    all: bool,
    /// Print one descriptor per jot (NDJSON) for jot-invoke, jot-deploy and jot-rm
    #[arg(long)]
    json: bool,
    /// AWS calls in flight at most
    #[arg(long, value_name = "N", default_value_t = jot_aws::listing::DEFAULT_CONCURRENCY as u16,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Print the settings in effect (JSON, after flags and environment) and exit
    #[arg(long)]
    show_config: bool,
    #[command(flatten)]
    aws: cli::AwsArgs,
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
        "Example:\n  jot-ls --remote 'inc-*'\n  jot-ls --remote --json | jot-rm --dry-run\n\n{}",
        exit::help(&[0, 1, 2, 6, 8, 9])
    )
}

fn main() -> ExitCode {
    cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    let filter = NameFilter::new(&args.names)?;
    let scope = Scope {
        local: true,
        remote: args.remote,
        foreign: args.all,
        every_function: false,
        concurrency: usize::from(args.concurrency),
        aws: args.aws.select(None, None)?,
    };
    if args.show_config {
        let shown = serde_json::json!({
            "aws": scope.aws.show(),
            "concurrency": scope.concurrency,
            "remote": scope.remote,
            "all": scope.foreign,
        });
        return cli::print_line(&shown.to_string());
    }
    let started = std::time::Instant::now();
    let mut collected = jot_inventory::collect(&scope, &filter).await;
    output::detail(format!(
        "listed {} in {} ms",
        if args.remote {
            "local images, ECR and Lambda"
        } else {
            "local images"
        },
        started.elapsed().as_millis()
    ));
    if !args.remote
        && let Some(Err(error)) = collected.local.take_if(|l| l.is_err())
    {
        // The only service asked failed: that is the error, not a partial table.
        return Err(error);
    }
    let failures = collected.failures();
    for failure in &failures {
        output::warn(format!("jot-ls: {failure}"));
    }
    let jots = jot_inventory::join(&collected, &filter, args.all);
    if args.json {
        let mut stdout = std::io::stdout();
        for jot in &jots {
            match jot_inventory::descriptor(jot) {
                Some(d) => descriptor::write_line(&mut stdout, &d)?,
                None => output::note(format!(
                    "{}: foreign, so it has no descriptor (jot-rm {} --force removes it)",
                    jot.name, jot.name
                )),
            }
        }
    } else if jots.is_empty() {
        output::note(if args.remote {
            "no jots found (jot-ls --all also shows resources jot did not make)"
        } else {
            "no local jots found (jot-ls --remote also lists ECR and Lambda)"
        });
    } else {
        let colour = match args.output.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => output::color_enabled() && std::io::stdout().is_terminal(),
        };
        let table = jot_inventory::render(&jots, args.all_versions, colour);
        cli::print_line(table.trim_end())?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Error::Partial(format!(
            "{} of the services could not be listed (above); the rest is shown",
            failures.len()
        )))
    }
}
