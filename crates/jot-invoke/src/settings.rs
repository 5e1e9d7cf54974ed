//! jot-invoke's settings: flags (and `JOT_TIMEOUT`, `JOT_MEMORY`) over the
//! `jot.toml` beside the responders: its `timeout` and `memory` (the
//! function's, so a local run is sized as Lambda's), and its `test_payload`
//! and `expect` when no payload is given.

use std::path::Path;

use jot_config::{Config, pick};
use jot_core::input;
use jot_core::session::InvokePlan;
use jot_core::{Result, limits};
use serde_json::{Value, json};

/// Defaults when neither a flag nor the file sets them.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 30;

/// The flags as given.
pub struct Given<'a> {
    pub payloads: &'a [String],
    pub payload_file: Option<&'a Path>,
    pub expect: Option<&'a str>,
    pub timeout: Option<u32>,
    pub memory: Option<u32>,
    pub repeat: u32,
}

/// The settings in effect.
pub struct Resolved {
    pub plan: InvokePlan,
    pub timeout: u32,
    pub memory: u32,
    payloads: Vec<String>,
    expect: Option<String>,
}

/// Flags, else the file, else the defaults; file values checked as the flags are.
pub fn resolve(given: &Given, config: Option<&Config>) -> Result<Resolved> {
    let timeout = pick(
        given.timeout,
        config,
        "timeout",
        |s| &s.timeout,
        |t| limits::check_timeout(*t),
    )?
    .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let memory = pick(
        given.memory,
        config,
        "memory",
        |s| &s.memory,
        |m| limits::check_memory(*m),
    )?
    .unwrap_or(limits::DEFAULT_MEMORY_MB);
    let from_file =
        |key: &'static str, field: fn(&jot_config::Section) -> &jot_config::Item<String>| {
            config.and_then(|c| c.get(key, field)).map(|l| {
                l.check(|text| jot_core::check::parse_json_flag(key, text).map(|_| text.clone()))
            })
        };
    let (payloads, expect) = match given.payload_file {
        Some(path) => (
            vec![read_payload_file(path)?],
            given.expect.map(str::to_string),
        ),
        None if given.payloads.is_empty() => match from_file("test_payload", |s| &s.test_payload) {
            // The file's test payload comes with the file's expected answer.
            Some(payload) => (
                vec![payload?],
                match given.expect {
                    Some(e) => Some(e.to_string()),
                    None => from_file("expect", |s| &s.expect).transpose()?,
                },
            ),
            None => (vec!["{}".to_string()], given.expect.map(str::to_string)),
        },
        None => (given.payloads.to_vec(), given.expect.map(str::to_string)),
    };
    let plan = crate::plan(payloads.clone(), expect.as_deref(), given.repeat)?;
    Ok(Resolved {
        plan,
        timeout,
        memory,
        payloads,
        expect,
    })
}

/// The payload file, read only as far as Lambda's limit allows (one byte
/// more tells that it is over): `/dev/zero` or a huge file is refused at once.
fn read_payload_file(path: &Path) -> Result<String> {
    let limit = jot_core::invocation::MAX_PAYLOAD_BYTES;
    input::read_file_at_most(
        path,
        limit,
        &format!("--payload-file {}", path.display()),
        &format!("Lambda accepts at most {limit} bytes for a synchronous invocation"),
    )
}

impl Resolved {
    /// For `--show-config`.
    pub fn show(&self, config: Option<&Config>) -> Value {
        let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
        json!({
            "config": config.map(|c| c.path().display().to_string()),
            "timeout": self.timeout,
            "memory": self.memory,
            "payloads": self.payloads.iter().map(|p| parse(p)).collect::<Vec<_>>(),
            "expect": self.expect.as_deref().map(parse),
        })
    }
}
