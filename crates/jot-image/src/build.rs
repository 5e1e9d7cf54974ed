//! A build from request to `local_image` descriptor.

use std::collections::HashMap;

use jot_core::descriptor::{Descriptor, LocalImage, ResponderKind};
use jot_core::error::{Error, Result};
use jot_core::limits::Architecture;
use jot_core::output::Step;
use jot_core::{labels, names};
use jot_docker::{Docker, Image, inspect_image};

use crate::base::prepare_base_image;
use crate::builder::{BuildArgs, BuilderRun, run_builder};
use crate::compile::EXEMPLAR_SUFFIX;
use crate::context::build_context;
use crate::deps::{Dependency, DepsSpec, deps_stage};
use crate::dockerfile::{render_dockerfile, responder_env};
use crate::layer::add_code_layer;
use crate::parse::{parse_responder, parsed_before};
use crate::replace::{current_jot_image, remove_replaced};
use crate::request::BuildRequest;
use crate::tag::{RUNTIME_STAGE_REPOSITORY, derive_tag, runtime_stage_key};

/// Builds the image and returns its `local_image` descriptor.
pub async fn build(docker: &Docker, request: &BuildRequest) -> Result<Descriptor> {
    let base = prepare_base_image(docker, &request.base_image, request.pull).await?;
    let architecture = base_architecture(&request.base_image, &base, request.architecture)?;
    // From here on the request names the architecture the image really has
    // (its CPU targets, its tag).
    let request = &BuildRequest {
        architecture: Some(architecture),
        ..request.clone()
    };
    let base_id = base.id.clone();
    let tag = match &request.tag {
        Some(tag) => tag.clone(),
        None => derive_tag(request, &base_id),
    };
    names::validate_tag(&tag)?;
    let reference = format!("{}:{tag}", request.name);
    refuse_foreign(docker, &reference, request.force).await?;
    let replaced = current_jot_image(docker, &reference).await;
    // A responder that does not parse fails here, before anything is built
    // (an image of this very content, named by its derived tag, was parsed
    // when it was built).
    if request.tag.is_some() || !parsed_before(docker, &reference, &request.responder).await {
        let with_tests = request.compile.as_ref().is_some_and(|c| c.tests);
        parse_responder(docker, &base_id, &request.responder, with_tests).await?;
    }
    // Compiled, the image built here is the exemplar session's stage.
    let reference = match request.compile {
        Some(_) => format!("{reference}{EXEMPLAR_SUFFIX}"),
        None => reference,
    };
    let mut labels = labels::image_labels(
        &request.name,
        &tag,
        &request.responder.info,
        request.responder.modified,
    );
    labels.insert(
        labels::JOT_ARCHITECTURE.into(),
        architecture.lambda_name().into(),
    );
    if !request.deps.is_empty() {
        let deps: Vec<String> = request.deps.iter().map(Dependency::display).collect();
        labels.insert(labels::JOT_DEPS.into(), deps.join(","));
    }
    let built = match request.responder.info.kind {
        // A package is copied and precompiled by the builder.
        ResponderKind::Package => {
            let run = BuilderRun {
                context: build_context(&render_dockerfile(request, &labels), &request.responder)?,
                reference: reference.clone(),
                args: BuildArgs::Request(request.build_args.clone()),
            };
            let step = Step::start(format!("building {reference}"));
            let built = run_builder(docker, run, &step).await;
            step.finish();
            built.map(|image| image.id)
        }
        // A script: the shared runtime stage (built once per base image), and
        // the code as one layer of our own.
        ResponderKind::Script => {
            let stdlibs = request.responder.stdlib_imports();
            let deps = DepsSpec {
                deps: &request.deps,
                registry_urls: &request.registry_urls,
                build_args: &request.build_args,
                stdlibs: &stdlibs,
            };
            let env = responder_env(&request.responder, &request.init);
            match runtime_stage(docker, request, &base_id).await {
                Ok(stage) => match deps_stage(docker, deps, stage).await {
                    Ok(stage) => {
                        add_code_layer(docker, stage, &request.responder, &env, &labels, &reference)
                            .await
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        }
    };
    let id = built?;
    // Compiled, the tag moves when the compiled image is made.
    if request.compile.is_none() {
        remove_replaced(docker, replaced, &id).await;
    }
    Ok(Descriptor::local(
        request.name.clone(),
        request.responder.info.clone(),
        LocalImage {
            image: reference,
            id,
            base_image: Some(request.base_image.clone()),
            architecture: Some(architecture.lambda_name().into()),
        },
    ))
}

/// The base image's instruction set, which the image will have: it must be
/// one Lambda runs, and the one asked for. (A build never emulates another
/// instruction set: Julia compiles native code at build time.)
fn base_architecture(
    name: &str,
    base: &Image,
    wanted: Option<Architecture>,
) -> Result<Architecture> {
    let oci = base.architecture.as_deref().unwrap_or("amd64");
    let Some(have) = Architecture::from_oci(oci) else {
        return Err(Error::InvalidInput(format!(
            "base image {name} is built for {oci}, which Lambda does not run; use an amd64 or arm64 base image"
        )));
    };
    match wanted {
        Some(wanted) if wanted != have => Err(Error::InvalidInput(format!(
            "--architecture {}: base image {name} is {} ({oci}); pass a base image built for {} (for example with --pull on an {} machine)",
            wanted.lambda_name(),
            have.lambda_name(),
            wanted.oci_name(),
            wanted.oci_name()
        ))),
        _ => Ok(have),
    }
}

/// jot never retags over an image it did not build (one without its labels)
/// unless forced: that image would silently lose its name.
async fn refuse_foreign(docker: &Docker, reference: &str, force: bool) -> Result<()> {
    let Some(existing) = inspect_image(docker, reference).await? else {
        return Ok(());
    };
    let ours = existing.labels.contains_key(labels::JOT_NAME);
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
) -> Result<Image> {
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
        "building the runtime stage {reference} (once per base image, about 5 minutes)"
    ));
    let run = BuilderRun {
        context: build_context(
            &render_dockerfile(request, &HashMap::new()),
            &request.responder,
        )?,
        reference,
        args: BuildArgs::SharedStage,
    };
    let built = run_builder(docker, run, &step).await;
    step.finish();
    built
}
