//! Lambda's limits, checked before any engine or AWS call so a bad value is
//! refused with the allowed range, not a service error after half the work.

use crate::error::{Error, Result};

pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 128..=10_240;
/// The memory of a function or sandbox when nothing sets it, in every tool
/// (Julia needs more than Lambda's own default of 128 MB).
pub const DEFAULT_MEMORY_MB: u32 = 1024;
pub const TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 1..=900;
pub const EPHEMERAL_STORAGE_MB: std::ops::RangeInclusive<u32> = 512..=10_240;
/// Lambda's limit on all environment variables of a function together.
pub const ENVIRONMENT_BYTES: usize = 4 * 1024;

/// Variables Lambda sets itself and refuses from users.
pub const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
];

fn in_range(
    what: &str,
    value: u32,
    range: std::ops::RangeInclusive<u32>,
    unit: &str,
) -> Result<u32> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(Error::InvalidInput(format!(
            "{what} {value} {unit} is outside Lambda's limits; use {} to {} {unit}",
            range.start(),
            range.end()
        )))
    }
}

pub fn check_memory(mb: u32) -> Result<u32> {
    in_range("--memory", mb, MEMORY_MB, "MB")
}

pub fn check_timeout(seconds: u32) -> Result<u32> {
    in_range("--timeout", seconds, TIMEOUT_SECONDS, "seconds")
}

pub fn check_ephemeral_storage(mb: u32) -> Result<u32> {
    in_range("--ephemeral-storage", mb, EPHEMERAL_STORAGE_MB, "MB")
}

/// Parses `--env K=V` values: names `[a-zA-Z][a-zA-Z0-9_]+`, none reserved by
/// Lambda, 4 KB in all.
pub fn parse_environment(pairs: &[String]) -> Result<Vec<(String, String)>> {
    let mut parsed: Vec<(String, String)> = Vec::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(Error::InvalidInput(format!(
                "--env {pair:?} must be NAME=VALUE"
            )));
        };
        let mut chars = key.chars();
        let valid = key.len() >= 2
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::InvalidInput(format!(
                "--env name {key:?} is not allowed by Lambda; use a letter then letters, digits or '_' (2 or more characters)"
            )));
        }
        if RESERVED_ENV.contains(&key) || key.starts_with("AWS_LAMBDA_") {
            return Err(Error::InvalidInput(format!(
                "--env {key} is reserved by Lambda and cannot be set"
            )));
        }
        parsed.retain(|(k, _)| k != key);
        parsed.push((key.to_string(), value.to_string()));
    }
    let size: usize = parsed.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > ENVIRONMENT_BYTES {
        return Err(Error::InvalidInput(format!(
            "--env values take {size} bytes; Lambda allows {ENVIRONMENT_BYTES} bytes for all environment variables"
        )));
    }
    Ok(parsed)
}

/// Lambda's two instruction sets, as the command line names them; x86_64
/// when nothing chooses one (as on Lambda).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Architecture {
    #[default]
    #[value(name = "x86_64")]
    X86_64,
    #[value(name = "arm64")]
    Arm64,
}

impl Architecture {
    /// Lambda's name (`x86_64`, `arm64`).
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// From Lambda's name (`x86_64`, `arm64`), as a flag or a config value gives it.
    pub fn parse(name: &str) -> Result<Architecture> {
        match name {
            "x86_64" => Ok(Architecture::X86_64),
            "arm64" => Ok(Architecture::Arm64),
            other => Err(Error::InvalidInput(format!(
                "architecture {other:?} is not one of Lambda's: x86_64, arm64"
            ))),
        }
    }

    /// From an image config's name (`amd64`, `arm64`); `None` for one Lambda cannot run.
    pub fn from_oci(name: &str) -> Option<Architecture> {
        match name {
            "amd64" => Some(Architecture::X86_64),
            "arm64" | "aarch64" => Some(Architecture::Arm64),
            _ => None,
        }
    }

    /// The name in an image config (`amd64`, `arm64`).
    pub fn oci_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "amd64",
            Architecture::Arm64 => "arm64",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(check_memory(128).is_ok() && check_memory(10_240).is_ok());
        assert!(
            check_memory(127)
                .unwrap_err()
                .to_string()
                .contains("128 to 10240 MB")
        );
        assert!(
            check_timeout(0).is_err() && check_timeout(901).is_err() && check_timeout(900).is_ok()
        );
        assert!(check_ephemeral_storage(511).is_err());
    }

    #[test]
    fn environment() {
        let env = parse_environment(&["GREETING=hi=there".into(), "N1=2".into()]).unwrap();
        assert_eq!(env[0], ("GREETING".into(), "hi=there".into()));
        assert!(parse_environment(&["NOVALUE".into()]).is_err());
        assert!(parse_environment(&["1X=a".into()]).is_err());
        assert!(
            parse_environment(&["AWS_REGION=eu".into()])
                .unwrap_err()
                .to_string()
                .contains("reserved")
        );
        assert!(parse_environment(&[format!("BIG={}", "x".repeat(5000))]).is_err());
    }
}
