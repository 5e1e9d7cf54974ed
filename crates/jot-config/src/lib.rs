//! `jot.toml`: the settings of a responder, kept beside it (the script's
//! folder or the package directory), so that a team runs `jot-build f.jl |
//! jot-push | jot-deploy` with no flags. Precedence: flags > environment
//! (`JOT_*`, one variable per key, see [`env`]) > the file's `[env.NAME]`
//! section picked by `--env-name` > the top of the file > defaults. A value
//! from the file goes through the same checks as the flag, and a bad one is
//! one line naming the file, line and key (exit 5).

pub mod file;
pub mod import;

use std::fmt::Display;
use std::path::{Path, PathBuf};

use jot_core::cli::{AwsArgs, AwsSelection, Chosen};
use jot_core::descriptor::Descriptor;
use jot_core::{Error, Result};
use toml::Spanned;

pub use file::{Item, Section, Serve};

/// The file's name beside a responder.
pub const FILE_NAME: &str = "jot.toml";

/// The environment variable of each key (flags beat them; they beat the file).
pub mod env {
    pub const CONFIG: &str = "JOT_CONFIG";
    pub const ENV_NAME: &str = "JOT_ENV_NAME";
    pub const FUNCTION: &str = "JOT_BUILD_FUNCTION";
    pub const ARG_TYPE: &str = "JOT_BUILD_ARG_TYPE";
    pub const NAME: &str = "JOT_NAME";
    pub const TAG: &str = "JOT_TAG";
    pub const BASE_IMAGE: &str = "JOT_BASE_IMAGE";
    pub const JULIA_VERSION: &str = "JOT_JULIA_VERSION";
    pub const ARCHITECTURE: &str = "JOT_ARCHITECTURE";
    /// Comma-separated `Name[@version]` list.
    pub const DEPS: &str = "JOT_DEPS";
    /// Comma-separated list.
    pub const REGISTRY_URLS: &str = "JOT_REGISTRY_URLS";
    pub const TEST_PAYLOAD: &str = "JOT_TEST_PAYLOAD";
    pub const EXPECT: &str = "JOT_EXPECT";
    pub const REGISTRY: &str = "JOT_REGISTRY";
    /// Read by `--profile` and `--region` (jot-core's `AwsArgs`).
    pub const PROFILE: &str = "JOT_PROFILE";
    pub const REGION: &str = "JOT_REGION";
    pub const ROLE: &str = "JOT_ROLE";
    pub const MEMORY: &str = "JOT_MEMORY";
    pub const TIMEOUT: &str = "JOT_TIMEOUT";
    pub const EPHEMERAL_STORAGE: &str = "JOT_EPHEMERAL_STORAGE";
    pub const DESCRIPTION: &str = "JOT_DESCRIPTION";
    pub const ALIAS: &str = "JOT_ALIAS";
    pub const SERVE_BIND: &str = "JOT_SERVE_BIND";
    pub const SERVE_PORT: &str = "JOT_SERVE_PORT";
    pub const SERVE_FUNCTION_ERROR_STATUS: &str = "JOT_SERVE_FUNCTION_ERROR_STATUS";
}

/// The flags that choose the settings file, which every tool reading
/// `jot.toml` shares (jot-serve without `--show-config`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigFileArgs {
    /// Settings file [default: jot.toml beside the responder]
    #[arg(long, value_name = "FILE", env = env::CONFIG)]
    pub config: Option<PathBuf>,
    /// Use the file's section [env.NAME] over its top-level keys
    #[arg(long, value_name = "NAME", env = env::ENV_NAME)]
    pub env_name: Option<String>,
}

/// The flags every tool that reads `jot.toml` shares.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub file: ConfigFileArgs,
    /// Print the settings in effect (JSON, after flags, environment and file) and exit
    #[arg(long)]
    pub show_config: bool,
}

/// A `jot.toml` read and checked for unknown keys and types, with the
/// section `--env-name` picked.
#[derive(Debug)]
pub struct Config {
    path: PathBuf,
    text: String,
    top: Section,
    chosen: Option<Section>,
}

/// A value from the file with its key and line, to check and to blame.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a, T> {
    pub value: &'a T,
    pub key: &'static str,
    pub path: &'a Path,
    pub line: usize,
}

impl<T> Located<'_, T> {
    /// A one-line error about this value (exit 5).
    pub fn error(&self, message: impl Display) -> Error {
        Error::InvalidInput(format!(
            "{}:{}: {}: {message}",
            self.path.display(),
            self.line,
            self.key
        ))
    }

    /// Runs the flag's own check on the file's value, blaming the file on failure.
    pub fn check<R, E: Display>(&self, check: impl FnOnce(&T) -> Result<R, E>) -> Result<R> {
        check(self.value).map_err(|e| self.error(e))
    }
}

/// A settings file (`jot.toml`, a `config.json` to import), bounded: such a
/// file is a few lines, and a huge one is refused before it is read.
pub fn read_settings_file(path: &Path) -> Result<String> {
    jot_core::input::read_file_at_most(
        path,
        jot_core::input::MAX_SETTINGS_FILE_BYTES,
        &path.display().to_string(),
        "a settings file is a few lines",
    )
}

impl Config {
    /// Reads `path`; `env_name` picks a section `[env.NAME]`, which must exist.
    pub fn load(path: &Path, env_name: Option<&str>) -> Result<Config> {
        let text = read_settings_file(path)?;
        let mut top: Section = toml::from_str(&text).map_err(|e| {
            let start = e.span().map(|s| s.start).unwrap_or(0);
            let line = file::line_of(&text, start);
            let message = e.message().trim().replace('\n', " ");
            // serde names an unknown key itself; for a bad value, the key is
            // what the value's line assigns to.
            let key = file::key_at(&text, start)
                .filter(|k| !message.contains(&format!("`{k}`")))
                .map(|k| format!("{k}: "))
                .unwrap_or_default();
            Error::InvalidInput(format!("{}:{line}: {key}{message}", path.display()))
        })?;
        let mut sections = top.env.take().unwrap_or_default();
        for (name, section) in &sections {
            if section.get_ref().env.is_some() {
                let line = file::line_of(&text, section.span().start);
                return Err(Error::InvalidInput(format!(
                    "{}:{line}: env.{name}.env: named sections cannot hold named sections",
                    path.display()
                )));
            }
        }
        let chosen = match env_name {
            None => None,
            Some(name) => Some(sections.remove(name).map(Spanned::into_inner).ok_or_else(
                || {
                    let known: Vec<&str> = sections.keys().map(String::as_str).collect();
                    Error::InvalidInput(format!(
                        "{}: --env-name {name}: the file has no [env.{name}] section (it has: {})",
                        path.display(),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ))
                },
            )?),
        };
        Ok(Config {
            path: path.to_path_buf(),
            text,
            top,
            chosen,
        })
    }

    /// The config for a responder in `dir`: `--config FILE` if given, else
    /// `dir/jot.toml` when it exists. `--env-name` without a file is an error.
    pub fn for_responder(dir: &Path, args: &ConfigFileArgs) -> Result<Option<Config>> {
        let path = match &args.config {
            Some(path) => path.clone(),
            None => dir.join(FILE_NAME),
        };
        if args.config.is_none() && !path.is_file() {
            return match &args.env_name {
                Some(name) => Err(Error::InvalidInput(format!(
                    "--env-name {name}: there is no {} (pass --config FILE)",
                    path.display()
                ))),
                None => Ok(None),
            };
        }
        Config::load(&path, args.env_name.as_deref()).map(Some)
    }

    /// The file this config came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key`: the chosen section's, else the top's.
    pub fn get<T>(
        &self,
        key: &'static str,
        field: impl Fn(&Section) -> &Item<T>,
    ) -> Option<Located<'_, T>> {
        let spanned = self
            .chosen
            .as_ref()
            .and_then(|s| field(s).as_ref())
            .or_else(|| field(&self.top).as_ref())?;
        Some(self.locate(key, spanned))
    }

    /// The value of a `[serve]` key: the chosen section's, else the top's.
    pub fn serve<T>(
        &self,
        key: &'static str,
        field: impl Fn(&Serve) -> &Item<T>,
    ) -> Option<Located<'_, T>> {
        fn from<'s, T>(
            section: &'s Section,
            field: &impl Fn(&Serve) -> &Item<T>,
        ) -> Option<&'s Spanned<T>> {
            section
                .serve
                .as_ref()
                .and_then(|serve| field(serve).as_ref())
        }
        let spanned = match self.chosen.as_ref().and_then(|s| from(s, &field)) {
            Some(spanned) => spanned,
            None => from(&self.top, &field)?,
        };
        Some(self.locate(key, spanned))
    }

    fn locate<'a, T>(&'a self, key: &'static str, spanned: &'a Spanned<T>) -> Located<'a, T> {
        Located {
            value: spanned.get_ref(),
            key,
            path: &self.path,
            line: file::line_of(&self.text, spanned.span().start),
        }
    }
}

/// The directory a responder's `jot.toml` sits in: a script's folder, or
/// the package directory itself.
pub fn responder_dir(source: &Path) -> PathBuf {
    if source.is_dir() {
        source.to_path_buf()
    } else {
        source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }
}

/// The one `jot.toml` of a run of jot-push, jot-deploy or jot-invoke:
/// `--config`, else the one beside the descriptors' responders (all of
/// them must share it; none is fine).
pub fn for_descriptors(descriptors: &[Descriptor], args: &ConfigArgs) -> Result<Option<Config>> {
    let mut found: Option<Config> = None;
    for descriptor in descriptors {
        let dir = responder_dir(Path::new(&descriptor.responder.source));
        let config = Config::for_responder(&dir, &args.file)?;
        match (&found, config) {
            (Some(a), Some(b)) if a.path() != b.path() => {
                return Err(Error::Usage(format!(
                    "the descriptors' responders have different settings files ({} and {}); deploy them in separate runs or pass --config",
                    a.path().display(),
                    b.path().display()
                )));
            }
            (None, Some(b)) => found = Some(b),
            _ => {}
        }
        if args.file.config.is_some() {
            break;
        }
    }
    Ok(found)
}

/// `flag` (or its environment variable, which clap has already read) when
/// given, else the file's value; either goes through `check`, and a bad
/// file value names its file, line and key.
pub fn pick<T: Clone, R>(
    flag: Option<T>,
    config: Option<&Config>,
    key: &'static str,
    field: impl Fn(&Section) -> &Item<T>,
    check: impl Fn(&T) -> Result<R>,
) -> Result<Option<R>> {
    if let Some(value) = flag {
        return check(&value).map(Some);
    }
    match config.and_then(|c| c.get(key, field)) {
        Some(located) => located.check(check).map(Some),
        None => Ok(None),
    }
}

/// [`pick`] without a check.
pub fn pick_plain<T: Clone>(
    flag: Option<T>,
    config: Option<&Config>,
    key: &'static str,
    field: impl Fn(&Section) -> &Item<T>,
) -> Option<T> {
    flag.or_else(|| {
        config
            .and_then(|c| c.get(key, field))
            .map(|l| l.value.clone())
    })
}

/// A list flag: the flags (or environment) when any are given, else the file's list.
pub fn pick_list(
    flags: &[String],
    config: Option<&Config>,
    key: &'static str,
    field: impl Fn(&Section) -> &Item<Vec<String>>,
) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    config
        .and_then(|c| c.get(key, field))
        .map(|l| l.value.clone())
        .unwrap_or_default()
}

/// The AWS profile and region of a run: `--profile`/`--region` (or
/// `JOT_PROFILE`/`JOT_REGION`) > `AWS_PROFILE`/`AWS_REGION` > the file's
/// `profile`/`region` (its `[env.NAME]` first) > the standard chain.
pub fn aws_selection(args: &AwsArgs, config: Option<&Config>) -> Result<AwsSelection> {
    let from_file = |key: &'static str,
                     field: fn(&Section) -> &Item<String>,
                     check: fn(&str) -> std::result::Result<(), String>| {
        config
            .and_then(|c| c.get(key, field))
            .map(|l| {
                l.check(|v| check(v))?;
                Ok::<_, Error>(Chosen {
                    value: l.value.clone(),
                    from: format!("{}:{}", l.path.display(), l.line),
                })
            })
            .transpose()
    };
    let profile = from_file("profile", |s| &s.profile, jot_core::names::validate_profile)?;
    let region = from_file("region", |s| &s.region, jot_core::names::validate_region)?;
    args.select(profile, region)
}

/// A map key as `NAME=VALUE` pairs (the form of the `--env`/`--build-arg` flags).
pub fn pairs(map: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    map.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[cfg(test)]
mod tests;
