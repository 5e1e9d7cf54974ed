//! Builds a responder into a Lambda container image: generates the build
//! context from `runtime-template/`, builds it through the Docker engine and
//! describes the result as a `local_image` descriptor.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bollard::Docker;
use bollard::query_parameters::{BuildImageOptionsBuilder, CreateImageOptionsBuilder};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::descriptor::{Descriptor, LocalImage, ResponderKind};
use crate::docker::{engine_error, inspect_image};
use crate::error::{Error, Result};
use crate::labels;
use crate::output;
use crate::responder::{Responder, hex};

/// The Julia runtime and image template, compiled into every jot-build so an
/// installed binary needs nothing else on disk.
pub mod template {
    pub const DOCKERFILE: &str = include_str!("../../../runtime-template/Dockerfile.in");
    pub const BOOTSTRAP: &str = include_str!("../../../runtime-template/bootstrap");
    pub const RUNTIME: &str = include_str!("../../../runtime-template/runtime.jl");
}

/// The Julia release whose official image is the default base.
pub const DEFAULT_JULIA_VERSION: &str = "1.12";

/// Base images older than this get a note: they miss security patches.
pub const BASE_IMAGE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

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
}

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

/// Makes sure the base image is present (pulling it when missing or asked to)
/// and returns its id; notes when it is old.
pub async fn prepare_base_image(docker: &Docker, base: &str, pull: bool) -> Result<String> {
    let present = inspect_image(docker, base).await?;
    if pull || present.is_none() {
        let spinner = output::spinner(format!("pulling {base}"));
        let pulled = pull_image(docker, base).await;
        spinner.finish_and_clear();
        if let Err(e) = pulled {
            if present.is_none() {
                return Err(Error::Build(format!(
                    "base image {base} is not in the local engine and cannot be pulled ({e}); pull or build it, or pass --base-image IMAGE (or set JOT_BASE_IMAGE)"
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
    if let Some(age) = inspect
        .created
        .as_deref()
        .and_then(|c| humantime::parse_rfc3339_weak(c.split('.').next().unwrap_or(c)).ok())
        .and_then(|created| SystemTime::now().duration_since(created).ok())
        && age > BASE_IMAGE_MAX_AGE
    {
        output::note(format!(
            "note: base image {base} is {} days old; rebuild with --pull to get its patches",
            age.as_secs() / 86_400
        ));
    }
    Ok(inspect.id.unwrap_or_default())
}

async fn pull_image(docker: &Docker, image: &str) -> Result<()> {
    let (from_image, tag) = split_reference(image);
    let options = CreateImageOptionsBuilder::default()
        .from_image(from_image)
        .tag(tag)
        .build();
    let mut stream = docker.create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| engine_error(&format!("pulling {image}"), e))?;
    }
    Ok(())
}

/// Splits `repo:tag` (the repo may hold a registry port) into repo and tag.
fn split_reference(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// The default tag: a short hash of everything that decides the image's
/// content, so an unchanged responder keeps its tag and any change gets a new one.
pub fn derive_tag(request: &BuildRequest, base_image_id: &str) -> String {
    let info = &request.responder.info;
    let mut hasher = Sha256::new();
    for part in [
        info.tree_hash.as_str(),
        info.function.as_str(),
        info.arg_type.as_str(),
        template::DOCKERFILE,
        template::BOOTSTRAP,
        template::RUNTIME,
        base_image_id,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize())[..12].to_string()
}

/// The Dockerfile for this responder, rendered from the template.
pub fn render_dockerfile(request: &BuildRequest) -> String {
    let responder = &request.responder;
    let info = &responder.info;
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let (dependencies, responder_env, precompile) = match info.kind {
        ResponderKind::Script => {
            let file = &responder.files[0].relative;
            (
                String::new(),
                format!(
                    "JOT_RESPONDER_KIND=script JOT_RESPONDER_PATH={} JOT_FUNCTION={} JOT_ARG_TYPE={} _HANDLER={}",
                    quote(&format!("/var/task/{file}")),
                    quote(&info.function),
                    quote(&info.arg_type),
                    quote(&info.function)
                ),
                String::new(),
            )
        }
        ResponderKind::Package => {
            let module = info.module.clone().unwrap_or_default();
            let mut deps = String::from("ENV JULIA_PROJECT=/var/task\nCOPY deps/ /var/task/\n");
            if !responder.registry_dependencies.is_empty() {
                deps.push_str(
                    "RUN JULIA_DEPOT_PATH=/opt/jot/depot julia --startup-file=no -e 'using Pkg; Pkg.instantiate()'\n",
                );
            }
            (
                deps,
                format!(
                    "JOT_RESPONDER_KIND=package JOT_RESPONDER_PATH=/var/task JOT_RESPONDER_MODULE={} JOT_FUNCTION={} JOT_ARG_TYPE={} _HANDLER={}",
                    quote(&module),
                    quote(&info.function),
                    quote(&info.arg_type),
                    quote(&format!("{module}.{}", info.function))
                ),
                // Precompile into the read-only depot so init loads the cache.
                format!(
                    "RUN JULIA_DEPOT_PATH=/opt/jot/depot julia --startup-file=no -e {}",
                    quote(&format!("using {module}"))
                ),
            )
        }
    };
    template::DOCKERFILE
        .replace("{{BASE_IMAGE}}", &request.base_image)
        .replace("{{DEPENDENCIES}}", &dependencies)
        .replace("{{RESPONDER_ENV}}", &responder_env)
        .replace("{{PRECOMPILE}}", &precompile)
}

/// The build context as a tar archive: Dockerfile, runtime/, deps/, code/.
/// Entries carry fixed owners and the responder's times, so an unchanged
/// responder hits the build cache.
pub fn build_context(request: &BuildRequest) -> Result<Vec<u8>> {
    let responder = &request.responder;
    let mtime = responder
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut archive = tar::Builder::new(Vec::new());
    let mut add = |path: &str, contents: &[u8], mode: u32, mtime: u64| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(mode);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        archive.append_data(&mut header, path, contents)
    };
    let io = |e| Error::io("creating the build context", e);
    add(
        "Dockerfile",
        render_dockerfile(request).as_bytes(),
        0o644,
        0,
    )
    .map_err(io)?;
    add(
        "runtime/bootstrap",
        template::BOOTSTRAP.as_bytes(),
        0o755,
        0,
    )
    .map_err(io)?;
    add("runtime/runtime.jl", template::RUNTIME.as_bytes(), 0o644, 0).map_err(io)?;
    for file in &responder.files {
        add(
            &format!("code/{}", file.relative),
            &file.contents,
            0o644,
            mtime,
        )
        .map_err(io)?;
        if responder.info.kind == ResponderKind::Package
            && matches!(file.relative.as_str(), "Project.toml" | "Manifest.toml")
        {
            add(
                &format!("deps/{}", file.relative),
                &file.contents,
                0o644,
                mtime,
            )
            .map_err(io)?;
        }
    }
    archive.into_inner().map_err(io)
}

/// Builds the image and returns its `local_image` descriptor.
pub async fn build(docker: &Docker, request: &BuildRequest) -> Result<Descriptor> {
    let base_id = prepare_base_image(docker, &request.base_image, request.pull).await?;
    let tag = match &request.tag {
        Some(tag) => tag.clone(),
        None => derive_tag(request, &base_id),
    };
    crate::names::validate_tag(&tag)?;
    let reference = format!("{}:{tag}", request.name);
    let labels: HashMap<String, String> = labels::image_labels(
        &request.name,
        &tag,
        &request.responder.info,
        request.responder.modified,
    );
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&reference)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        // Build steps must not need a bridge network: engines here run without one.
        .networkmode("host")
        .build();
    let context = build_context(request)?;
    let spinner = output::spinner(format!("building {reference}"));
    let mut log = Vec::new();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                spinner.finish_and_clear();
                return Err(build_failure(&reference, &error, &log));
            }
            Err(e) => {
                spinner.finish_and_clear();
                return Err(engine_error(&format!("building {reference}"), e));
            }
        };
        if let Some(error) = info.error_detail.and_then(|d| d.message).or(info.error) {
            spinner.finish_and_clear();
            return Err(build_failure(&reference, &error, &log));
        }
        if let Some(text) = info.stream {
            let line = text.trim_end();
            if line.starts_with("Step ") {
                spinner.set_message(line.to_string());
            }
            if !line.is_empty() {
                log.push(line.to_string());
            }
        }
    }
    spinner.finish_and_clear();
    let inspect = inspect_image(docker, &reference).await?.ok_or_else(|| {
        Error::Build(format!(
            "the engine reported success but has no image {reference}"
        ))
    })?;
    Ok(Descriptor::local(
        request.name.clone(),
        request.responder.info.clone(),
        LocalImage {
            image: reference,
            id: inspect.id.unwrap_or_default(),
            base_image: Some(request.base_image.clone()),
        },
    ))
}

/// A build error with the last lines of the build log, which say why.
fn build_failure(reference: &str, error: &str, log: &[String]) -> Error {
    let tail: Vec<&str> = log.iter().rev().take(8).rev().map(String::as_str).collect();
    Error::Build(format!(
        "{reference}: {}{}",
        error.trim(),
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (last build output: {})", tail.join(" | "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(dir: &std::path::Path) -> BuildRequest {
        let path = dir.join("f.jl");
        std::fs::write(&path, "f(x) = x\n").unwrap();
        BuildRequest {
            responder: Responder::load(&path, None, Some("Vector{Int}")).unwrap(),
            name: "f-name".into(),
            tag: None,
            base_image: "jot/julia:test".into(),
            pull: false,
        }
    }

    #[test]
    fn renders_runtime_before_code() {
        let dir = tempfile::tempdir().unwrap();
        let dockerfile = render_dockerfile(&request(dir.path()));
        assert!(dockerfile.starts_with("# Generated"));
        assert!(dockerfile.contains("FROM jot/julia:test"));
        assert!(dockerfile.contains("JOT_ARG_TYPE=\"Vector{Int}\""));
        let runtime = dockerfile.find("COPY runtime/").unwrap();
        let code = dockerfile.find("COPY code/").unwrap();
        assert!(runtime < code);
        assert!(!dockerfile.contains("{{"));
    }

    #[test]
    fn derived_tags_follow_content() {
        let dir = tempfile::tempdir().unwrap();
        let mut req = request(dir.path());
        let tag = derive_tag(&req, "sha256:1");
        assert_eq!(tag, derive_tag(&req, "sha256:1"));
        assert_ne!(tag, derive_tag(&req, "sha256:2"));
        req.responder.info.arg_type = "Any".into();
        assert_ne!(tag, derive_tag(&req, "sha256:1"));
        crate::names::validate_tag(&tag).unwrap();
    }

    #[test]
    fn context_holds_dockerfile_runtime_and_code() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = build_context(&request(dir.path())).unwrap();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let paths: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "Dockerfile",
                "runtime/bootstrap",
                "runtime/runtime.jl",
                "code/f.jl"
            ]
        );
    }

    #[test]
    fn splits_references() {
        assert_eq!(split_reference("julia:1.12"), ("julia", "1.12"));
        assert_eq!(
            split_reference("127.0.0.1:4566/x"),
            ("127.0.0.1:4566/x", "latest")
        );
        assert_eq!(split_reference("julia"), ("julia", "latest"));
    }
}
