//! The image's instruction set against the function's: Lambda would accept
//! an x86_64 image on an arm64 function and fail at every invocation, so
//! jot-deploy refuses the mismatch before it calls AWS.

use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::Architecture;
use jot_core::descriptor::Descriptor;
use jot_core::limits::Architecture as Arch;

use super::settings::{Settings, lambda_architecture};
use crate::{AwsError, Result};

/// The instruction set jot-build recorded for the descriptor's image.
pub fn of_image(descriptor: &Descriptor) -> Option<Architecture> {
    let name = descriptor.local_image.as_ref()?.architecture.as_deref()?;
    Arch::parse(name).ok().map(lambda_architecture)
}

/// Refuses `--architecture` (or the config's) that differs from the image's.
pub fn check_wanted(settings: &Settings, descriptor: &Descriptor) -> Result<()> {
    match (&settings.architecture, of_image(descriptor)) {
        (Some(wanted), Some(image)) if *wanted != image => Err(AwsError::InvalidInput(format!(
            "{}: the image is built for {} but the function's architecture is {}; rebuild with `jot-build --architecture {}` on a base image for it, or deploy with --architecture {}",
            descriptor.name,
            image.as_str(),
            wanted.as_str(),
            wanted.as_str(),
            image.as_str()
        ))),
        _ => Ok(()),
    }
}

/// Refuses an image for another instruction set than the existing
/// function's when this run does not set one (it would keep the function's).
pub fn check_existing(
    settings: &Settings,
    descriptor: &Descriptor,
    existing: &GetFunctionOutput,
) -> Result<()> {
    let current = existing
        .configuration()
        .and_then(|c| c.architectures().first().cloned())
        .unwrap_or_else(|| lambda_architecture(Arch::default()));
    match (&settings.architecture, of_image(descriptor)) {
        (None, Some(image)) if image != current => Err(AwsError::InvalidInput(format!(
            "{}: the function runs {} but the image is built for {}; pass --architecture {} to switch the function, or rebuild for {}",
            descriptor.name,
            current.as_str(),
            image.as_str(),
            image.as_str(),
            current.as_str()
        ))),
        _ => Ok(()),
    }
}
