//! `jot-invoke`'s work, apart from its command line: which functions to
//! invoke (from flags or descriptors), the checked plan of payloads, and a
//! local invoke session whose sandbox is removed on every path.

pub mod settings;

use std::time::Instant;

use bytes::Bytes;
use jot_core::cli;
use jot_core::descriptor::{Descriptor, Kind};
use jot_core::image_ref::ImageRef;
use jot_core::session::{self, InvokePlan};
use jot_core::{Error, Result, check, output};
use jot_emulator::{InstanceConfig, LocalFunction};

/// What one invocation session runs against.
pub enum Target {
    Local {
        name: String,
        image: String,
    },
    /// A Lambda function, at the alias or version its descriptor names.
    Remote {
        name: String,
        qualifier: Option<String>,
    },
}

impl Target {
    /// A local image named on the command line (checked as a reference).
    pub fn image(image: &str) -> Result<Target> {
        Ok(Target::Local {
            name: ImageRef::parse(image)?.short_name().to_string(),
            image: image.to_string(),
        })
    }

    /// The targets of the descriptors piped in, and the descriptors.
    pub fn piped(local: bool) -> Result<(Vec<Target>, Vec<Descriptor>)> {
        let descriptors = jot_core::descriptor::read_piped(
            "jot-invoke",
            "jot-build f.jl | jot-invoke --local (or pass --image or --function-name)",
        )?;
        let targets = descriptors
            .iter()
            .map(|d| Target::of(d, local))
            .collect::<Result<_>>()?;
        Ok((targets, descriptors))
    }

    /// What a descriptor describes: its local image when it has only that (or
    /// `local`), else its Lambda function.
    pub fn of(descriptor: &Descriptor, local: bool) -> Result<Target> {
        if local || descriptor.kind == Kind::LocalImage {
            let image = descriptor.require_local_image()?.image.clone();
            Ok(Target::Local {
                name: descriptor.name.clone(),
                image,
            })
        } else {
            let function = descriptor.function.as_ref();
            Ok(Target::Remote {
                name: function.map_or_else(|| descriptor.name.clone(), |f| f.name.clone()),
                qualifier: function.and_then(|f| f.alias.clone().or_else(|| f.version.clone())),
            })
        }
    }
}

/// The payloads (each checked as JSON within Lambda's limit) and the expected answer.
pub fn plan(texts: Vec<String>, expect: Option<&str>, repeat: u32) -> Result<InvokePlan> {
    let mut payloads = Vec::new();
    for text in texts {
        if text.len() > jot_emulator::MAX_PAYLOAD_BYTES {
            return Err(Error::InvalidInput(format!(
                "the payload is {} bytes; Lambda accepts at most {} bytes for a synchronous invocation",
                text.len(),
                jot_emulator::MAX_PAYLOAD_BYTES
            )));
        }
        check::parse_json_flag("--payload", &text)?;
        payloads.push(Bytes::from(text));
    }
    let expect = expect
        .map(|e| check::parse_json_flag("--expect", e))
        .transpose()?;
    Ok(InvokePlan {
        payloads,
        repeat,
        expect,
    })
}

/// What to print beside the responses.
#[derive(Debug, Clone, Copy)]
pub struct Reporting {
    pub logs: bool,
    pub json: bool,
}

impl Reporting {
    pub fn new(logs: bool, json: bool) -> Reporting {
        Reporting { logs, json }
    }
}

/// Runs the plan in a local sandbox, removed on success, error and signal.
pub async fn invoke_local(
    config: InstanceConfig,
    plan: &InvokePlan,
    reporting: Reporting,
    out: &mut impl std::io::Write,
) -> Result<()> {
    let docker = jot_docker::connect().await?;
    let target = config.image.clone();
    let mut function = LocalFunction::new(&docker, config);
    let started = Instant::now();
    let ran = tokio::select! {
        ran = session::run(&target, plan, started, &mut function, out) => Ok(ran),
        signal = cli::stop_requested() => Err(signal),
    };
    let init = function.first_init();
    let cold_start = function
        .first_cold_start()
        .map(|c| c.phases.clone())
        .unwrap_or_default();
    let init_bytes_read = function.first_cold_start().and_then(|c| c.bytes_read);
    if reporting.logs {
        eprint!("{}", function.shutdown_with_logs().await);
    } else {
        function.shutdown().await;
    }
    output::detail(format!(
        "{target}: sandbox started, used and removed in {} ms",
        started.elapsed().as_millis()
    ));
    let (mut report, verdict) = match ran {
        Ok(ran) => ran,
        Err(signal) => {
            return Err(cli::interrupted(
                signal,
                "interrupted; the sandbox was removed",
            ));
        }
    };
    report.init = init;
    report.cold_start = cold_start;
    report.init_bytes_read = init_bytes_read;
    if reporting.json {
        output::note(report.to_json().to_string());
    }
    verdict
}
