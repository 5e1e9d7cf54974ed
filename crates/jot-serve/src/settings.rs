//! Per-function settings: the flags when given, else the `[serve]` section of
//! the `jot.toml` beside each function's responder (or `--config FILE`),
//! else the defaults. A bad file value names its file, line and key.

use std::time::Duration;

use jot_config::{Config, ConfigArgs};
use jot_core::{Result, limits};
use jot_run::Served;

/// The flags that a `[serve]` section may stand in for (None: not given).
pub struct Flags<'a> {
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    pub max_concurrency: Option<u16>,
    pub environment: &'a [(String, String)],
    pub config: &'a ConfigArgs,
}

pub const DEFAULT_MEMORY: u32 = 1024;
pub const DEFAULT_TIMEOUT: u32 = 30;
pub const DEFAULT_MAX_CONCURRENCY: u16 = 4;

/// Applies flags, then each function's `[serve]`, then defaults, to `served`.
pub fn apply(served: &mut [Served], flags: &Flags) -> Result<()> {
    for function in served {
        let dir = jot_config::responder_dir(std::path::Path::new(&function.responder.source));
        let config = Config::for_responder(&dir, flags.config)?;
        let config = config.as_ref();
        let memory = match flags.memory {
            Some(mb) => mb,
            None => serve_value(
                config,
                "memory",
                |s| &s.memory,
                |m| limits::check_memory(*m),
            )?
            .unwrap_or(DEFAULT_MEMORY),
        };
        let timeout = match flags.timeout {
            Some(seconds) => seconds,
            None => serve_value(
                config,
                "timeout",
                |s| &s.timeout,
                |t| limits::check_timeout(*t),
            )?
            .unwrap_or(DEFAULT_TIMEOUT),
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
        let settings = &mut function.settings;
        settings.memory_mb = limits::check_memory(memory)?;
        settings.timeout = Duration::from_secs(limits::check_timeout(timeout)?.into());
        settings.max_concurrency = max_concurrency.into();
        // The file's variables, with the flags' winning over a name in both.
        let mut environment: Vec<(String, String)> = config
            .and_then(|c| c.serve("environment", |s| &s.environment))
            .map(|l| l.value.clone().into_iter().collect())
            .unwrap_or_default();
        environment.retain(|(k, _)| !flags.environment.iter().any(|(f, _)| f == k));
        environment.extend(flags.environment.iter().cloned());
        settings.environment = environment;
    }
    Ok(())
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
