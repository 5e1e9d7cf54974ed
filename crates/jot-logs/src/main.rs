//! jot-logs: a function's CloudWatch Logs (`/aws/lambda/NAME`), once or
//! followed, with each REPORT line summarised and cold starts marked.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Parser;
use jot_aws::Aws;
use jot_aws::logs::{self, Follow, LogEvent, Query, Versions};
use jot_core::cli::{self, OutputArgs};
use jot_core::descriptor::{self, Descriptor};
use jot_core::{Error, Result, output};
use jot_logs::{functions_of, json_record, parse_since, text_line};

/// How often `--follow` asks CloudWatch Logs for new events.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Show what jot functions printed: their CloudWatch Logs (/aws/lambda/NAME).
///
/// Names the functions, or reads descriptors on stdin (from jot-deploy or
/// `jot-ls --remote --json`). Each REPORT line is summarised (duration, billed,
/// memory) and a cold start is marked with its init time.
#[derive(Parser, Debug)]
#[command(name = "jot-logs", version, disable_version_flag = true, after_help = cli::after_help("jot-logs increment-vector --since 1h --follow\n  jot-ls --remote --json | jot-logs --cold-starts", &[0, 1, 2, 5, 8, 130, 143]))]
struct Args {
    /// Functions (names or ARNs); none reads descriptors on stdin
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// From when: a span back from now (30s, 10m, 1h, 2d) or a time (2026-12-06T09:00:00Z)
    #[arg(long, value_name = "SPAN|TIME", default_value = "10m")]
    since: String,
    /// Keep printing new events as they come, until Ctrl-C (exit 130)
    #[arg(short, long)]
    follow: bool,
    /// CloudWatch Logs filter pattern [e.g. --filter ERROR, --filter '"cold path"']
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    filter: Option<String>,
    /// Only events of this version ($LATEST or a number); -V prints jot-logs's own version
    #[arg(long = "version", value_name = "N", conflicts_with = "alias")]
    function_version: Option<String>,
    /// Print version
    #[arg(short = 'V', action = clap::ArgAction::Version)]
    print_version: (),
    /// Only events of the version(s) this alias points at
    #[arg(long, value_name = "ALIAS")]
    alias: Option<String>,
    /// Print one JSON record per event (NDJSON), REPORT figures parsed
    #[arg(long)]
    json: bool,
    /// Print only the REPORT lines of cold starts, with their init times
    #[arg(long)]
    cold_starts: bool,
    #[command(flatten)]
    aws: cli::AwsArgs,
    #[command(flatten)]
    config: jot_config::ConfigArgs,
    #[command(flatten)]
    output: OutputArgs,
}

jot_core::output_args!(Args);

fn main() -> ExitCode {
    cli::run(show_logs)
}

async fn show_logs(args: Args) -> Result<()> {
    let since_ms = parse_since(&args.since, SystemTime::now())?;
    check_flags(&args)?;
    let (functions, descriptors) = functions(&args)?;
    let config = match descriptors.is_empty() {
        true => config_for_names(&args.config.file)?,
        false => jot_config::for_descriptors(&descriptors, &args.config)?,
    };
    let selection = jot_config::aws_selection(&args.aws, config.as_ref())?;
    if args.config.show_config {
        let shown = serde_json::json!({
            "config": config.as_ref().map(|c| c.path().display().to_string()),
            "functions": functions,
            "since_ms": since_ms,
            "aws": selection.show(),
        });
        return cli::print_line(&shown.to_string());
    }
    let aws = Aws::load(&selection).await?;
    aws.check_origin(&descriptors).await?;
    let mut follows = Vec::new();
    for function in functions {
        let versions = match (&args.function_version, &args.alias) {
            (Some(v), _) => Versions::Only([v.clone()].into()),
            (None, Some(alias)) => {
                Versions::Only(logs::alias_versions(&aws, &function, alias).await?)
            }
            (None, None) => Versions::All,
        };
        let query = Query {
            function,
            filter: args.filter.clone(),
            versions,
        };
        follows.push(Follow::new(query, since_ms));
    }
    if !args.follow {
        return once(&aws, &mut follows, &args).await;
    }
    tokio::select! {
        followed = follow(&aws, &mut follows, &args) => followed,
        signal = cli::stop_requested() => Err(cli::interrupted(signal, "stopped following the logs")),
    }
}

/// One read of every function's log; a function that never ran is named
/// after the others' events are printed.
async fn once(aws: &Aws, follows: &mut [Follow], args: &Args) -> Result<()> {
    let mut events = Vec::new();
    let mut never_ran = Vec::new();
    for follow in follows.iter_mut() {
        match follow.poll(aws).await? {
            Some(found) => events.extend(found),
            None => never_ran.push(follow.query.function.clone()),
        }
    }
    events.sort_by_key(|e| e.timestamp_ms);
    print_events(&events, args)?;
    match never_ran.first() {
        None => Ok(()),
        Some(function) => Err(not_run(aws, function).await),
    }
}

/// Polls every function until stopped; one that has not run yet is waited for.
async fn follow(aws: &Aws, follows: &mut [Follow], args: &Args) -> Result<()> {
    let mut waiting_noted = std::collections::BTreeSet::new();
    loop {
        let mut events = Vec::new();
        for follow in follows.iter_mut() {
            match follow.poll(aws).await? {
                Some(found) => events.extend(found),
                None => {
                    let name = follow.query.function.clone();
                    if waiting_noted.insert(name.clone()) {
                        if !logs::function_exists(aws, &name).await? {
                            return Err(not_run(aws, &name).await);
                        }
                        output::note(format!(
                            "jot-logs: {name} has not run yet; waiting for its first invocation"
                        ));
                    }
                }
            }
        }
        events.sort_by_key(|e| e.timestamp_ms);
        print_events(&events, args)?;
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn print_events(events: &[LogEvent], args: &Args) -> Result<()> {
    for event in events {
        let cold = event.report.as_ref().is_some_and(|r| r.cold_start());
        if args.cold_starts && !cold {
            continue;
        }
        let line = match args.json {
            true => json_record(event).to_string(),
            false => text_line(event),
        };
        cli::print_line(&line)?;
    }
    Ok(())
}

/// The error for a function without a log group: it never ran, or it does not exist.
async fn not_run(aws: &Aws, function: &str) -> Error {
    let region = aws.region();
    match logs::function_exists(aws, function).await {
        Ok(true) => Error::InvalidInput(format!(
            "{function} has not run yet: there is no log group {} in {region} (Lambda makes it at the first invocation; try `jot-invoke --function-name {function}`)",
            logs::log_group(function)
        )),
        Ok(false) => Error::InvalidInput(format!(
            "there is no function {function} in {region} (jot-ls --remote lists them)"
        )),
        Err(e) => e.into(),
    }
}

/// The flags AWS would refuse, before any call.
fn check_flags(args: &Args) -> Result<()> {
    if let Some(version) = &args.function_version {
        let number = !version.is_empty() && version.chars().all(|c| c.is_ascii_digit());
        if !number && version != jot_core::names::LATEST {
            return Err(Error::InvalidInput(format!(
                "--version {version:?} is neither $LATEST nor a version number"
            )));
        }
    }
    if let Some(alias) = &args.alias {
        jot_aws::deploy::validate_alias(alias)?;
    }
    if let Some(filter) = &args.filter
        && filter.len() > logs::MAX_FILTER_PATTERN
    {
        return Err(Error::InvalidInput(format!(
            "--filter is {} characters; CloudWatch Logs accepts at most {}",
            filter.len(),
            logs::MAX_FILTER_PATTERN
        )));
    }
    for name in &args.names {
        jot_aws::invoke::validate_function_name(name)?;
    }
    Ok(())
}

/// The functions named, else those of the descriptors on stdin (and those descriptors).
fn functions(args: &Args) -> Result<(Vec<String>, Vec<Descriptor>)> {
    if !args.names.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for name in &args.names {
            let name = logs::function_name(name).to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        return Ok((names, Vec::new()));
    }
    let descriptors = descriptor::read_piped(
        "jot-logs",
        "jot-deploy | jot-logs, jot-ls --remote --json | jot-logs (or name the functions)",
    )?;
    Ok((functions_of(&descriptors), descriptors))
}

/// With functions named, `--config FILE` (with `--env-name`) supplies the
/// profile and region; there is no responder beside which to look.
fn config_for_names(args: &jot_config::ConfigFileArgs) -> Result<Option<jot_config::Config>> {
    match (&args.config, &args.env_name) {
        (Some(path), env_name) => jot_config::Config::load(path, env_name.as_deref()).map(Some),
        (None, Some(name)) => Err(Error::InvalidInput(format!(
            "--env-name {name}: with functions named, pass the settings file with --config FILE"
        ))),
        (None, None) => Ok(None),
    }
}
