//! jot-rm: removes jots, or parts of them, in the order of a plan that never
//! deletes what a remaining version or alias still runs.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use jot_core::cli::{self, OutputArgs};
use jot_core::error::exit;
use jot_core::{Error, Result, descriptor, output};
use jot_inventory::{NameFilter, Part, RemoveOptions};

/// Remove jots: their aliases, versions, functions, ECR images, repositories and local images.
///
/// Names (or globs) on the command line, or descriptors on stdin (`jot-ls --remote --json |
/// jot-rm`). The whole jot goes unless --only or --keep say otherwise; an ECR image that a
/// remaining version or alias runs, and a version an alias points at, are kept and listed
/// with the reason. Nothing without jot's labels or tags is removed unless --force. jot's
/// IAM role goes with the last function that uses it.
#[derive(Parser, Debug)]
#[command(name = "jot-rm", version, after_help = after_help())]
struct Args {
    /// Names or glob patterns; none reads descriptors on stdin
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Remove only this part of each jot
    #[arg(long, value_enum, value_name = "PART")]
    only: Option<OnlyPart>,
    /// Keep the N newest versions, ECR images and local images (and what they pin)
    #[arg(long, value_name = "N")]
    keep: Option<usize>,
    /// Print the plan, in order, and change nothing
    #[arg(long)]
    dry_run: bool,
    /// Do not ask before deleting (required without a terminal)
    #[arg(short, long)]
    yes: bool,
    /// Also remove resources that jot did not make
    #[arg(long)]
    force: bool,
    /// Print the settings in effect (JSON, after flags and environment) and exit
    #[arg(long)]
    show_config: bool,
    #[command(flatten)]
    aws: cli::AwsArgs,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OnlyPart {
    Local,
    Ecr,
    Function,
    Versions,
}

impl cli::Command for Args {
    fn output(&self) -> &OutputArgs {
        &self.output
    }
}

fn after_help() -> String {
    format!(
        "Example:\n  jot-rm increment-vector --keep 1 --dry-run\n  jot-ls --remote --json 'old-*' | jot-rm --yes\n\n{}",
        exit::help(&[0, 1, 2, 5, 6, 8, 9, 130, 143])
    )
}

fn main() -> ExitCode {
    cli::run(run)
}

async fn run(args: Args) -> Result<()> {
    let selection = args.aws.select(None, None)?;
    if args.show_config {
        let shown = serde_json::json!({
            "aws": selection.show(),
            "only": args.only.map(|p| format!("{p:?}").to_lowercase()),
            "keep": args.keep,
            "force": args.force,
            "dry_run": args.dry_run,
        });
        return cli::print_line(&shown.to_string());
    }
    let names = if args.names.is_empty() {
        let piped =
            descriptor::read_piped("jot-rm", "jot-ls --remote --json | jot-rm, or name jots")?;
        // A jot of another account or region is refused before anything is listed.
        if piped.iter().any(|d| d.aws.is_some()) {
            jot_aws::Aws::load(&selection)
                .await?
                .check_origin(&piped)
                .await?;
        }
        piped.into_iter().map(|d| d.name).collect()
    } else {
        args.names.clone()
    };
    let filter = NameFilter::new(&names)?;
    let only = args.only.map(|p| match p {
        OnlyPart::Local => Part::Local,
        OnlyPart::Ecr => Part::Ecr,
        OnlyPart::Function => Part::Function,
        OnlyPart::Versions => Part::Versions,
    });
    let options = RemoveOptions {
        only,
        keep: args.keep,
        force: args.force,
    };
    let plan = jot_inventory::prepare(&filter, &options, &selection).await?;
    cli::print_line(jot_inventory::render_plan(&plan).trim_end())?;
    let partial = |what: String| Err(Error::Partial(what));
    if args.dry_run || plan.steps.is_empty() {
        return match plan.unknown.is_empty() {
            true => Ok(()),
            false => partial("parts could not be checked (listed above as left)".into()),
        };
    }
    if !args.yes {
        confirm(plan.steps.len())?;
    }
    let report = |step: &jot_inventory::Action, found: bool| {
        let verb = if found { "deleted" } else { "already gone:" };
        let _ = cli::print_line(&format!("{verb} {step}"));
    };
    let outcome =
        jot_inventory::carry_out(&plan, &selection, cli::stop_requested(), report).await?;
    for step in &outcome.remaining {
        cli::print_line(&format!("remains: {step}"))?;
    }
    outcome.finish(&plan)
}

/// Asks on the terminal; without one, refuses (a script must say `--yes`).
fn confirm(steps: usize) -> Result<()> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    let (Ok(mut tty), true) = (tty, std::io::stderr().is_terminal()) else {
        return Err(Error::Usage(
            "no terminal to confirm on: pass --yes to delete, or --dry-run to see the plan".into(),
        ));
    };
    write!(tty, "delete these {steps}? [y/N] ")
        .map_err(|e| Error::io("asking on the terminal", e))?;
    let mut answer = String::new();
    std::io::BufReader::new(&tty)
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer", e))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        output::note("nothing deleted");
        Err(Error::Usage("not confirmed; nothing was deleted".into()))
    }
}
