//! A build from request to `local_image` descriptor.

use std::collections::HashMap;

use jot_core::descriptor::{Descriptor, LocalImage, ResponderKind};
use jot_core::error::{Error, Result};
use jot_core::limits::Architecture;
use jot_core::output::Step;
use jot_core::{labels, names};
use jot_docker::bollard::models::ImageInspect;
use jot_docker::{Docker, inspect_image};

use crate::base::prepare_base_image;
use crate::builder::run_builder;
use crate::layer::add_code_layer;
use crate::responder::Responder;
use crate::tag::{RUNTIME_STAGE_REPOSITORY, derive_tag, runtime_stage_key};

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub responder: Responder,
    pub name: String,
    /// Explicit tag; by default the tag is derived from everything that goes into the image.
    pub tag: Option<String>,
    pub base_image: String,
    /// Pull the base image even when it is present locally.
    pub pull: bool,
    /// Replace a local image under the same reference that jot did not build.
    pub force: bool,
    /// The Lambda architecture: decides the CPU targets caches are compiled for.
    pub architecture: Architecture,
    /// What the runtime does in init before the first event.
    pub init: InitOptions,
}

/// The init-time work asked for on the command line (`--warmup-payload`, `--warmup-always`).
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// An event the runtime sends through the responder in init (answer discarded).
    pub warmup_payload: Option<String>,
    /// Warm up in every init, not only when init is off the request path
    /// (provisioned concurrency, SnapStart).
    pub warmup_always: bool,
}

/// Builds the image and returns its `local_image` descriptor.
pub async fn build(docker: &Docker, request: &BuildRequest) -> Result<Descriptor> {
    let base_id = prepare_base_image(docker, &request.base_image, request.pull).await?;
    let tag = match &request.tag {
        Some(tag) => tag.clone(),
        None => derive_tag(request, &base_id),
    };
    names::validate_tag(&tag)?;
    let reference = format!("{}:{tag}", request.name);
    refuse_foreign(docker, &reference, request.force).await?;
    let labels = labels::image_labels(
        &request.name,
        &tag,
        &request.responder.info,
        request.responder.modified,
    );
    let built = match request.responder.info.kind {
        // A package is copied and precompiled by the builder.
        ResponderKind::Package => {
            let step = Step::start(format!("building {reference}"));
            let built = run_builder(docker, request, &labels, &reference, &step).await;
            step.finish();
            built.map(|image| image.id.unwrap_or_default())
        }
        // A script: the shared runtime stage (built once per base image), and
        // the code as one layer of our own.
        ResponderKind::Script => match runtime_stage(docker, request, &base_id).await {
            Ok(stage) => add_code_layer(docker, stage, request, &labels, &reference).await,
            Err(e) => Err(e),
        },
    };
    let id = built?;
    Ok(Descriptor::local(
        request.name.clone(),
        request.responder.info.clone(),
        LocalImage {
            image: reference,
            id,
            base_image: Some(request.base_image.clone()),
        },
    ))
}

/// jot never retags over an image it did not build (one without its labels)
/// unless forced: that image would silently lose its name.
async fn refuse_foreign(docker: &Docker, reference: &str, force: bool) -> Result<()> {
    let Some(existing) = inspect_image(docker, reference).await? else {
        return Ok(());
    };
    let ours = existing
        .config
        .and_then(|c| c.labels)
        .is_some_and(|l| l.contains_key(labels::JOT_NAME));
    if ours || force {
        return Ok(());
    }
    Err(Error::NotJot(format!(
        "local image {reference} exists and was not built by jot (it has no {} label); choose another --name or --tag, or pass --force to replace it",
        labels::JOT_NAME
    )))
}

/// The runtime stage for a script: the image tagged with its key when the
/// engine has it (no builder run at all), else built and tagged now.
async fn runtime_stage(
    docker: &Docker,
    request: &BuildRequest,
    base_image_id: &str,
) -> Result<ImageInspect> {
    let reference = format!(
        "{RUNTIME_STAGE_REPOSITORY}:{}",
        runtime_stage_key(request, base_image_id)
    );
    if let Some(stage) = inspect_image(docker, &reference).await? {
        return Ok(stage);
    }
    // Minutes, once per base image: a plain line at its start and end when no
    // terminal shows a spinner, so a CI log says what is going on.
    let step = Step::start(format!(
        "building the runtime stage {reference} (once per base image, about 2 minutes)"
    ));
    let built = run_builder(docker, request, &HashMap::new(), &reference, &step).await;
    step.finish();
    built
}
