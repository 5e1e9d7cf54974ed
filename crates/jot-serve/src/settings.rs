//! jot-serve's settings. Per function (memory, CPUs, timeout, processes,
//! reserved concurrency, environment): the flags, else the descriptor's
//! `settings`, else the `[serve]` section of the `jot.toml` beside the
//! function's responder (or `--config FILE`), else the defaults; environment
//! variables merge by name in that order. For the server (bind, port,
//! function error status): the flags, else their `JOT_SERVE_*` variables
//! (clap reads both), else `[serve]`, else the defaults. A bad file value
//! names its file, line and key.

use std::collections::BTreeMap;
use std::time::Duration;

use jot_config::{Config, ConfigFileArgs, Located};
use jot_core::{Error, Result, limits};
use jot_run::Served;

/// The per-function flags (None: not given).
pub struct Flags<'a> {
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    pub max_concurrency: Option<u16>,
    pub environment: &'a [(String, String)],
    pub config: &'a ConfigFileArgs,
}

/// The server's flags, or their environment variables (None: neither given).
#[derive(Default)]
pub struct ServerFlags {
    pub bind: Option<String>,
    pub port: Option<u16>,
    pub function_error_status: Option<u16>,
}

/// Where and how the server listens and answers, after every layer.
#[derive(Debug, PartialEq)]
pub struct Server {
    pub bind: String,
    pub port: u16,
    pub function_error_status: u16,
}

pub const DEFAULT_TIMEOUT: u32 = 30;
pub const DEFAULT_MAX_CONCURRENCY: u16 = 4;
pub const DEFAULT_BIND: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 9001;
pub const DEFAULT_FUNCTION_ERROR_STATUS: u16 = 200;

/// Layers flags, descriptors, each function's `[serve]` and the defaults
/// into `served`, and returns the server's settings.
pub fn apply(served: &mut [Served], flags: &Flags, server: ServerFlags) -> Result<Server> {
    let mut configs = Vec::new();
    for function in served.iter_mut() {
        let dir = jot_config::responder_dir(std::path::Path::new(&function.responder.source));
        let config = Config::for_responder(&dir, flags.config)?;
        apply_one(function, flags, config.as_ref())?;
        configs.push(config);
    }
    let configs: Vec<&Config> = configs.iter().flatten().collect();
    let bind = match server.bind {
        Some(bind) => bind,
        None => shared(&configs, "bind", |s| &s.bind, |b: &String| Ok(b.clone()))?
            .unwrap_or_else(|| DEFAULT_BIND.into()),
    };
    let port = match server.port {
        Some(port) => port,
        None => shared(&configs, "port", |s| &s.port, |p: &u16| Ok(*p))?.unwrap_or(DEFAULT_PORT),
    };
    // Checked once, where it comes from: a file's value with its file and line.
    let function_error_status = match server.function_error_status {
        Some(code) => check_status(&code).map_err(Error::Usage)?,
        None => shared(
            &configs,
            "function_error_status",
            |s| &s.function_error_status,
            check_status,
        )?
        .unwrap_or(DEFAULT_FUNCTION_ERROR_STATUS),
    };
    Ok(Server {
        bind,
        port,
        function_error_status,
    })
}

fn check_status(code: &u16) -> std::result::Result<u16, String> {
    if (200..=599).contains(code) {
        Ok(*code)
    } else {
        Err(format!("{code} is not an HTTP status from 200 to 599"))
    }
}

/// One function's settings: flag, else descriptor, else file, else default.
fn apply_one(function: &mut Served, flags: &Flags, config: Option<&Config>) -> Result<()> {
    let requested = &function.requested;
    let memory = match flags.memory.or(requested.memory) {
        Some(mb) => mb,
        None => serve_value(
            config,
            "memory",
            |s| &s.memory,
            |m| limits::check_memory(*m),
        )?
        .unwrap_or(jot_core::limits::DEFAULT_MEMORY_MB),
    };
    let timeout = match flags.timeout.or(requested.timeout) {
        Some(seconds) => seconds,
        None => serve_value(
            config,
            "timeout",
            |s| &s.timeout,
            |t| limits::check_timeout(*t),
        )?
        .unwrap_or(DEFAULT_TIMEOUT),
    };
    let cpus = match flags.cpus.or(requested.cpus) {
        Some(cpus) => Some(cpus),
        None => serve_value(config, "cpus", |s| &s.cpus, check_cpus)?,
    };
    let pids_limit = match flags.pids_limit.or(requested.pids_limit) {
        Some(pids) => Some(pids),
        None => serve_value(
            config,
            "pids_limit",
            |s| &s.pids_limit,
            |p| {
                if *p >= 1 {
                    Ok(*p)
                } else {
                    Err("must be 1 or more")
                }
            },
        )?,
    };
    let max_concurrency = match flags.max_concurrency {
        Some(n) => n,
        None => serve_value(
            config,
            "max_concurrency",
            |s| &s.max_concurrency,
            |n| {
                if (1..=1000).contains(n) {
                    Ok(*n)
                } else {
                    Err("must be 1 to 1000")
                }
            },
        )?
        .unwrap_or(DEFAULT_MAX_CONCURRENCY),
    };
    // Variables by name: the file's, the descriptor's over them, the flags' over both.
    let mut environment: BTreeMap<String, String> =
        match config.and_then(|c| c.serve("environment", |s| &s.environment)) {
            Some(located) => {
                located.check(|map| limits::parse_environment(&jot_config::pairs(map)))?;
                located.value.clone()
            }
            None => BTreeMap::new(),
        };
    environment.extend(requested.environment.clone().unwrap_or_default());
    environment.extend(flags.environment.iter().cloned());
    let settings = &mut function.settings;
    settings.memory_mb = limits::check_memory(memory)?;
    settings.timeout = Duration::from_secs(limits::check_timeout(timeout)?.into());
    settings.cpus = cpus
        .map(|c| check_cpus(&c))
        .transpose()
        .map_err(Error::Usage)?;
    settings.pids_limit = pids_limit;
    settings.max_concurrency = max_concurrency.into();
    settings.environment = limits::parse_environment(&jot_config::pairs(&environment))?;
    Ok(())
}

fn check_cpus(cpus: &f64) -> std::result::Result<f64, String> {
    if cpus.is_finite() && *cpus >= 0.0 {
        Ok(*cpus)
    } else {
        Err(format!(
            "{cpus} is not a number of CPUs (0 or more; 0: no limit)"
        ))
    }
}

fn serve_value<T: Clone, R, E: std::fmt::Display>(
    config: Option<&Config>,
    key: &'static str,
    field: impl Fn(&jot_config::Serve) -> &jot_config::Item<T>,
    check: impl FnOnce(&T) -> std::result::Result<R, E>,
) -> Result<Option<R>> {
    match config.and_then(|c| c.serve(key, field)) {
        Some(located) => located.check(check).map(Some),
        None => Ok(None),
    }
}

/// A server key from the functions' files: one value, or a usage error
/// naming the two files that disagree.
fn shared<T: PartialEq + std::fmt::Debug, R>(
    configs: &[&Config],
    key: &'static str,
    field: impl Fn(&jot_config::Serve) -> &jot_config::Item<T>,
    check: impl Fn(&T) -> std::result::Result<R, String>,
) -> Result<Option<R>> {
    let mut first: Option<Located<'_, T>> = None;
    for config in configs {
        let Some(located) = config.serve(key, &field) else {
            continue;
        };
        match &first {
            Some(seen) if seen.value != located.value => {
                return Err(Error::Usage(format!(
                    "{}:{} and {}:{} set [serve] {key} differently ({:?}, {:?}); serve them separately, or pass --{} or --config",
                    seen.path.display(),
                    seen.line,
                    located.path.display(),
                    located.line,
                    seen.value,
                    located.value,
                    key.replace('_', "-"),
                )));
            }
            Some(_) => {}
            None => first = Some(located),
        }
    }
    first.map(|located| located.check(&check)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &tempfile::TempDir, name: &str, text: &str) -> Config {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        Config::load(&path, None).unwrap()
    }

    #[test]
    fn server_keys_must_agree_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = config(&dir, "a.toml", "[serve]\nport = 9100\n");
        let b = config(
            &dir,
            "b.toml",
            "[serve]\nport = 9100\nbind = \"127.0.0.2\"\n",
        );
        let c = config(&dir, "c.toml", "[serve]\nport = 9200\n");
        let port = |configs: &[&Config]| shared(configs, "port", |s| &s.port, |p: &u16| Ok(*p));
        assert_eq!(port(&[&a, &b]).unwrap(), Some(9100));
        assert_eq!(port(&[]).unwrap(), None);
        let err = port(&[&a, &c]).unwrap_err().to_string();
        assert!(
            err.contains("a.toml:2 and") && err.contains("c.toml:2") && err.contains("--port"),
            "{err}"
        );
        let bad = config(&dir, "d.toml", "[serve]\nfunction_error_status = 700\n");
        let err = shared(
            &[&bad],
            "function_error_status",
            |s| &s.function_error_status,
            check_status,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("d.toml:2: function_error_status: 700"),
            "{err}"
        );
    }
}
