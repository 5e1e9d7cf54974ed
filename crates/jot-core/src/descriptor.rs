//! Descriptors: the versioned JSON objects piped between the jot tools, one per
//! line (NDJSON). A descriptor grows as it moves down the pipe; `kind` says how
//! far it has come. The format is documented in `docs/descriptors.md`.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::{self, Bounded};

/// The descriptor format version written by this release; readers refuse others.
pub const FORMAT_VERSION: u32 = 1;

/// How far a descriptor has come down the pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LocalImage,
    RemoteImage,
    Function,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LocalImage => "local_image",
            Kind::RemoteImage => "remote_image",
            Kind::Function => "function",
        }
    }
}

/// Whether the responder is a single `.jl` file or a Julia package directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponderKind {
    Script,
    Package,
}

/// The Julia code that answers invocations, as it was when the image was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponderInfo {
    /// Absolute path of the script or package directory on the build machine.
    pub source: String,
    pub kind: ResponderKind,
    /// Module name of a package responder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub function: String,
    pub arg_type: String,
    /// SHA-256 over the responder's files: unchanged code has the same hash.
    pub tree_hash: String,
}

/// The image in the local Docker engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalImage {
    /// `repository:tag` reference.
    pub image: String,
    /// Image id, `sha256:…`.
    pub id: String,
    /// The base image it was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    /// Lambda's name of its instruction set (`x86_64`, `arm64`); jot-deploy
    /// refuses a function of the other one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
}

/// The image in a remote registry (ECR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteImage {
    pub repository_uri: String,
    pub tag: String,
    /// Manifest digest, `sha256:…`; deploys pin the image by it.
    pub digest: String,
}

/// The deployed Lambda function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionInfo {
    pub name: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
}

/// The AWS account and region a descriptor's ECR image and function live in,
/// so that a tool pointed at another account or region refuses it rather
/// than acting on a namesake there. Descriptors written before it have none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsOrigin {
    /// 12-digit account id; absent when AWS did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub region: String,
}

impl AwsOrigin {
    /// The account and region of a Lambda ARN (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`).
    pub fn of_arn(arn: &str) -> Option<AwsOrigin> {
        let mut parts = arn.split(':');
        let (Some("arn"), Some(_), Some(_), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let origin = AwsOrigin {
            account: Some(account.to_string()),
            region: region.to_string(),
        };
        origin.validate().ok().map(|()| origin)
    }

    /// The account and region of an ECR repository URI
    /// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
    pub fn of_repository_uri(uri: &str) -> Option<AwsOrigin> {
        let host = uri.split('/').next()?;
        let mut parts = host.split('.');
        let (Some(account), Some("dkr"), Some("ecr"), Some(region)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let origin = AwsOrigin {
            account: Some(account.to_string()),
            region: region.to_string(),
        };
        origin.validate().ok().map(|()| origin)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        crate::names::validate_region(&self.region)
            .map_err(|e| format!("field `aws.region`: {e}"))?;
        match &self.account {
            Some(a) if !crate::names::is_account_id(a) => Err(format!(
                "field `aws.account`: {a:?} is not a 12-digit AWS account id"
            )),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for AwsOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.account {
            Some(account) => write!(f, "account {account}, region {}", self.region),
            None => write!(f, "region {}", self.region),
        }
    }
}

/// How the function runs, per function (memory, CPU, timeout, environment,
/// processes); every field is optional. jot-serve applies it under its flags
/// and over the `jot.toml` (docs/descriptors.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    /// Memory in MB (Lambda's 128–10240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// Seconds an invocation may run (1–900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// CPUs of a sandbox; absent: memory / 1,769 MB, as Lambda; 0: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// Most processes a sandbox may run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    /// The function's environment variables (Lambda's rules for names and size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<std::collections::BTreeMap<String, String>>,
}

impl RunSettings {
    /// The checks the flags of the same names get.
    fn validate(&self) -> std::result::Result<(), String> {
        if let Some(mb) = self.memory {
            crate::limits::check_memory(mb).map_err(|e| format!("field `settings.memory`: {e}"))?;
        }
        if let Some(seconds) = self.timeout {
            crate::limits::check_timeout(seconds)
                .map_err(|e| format!("field `settings.timeout`: {e}"))?;
        }
        if let Some(cpus) = self.cpus
            && !(cpus.is_finite() && cpus >= 0.0)
        {
            return Err(format!(
                "field `settings.cpus`: {cpus} is not a number of CPUs (0 or more; 0: no limit)"
            ));
        }
        if let Some(pids) = self.pids_limit
            && pids < 1
        {
            return Err(format!(
                "field `settings.pids_limit`: {pids} must be 1 or more"
            ));
        }
        if let Some(environment) = &self.environment {
            let pairs: Vec<String> = environment
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            crate::limits::parse_environment(&pairs)
                .map_err(|e| format!("field `settings.environment`: {e}"))?;
        }
        Ok(())
    }
}

/// One jot (a responder and its copies) as it travels through the pipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Descriptor {
    pub jot: u32,
    pub kind: Kind,
    pub name: String,
    pub responder: ResponderInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_image: Option<LocalImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_image: Option<RemoteImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<RunSettings>,
    /// Where its AWS copies live (written by jot-push, jot-deploy, jot-ls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsOrigin>,
}

impl Descriptor {
    /// A fresh descriptor for a just-built local image.
    pub fn local(name: String, responder: ResponderInfo, local_image: LocalImage) -> Self {
        Descriptor {
            jot: FORMAT_VERSION,
            kind: Kind::LocalImage,
            name,
            responder,
            local_image: Some(local_image),
            remote_image: None,
            function: None,
            settings: None,
            aws: None,
        }
    }

    /// Checks what serde cannot: the version and that `kind` has its section.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.jot != FORMAT_VERSION {
            return Err(format!(
                "field `jot`: format version {} is not supported by this jot (it reads version {FORMAT_VERSION}); use the same jot release for every tool in the pipe",
                self.jot
            ));
        }
        crate::names::validate_jot_name(&self.name).map_err(|e| format!("field `name`: {e}"))?;
        let missing = match self.kind {
            Kind::LocalImage if self.local_image.is_none() => Some("local_image"),
            Kind::RemoteImage if self.remote_image.is_none() => Some("remote_image"),
            Kind::Function if self.function.is_none() => Some("function"),
            _ => None,
        };
        if let Some(field) = missing {
            return Err(format!(
                "field `{field}` is required when `kind` is \"{}\"",
                self.kind.as_str()
            ));
        }
        // Image fields are references before anything acts on them: a value
        // such as "name:tag --privileged" never reaches the engine.
        if let Some(local) = &self.local_image {
            crate::image_ref::ImageRef::parse(&local.image)
                .map_err(|e| format!("field `local_image.image`: {e}"))?;
        }
        if let Some(remote) = &self.remote_image {
            crate::image_ref::ImageRef::parse(&remote.repository_uri)
                .map_err(|e| format!("field `remote_image.repository_uri`: {e}"))?;
        }
        if let Some(settings) = &self.settings {
            settings.validate()?;
        }
        if let Some(origin) = &self.aws {
            origin.validate()?;
        }
        Ok(())
    }

    /// The local image reference, or a clear error naming what the tool needs.
    pub fn require_local_image(&self) -> Result<&LocalImage> {
        self.local_image.as_ref().ok_or_else(|| {
            Error::InvalidInput(format!(
                "descriptor `{}` has no local_image; pipe the output of jot-build into this tool",
                self.name
            ))
        })
    }
}

/// Parses one NDJSON line; the error names the field where serde can tell.
pub fn parse_line(line: &str, line_number: usize) -> Result<Descriptor> {
    let bad = |message: String| Error::Descriptor {
        line: line_number,
        message,
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
        bad(format!(
            "not valid JSON ({e}); each line must be one descriptor object"
        ))
    })?;
    if !value.is_object() {
        return Err(bad(
            "expected a JSON object (a jot descriptor), found another JSON value".into(),
        ));
    }
    let descriptor: Descriptor = serde_json::from_value(value).map_err(|e| {
        bad(format!(
            "{e}; expected a descriptor as written by jot-build, jot-push or jot-deploy"
        ))
    })?;
    descriptor.validate().map_err(bad)?;
    Ok(descriptor)
}

/// Reads every descriptor first, so a bad line stops the tool before it acts.
/// Blank lines are skipped. Each line and the count are bounded
/// ([`input::MAX_DESCRIPTOR_LINE_BYTES`], [`input::MAX_DESCRIPTORS`]), so an
/// endless stream is refused, not read into memory.
pub fn read_all(mut reader: impl BufRead) -> Result<Vec<Descriptor>> {
    read_all_within(
        &mut reader,
        input::MAX_DESCRIPTOR_LINE_BYTES,
        input::MAX_DESCRIPTORS,
    )
}

fn read_all_within(
    reader: &mut impl BufRead,
    line_limit: usize,
    count_limit: usize,
) -> Result<Vec<Descriptor>> {
    let mut descriptors = Vec::new();
    let mut index = 0;
    loop {
        let line = input::read_line_at_most(reader, line_limit)
            .map_err(|e| Error::io("reading descriptors from stdin", e))?;
        index += 1;
        let bad = |message: String| Error::Descriptor {
            line: index,
            message,
        };
        let bytes = match line {
            None => return Ok(descriptors),
            Some(Bounded::All(bytes)) => bytes,
            Some(Bounded::TooLarge) => {
                return Err(bad(format!(
                    "longer than {line_limit} bytes; each line must be one JSON descriptor"
                )));
            }
        };
        let line = String::from_utf8(bytes)
            .map_err(|_| bad("not UTF-8 text; each line must be one JSON descriptor".into()))?;
        if line.trim().is_empty() {
            continue;
        }
        if descriptors.len() == count_limit {
            return Err(bad(format!(
                "more than {count_limit} descriptors in one stream; split it"
            )));
        }
        descriptors.push(parse_line(&line, index)?);
    }
}

/// Reads the descriptors piped into a tool. A terminal on stdin (nothing
/// piped) or an empty stream is an error that shows `example`, a pipe that
/// would work; `tool` names the reader in the message.
pub fn read_piped(tool: &str, example: &str) -> Result<Vec<Descriptor>> {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::Usage(format!("pipe descriptors in, e.g. {example}")));
    }
    let descriptors = read_all(stdin.lock())?;
    if descriptors.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no descriptors on stdin; did the tool before {tool} fail?"
        )));
    }
    Ok(descriptors)
}

/// Writes one descriptor as one line and flushes, so the next tool in the pipe
/// can start on it at once.
pub fn write_line(out: &mut impl Write, descriptor: &Descriptor) -> Result<()> {
    let line = serde_json::to_string(descriptor)
        .map_err(|e| Error::Internal(format!("cannot serialise descriptor: {e}")))?;
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("writing a descriptor to stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_garbage_is_bad_input_naming_the_line() {
        let input: &[u8] = b"\n\xff\xfe\x00garbage\n";
        let err = read_all(input).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT);
        assert!(
            err.to_string().starts_with("stdin line 2: not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn an_endless_line_or_stream_is_refused_naming_the_line() {
        let mut endless = std::io::BufReader::new(std::io::repeat(b'{'));
        let err = read_all(&mut endless).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT);
        assert!(
            err.to_string()
                .starts_with("stdin line 1: longer than 1048576 bytes"),
            "{err}"
        );
        let line = serde_json::to_string(&sample()).unwrap();
        let three = format!("{line}\n\n{line}\n{line}\n");
        assert_eq!(
            read_all_within(&mut three.as_bytes(), 4096, 3)
                .unwrap()
                .len(),
            3
        );
        let err = read_all_within(&mut three.as_bytes(), 4096, 2).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("stdin line 4: more than 2 descriptors"),
            "{err}"
        );
    }

    #[test]
    fn an_image_field_must_be_a_reference() {
        let mut d = sample();
        d.local_image.as_mut().unwrap().image = "name:tag --privileged".into();
        let line = serde_json::to_string(&d).unwrap();
        let err = parse_line(&line, 1).unwrap_err().to_string();
        assert!(err.contains("local_image.image"), "{err}");
    }

    fn sample() -> Descriptor {
        Descriptor::local(
            "increment-vector".into(),
            ResponderInfo {
                source: "/src/increment_vector.jl".into(),
                kind: ResponderKind::Script,
                module: None,
                function: "increment_vector".into(),
                arg_type: "Vector{Int}".into(),
                tree_hash: "ab".repeat(32),
            },
            LocalImage {
                image: "increment-vector:0123456789ab".into(),
                id: "sha256:00".into(),
                base_image: None,
                architecture: None,
            },
        )
    }

    #[test]
    fn round_trips_through_a_line() {
        let mut buffer = Vec::new();
        write_line(&mut buffer, &sample()).unwrap();
        let text = String::from_utf8(buffer).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert_eq!(parse_line(text.trim(), 1).unwrap(), sample());
    }

    #[test]
    fn names_the_line_of_invalid_json() {
        let input = format!(
            "{}\n\nnot json\n",
            serde_json::to_string(&sample()).unwrap()
        );
        let err = read_all(input.as_bytes()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("stdin line 3: not valid JSON"),
            "{message}"
        );
        assert_eq!(err.exit_code(), crate::error::exit::BAD_INPUT);
    }

    #[test]
    fn names_a_missing_field() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value.as_object_mut().unwrap().remove("responder");
        let err = parse_line(&value.to_string(), 7).unwrap_err().to_string();
        assert!(
            err.contains("line 7") && err.contains("`responder`"),
            "{err}"
        );
    }

    #[test]
    fn refuses_kind_without_its_section() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["kind"] = "remote_image".into();
        let err = parse_line(&value.to_string(), 1).unwrap_err().to_string();
        assert!(err.contains("`remote_image` is required"), "{err}");
    }

    #[test]
    fn refuses_unknown_fields_and_versions() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["colour"] = "blue".into();
        let err = parse_line(&value.to_string(), 1).unwrap_err().to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let mut value = serde_json::to_value(sample()).unwrap();
        value["jot"] = 2.into();
        let err = parse_line(&value.to_string(), 1).unwrap_err().to_string();
        assert!(err.contains("format version 2"), "{err}");
    }

    #[test]
    fn settings_round_trip_and_get_the_flags_checks() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["settings"] = serde_json::json!({"memory": 256, "timeout": 5, "cpus": 0.5,
            "pids_limit": 64, "environment": {"GREETING": "hi"}});
        let parsed = parse_line(&value.to_string(), 1).unwrap();
        let settings = parsed.settings.clone().unwrap();
        assert_eq!((settings.memory, settings.timeout), (Some(256), Some(5)));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), value);
        for (field, bad, says) in [
            ("memory", serde_json::json!(64), "settings.memory"),
            ("timeout", serde_json::json!(0), "settings.timeout"),
            ("cpus", serde_json::json!(-1.0), "settings.cpus"),
            ("pids_limit", serde_json::json!(0), "settings.pids_limit"),
            (
                "environment",
                serde_json::json!({"AWS_REGION": "x"}),
                "settings.environment",
            ),
            ("colour", serde_json::json!(1), "unknown field `colour`"),
        ] {
            let mut value = serde_json::to_value(sample()).unwrap();
            value["settings"] = serde_json::json!({ field: bad });
            let err = parse_line(&value.to_string(), 3).unwrap_err().to_string();
            assert!(
                err.contains("line 3") && err.contains(says),
                "{field}: {err}"
            );
        }
    }

    #[test]
    fn the_aws_origin_comes_from_an_arn_and_is_checked() {
        let arn = crate::names::function_arn("eu-west-2", "210987654321", "f");
        assert_eq!(arn, "arn:aws:lambda:eu-west-2:210987654321:function:f");
        let origin = AwsOrigin::of_arn(&arn).unwrap();
        assert_eq!(origin.account.as_deref(), Some("210987654321"));
        assert_eq!(origin.region, "eu-west-2");
        assert!(AwsOrigin::of_arn("not-an-arn").is_none());
        let ecr = AwsOrigin::of_repository_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/f");
        assert_eq!(ecr.unwrap().region, "us-east-1");
        assert!(AwsOrigin::of_repository_uri("127.0.0.1:4566/f").is_none());
        let mut value = serde_json::to_value(sample()).unwrap();
        value["aws"] = serde_json::json!({"account": "12345", "region": "us-east-1"});
        let err = parse_line(&value.to_string(), 2).unwrap_err().to_string();
        assert!(err.contains("aws.account"), "{err}");
        value["aws"] = serde_json::json!({"region": "us-east-1"});
        assert!(parse_line(&value.to_string(), 2).is_ok());
    }

    #[test]
    fn refuses_non_objects() {
        let err = parse_line("[1,2]", 4).unwrap_err().to_string();
        assert!(err.contains("line 4: expected a JSON object"), "{err}");
    }
}
