//! The base image: which one, present or pulled on request, and how old.

use std::time::{Duration, SystemTime};

use jot_core::error::{Error, Result};
use jot_core::image_ref::ImageRef;
use jot_core::output;
use jot_docker::{Docker, Image, inspect_image};

/// The Julia release whose official image is the default base.
pub const DEFAULT_JULIA_VERSION: &str = "1.12";

/// Base images older than this get a note: they miss security patches.
pub const BASE_IMAGE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// The base image: `--base-image`, else `JOT_BASE_IMAGE`, else the official
/// Julia image of `julia_version`.
pub fn choose_base_image(flag: Option<&str>, julia_version: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| {
            std::env::var("JOT_BASE_IMAGE")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| format!("julia:{}", julia_version.unwrap_or(DEFAULT_JULIA_VERSION)))
}

/// Makes sure the base image is present and returns its inspection; notes when it is
/// old. It is pulled only when asked (`--pull`): a build never downloads
/// hundreds of megabytes, or reaches for the network, by surprise.
pub async fn prepare_base_image(docker: &Docker, base: &str, pull: bool) -> Result<Image> {
    let present = inspect_image(docker, base).await?;
    if present.is_none() && !pull {
        return Err(Error::Build(format!(
            "base image {base} is not in the local engine; add --pull to pull it, or pass --base-image IMAGE (or set JOT_BASE_IMAGE)"
        )));
    }
    if pull {
        let step = output::Step::start(format!("pulling {base}"));
        let pulled = pull_image(docker, base).await;
        step.finish();
        if let Err(e) = pulled {
            if present.is_none() {
                return Err(Error::Build(format!(
                    "base image {base} is not in the local engine and cannot be pulled ({e}); pass --base-image IMAGE (or set JOT_BASE_IMAGE)"
                )));
            }
            output::note(format!(
                "note: could not refresh {base} ({e}); using the local copy"
            ));
        }
    }
    let inspect = inspect_image(docker, base)
        .await?
        .ok_or_else(|| Error::Build(format!("base image {base} vanished from the engine")))?;
    if let Some(note) = inspect
        .created
        .as_deref()
        .and_then(|created| stale_base_note(base, created, SystemTime::now()))
    {
        output::note(note);
    }
    Ok(inspect)
}

/// The note for a base image created more than [`BASE_IMAGE_MAX_AGE`] before `now`.
pub(crate) fn stale_base_note(base: &str, created: &str, now: SystemTime) -> Option<String> {
    // The engine gives RFC 3339 with nanoseconds; seconds are enough.
    let seconds = created
        .split('.')
        .next()
        .unwrap_or(created)
        .trim_end_matches('Z');
    let created = humantime::parse_rfc3339_weak(seconds).ok()?;
    let age = now.duration_since(created).ok()?;
    (age > BASE_IMAGE_MAX_AGE).then(|| {
        format!(
            "note: base image {base} is {} days old; rebuild with --pull to get its patches",
            age.as_secs() / 86_400
        )
    })
}

async fn pull_image(docker: &Docker, image: &str) -> Result<()> {
    let reference = ImageRef::parse(image)?;
    jot_docker::pull_image(docker, &reference.name(), reference.tag_or_latest(), None).await?;
    Ok(())
}
