//! jot-deploy's settings: its flags (and their `JOT_*` variables) over the
//! `jot.toml` beside the responders, checked once by jot-aws's
//! `Settings::check`, each file value first by the flag's own check so that a
//! bad one names its file, line and key.

use jot_aws::deploy::{DeployOptions, Settings};
use jot_config::{Config, ConfigArgs, env, pick};
use jot_core::limits::{self, Architecture};
use jot_core::{Error, Result};
use serde_json::{Value, json};

/// jot-deploy's flags that `jot.toml` can also set.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DeployFlags {
    /// Execution role [default: jot-lambda-basic-execution, created once with only AWSLambdaBasicExecutionRole]
    #[arg(long, value_name = "ARN", env = env::ROLE)]
    pub role: Option<String>,
    /// Memory in MB (128 to 10240)
    #[arg(long, value_name = "MB", env = env::MEMORY)]
    pub memory: Option<u32>,
    /// Timeout in seconds (1 to 900)
    #[arg(long, value_name = "SECONDS", env = env::TIMEOUT)]
    pub timeout: Option<u32>,
    /// Environment variable (NAME=VALUE, repeatable); given ones replace all the function's variables
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub environment: Vec<String>,
    /// Instruction set of the function; must be the image's [default: the image's]
    #[arg(long, value_enum, value_name = "ARCH", env = env::ARCHITECTURE)]
    pub architecture: Option<Architecture>,
    /// Size of /tmp in MB (512 to 10240)
    #[arg(long, value_name = "MB", env = env::EPHEMERAL_STORAGE)]
    pub ephemeral_storage: Option<u32>,
    /// Description of the function (up to 256 characters)
    #[arg(long, value_name = "TEXT", env = env::DESCRIPTION)]
    pub description: Option<String>,
    /// Create this alias, or move it, to the published version
    #[arg(long, value_name = "NAME", env = env::ALIAS)]
    pub alias: Option<String>,
    /// Turn on SnapStart: each published version is initialised (with its warm-up) and
    /// snapshotted at publish, and cold starts restore the snapshot. $LATEST is never snap-started
    #[arg(long)]
    pub snapstart: bool,
    /// Change a function (or use a role) that jot did not create
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl DeployFlags {
    /// The flags alone, checked before stdin is read or AWS is called.
    pub fn options(&self) -> DeployOptions {
        DeployOptions {
            role: self.role.clone(),
            memory: self.memory,
            timeout: self.timeout,
            environment: self.environment.clone(),
            architecture: self.architecture,
            ephemeral_storage: self.ephemeral_storage,
            description: self.description.clone(),
            alias: self.alias.clone(),
            force: self.force,
            snap_start: self.snapstart,
        }
    }
}

/// The run's checked settings: each flag, else the file's value.
pub fn settings(flags: &DeployFlags, config: Option<&Config>) -> Result<Settings> {
    let one = |options: DeployOptions| Settings::check(&options).map_err(Error::from);
    let role = pick(
        flags.role.clone(),
        config,
        "role",
        |s| &s.role,
        |r| {
            one(DeployOptions {
                role: Some(r.clone()),
                ..Default::default()
            })
            .map(|_| r.clone())
        },
    )?;
    let memory = pick(
        flags.memory,
        config,
        "memory",
        |s| &s.memory,
        |m| limits::check_memory(*m),
    )?;
    let timeout = pick(
        flags.timeout,
        config,
        "timeout",
        |s| &s.timeout,
        |t| limits::check_timeout(*t),
    )?;
    let ephemeral_storage = pick(
        flags.ephemeral_storage,
        config,
        "ephemeral_storage",
        |s| &s.ephemeral_storage,
        |m| limits::check_ephemeral_storage(*m),
    )?;
    let architecture = match flags.architecture {
        Some(a) => Some(a),
        None => config
            .and_then(|c| c.get("architecture", |s| &s.architecture))
            .map(|l| l.check(|a| Architecture::parse(a)))
            .transpose()?,
    };
    let environment = match (flags.environment.is_empty(), config) {
        (false, _) | (true, None) => flags.environment.clone(),
        (true, Some(c)) => match c.get("environment", |s| &s.environment) {
            Some(l) => l.check(|map| {
                let pairs = jot_config::pairs(map);
                limits::parse_environment(&pairs).map(|_| pairs)
            })?,
            None => Vec::new(),
        },
    };
    let description = pick(
        flags.description.clone(),
        config,
        "description",
        |s| &s.description,
        |d| {
            one(DeployOptions {
                description: Some(d.clone()),
                ..Default::default()
            })
            .map(|_| d.clone())
        },
    )?;
    let alias = pick(
        flags.alias.clone(),
        config,
        "alias",
        |s| &s.alias,
        |a| {
            one(DeployOptions {
                alias: Some(a.clone()),
                ..Default::default()
            })
            .map(|_| a.clone())
        },
    )?;
    one(DeployOptions {
        role,
        memory,
        timeout,
        environment,
        architecture,
        ephemeral_storage,
        description,
        alias,
        force: flags.force,
        snap_start: flags.snapstart,
    })
}

/// The settings in effect, for `--show-config` (no values of variables: they may be secret).
pub fn show(settings: &Settings, config: Option<&Config>) -> Value {
    json!({
        "config": config.map(|c| c.path().display().to_string()),
        "role": settings.role,
        "memory": settings.memory,
        "timeout": settings.timeout,
        "environment": settings.environment.as_ref().map(|e| {
            let mut names: Vec<&String> = e.keys().collect();
            names.sort();
            names
        }),
        "architecture": settings.architecture.as_ref().map(|a| a.as_str()),
        "ephemeral_storage": settings.ephemeral_storage,
        "description": settings.description,
        "alias": settings.alias,
    })
}
