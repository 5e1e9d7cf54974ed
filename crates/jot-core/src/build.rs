//! Builds a responder into a Lambda container image: generates the build
//! context from `runtime-template/`, builds it through the Docker engine and
//! describes the result as a `local_image` descriptor.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bollard::Docker;
use bollard::models::ImageInspect;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, ImportImageOptionsBuilder,
};
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
    pub const SYSIMAGE: &str = include_str!("../../../runtime-template/sysimage.jl");
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

/// Makes sure the base image is present and returns its id; notes when it is
/// old. It is pulled only when asked (`--pull`): a build never downloads
/// hundreds of megabytes, or reaches for the network, by surprise.
pub async fn prepare_base_image(docker: &Docker, base: &str, pull: bool) -> Result<String> {
    let present = inspect_image(docker, base).await?;
    if present.is_none() && !pull {
        return Err(Error::Build(format!(
            "base image {base} is not in the local engine; add --pull to pull it, or pass --base-image IMAGE (or set JOT_BASE_IMAGE)"
        )));
    }
    if pull {
        let spinner = output::spinner(format!("pulling {base}"));
        let pulled = pull_image(docker, base).await;
        spinner.finish_and_clear();
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
    Ok(inspect.id.unwrap_or_default())
}

/// The note for a base image created more than [`BASE_IMAGE_MAX_AGE`] before `now`.
fn stale_base_note(base: &str, created: &str, now: SystemTime) -> Option<String> {
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
    let parts = [
        info.tree_hash.as_str(),
        info.function.as_str(),
        info.arg_type.as_str(),
        template::DOCKERFILE,
        template::BOOTSTRAP,
        template::RUNTIME,
        template::SYSIMAGE,
        base_image_id,
    ];
    content_hash(&parts, 12)
}

/// The first `len` hex digits of a hash of `parts`, each ended by a NUL so
/// that moving text from one part to the next changes the hash.
fn content_hash(parts: &[&str], len: usize) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize())[..len].to_string()
}

/// The environment that tells the runtime what to load and call: set by an
/// `ENV` step for a package, written into the image config for a script.
pub fn responder_env(request: &BuildRequest) -> Vec<(&'static str, String)> {
    let responder = &request.responder;
    let info = &responder.info;
    match info.kind {
        ResponderKind::Script => vec![
            ("JOT_RESPONDER_KIND", "script".into()),
            (
                "JOT_RESPONDER_PATH",
                format!("/var/task/{}", responder.files[0].relative),
            ),
            ("JOT_FUNCTION", info.function.clone()),
            ("JOT_ARG_TYPE", info.arg_type.clone()),
            ("_HANDLER", info.function.clone()),
        ],
        ResponderKind::Package => {
            let module = info.module.clone().unwrap_or_default();
            vec![
                ("JOT_RESPONDER_KIND", "package".into()),
                ("JOT_RESPONDER_PATH", "/var/task".into()),
                ("JOT_RESPONDER_MODULE", module.clone()),
                ("JOT_FUNCTION", info.function.clone()),
                ("JOT_ARG_TYPE", info.arg_type.clone()),
                ("_HANDLER", format!("{module}.{}", info.function)),
            ]
        }
    }
}

/// The Dockerfile for this responder, rendered from the template. For a
/// script it is the runtime stage alone, the same for every script on the
/// same base image; for a package it goes on to the dependencies, the code,
/// its environment and `labels`.
pub fn render_dockerfile(request: &BuildRequest, labels: &HashMap<String, String>) -> String {
    let responder = &request.responder;
    let (dependencies, responder_env, code) = match responder.info.kind {
        ResponderKind::Script => (String::new(), String::new(), String::new()),
        ResponderKind::Package => {
            let module = responder.info.module.clone().unwrap_or_default();
            let mut deps = String::from("ENV JULIA_PROJECT=/var/task\nCOPY deps/ /var/task/\n");
            if !responder.registry_dependencies.is_empty() {
                deps.push_str(
                    "RUN JULIA_DEPOT_PATH=/opt/jot/depot /opt/jot/bootstrap --julia -e 'using Pkg; Pkg.instantiate()'\n",
                );
            }
            let env: Vec<String> = responder_env(request)
                .into_iter()
                .map(|(k, v)| format!("{k}={}", quote(&v)))
                .collect();
            let mut sorted: Vec<_> = labels.iter().collect();
            sorted.sort();
            let label_line: Vec<String> = sorted
                .into_iter()
                .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
                .collect();
            (
                deps,
                format!("ENV {}", env.join(" ")),
                // Precompile into the read-only depot so init loads the cache.
                format!(
                    "COPY code/ /var/task/\nRUN JULIA_DEPOT_PATH=/opt/jot/depot /opt/jot/bootstrap --julia -e {}\nLABEL {}\n",
                    quote(&format!("using {module}")),
                    label_line.join(" ")
                ),
            )
        }
    };
    template::DOCKERFILE
        .replace("{{BASE_IMAGE}}", &request.base_image)
        .replace("{{DEPENDENCIES}}", &dependencies)
        .replace("{{RESPONDER_ENV}}", &responder_env)
        .replace("{{CODE}}", &code)
}

/// Where the runtime stage of scripts is kept: one image per base image and
/// runtime, tagged by [`runtime_stage_key`]. The tag keeps it out of `docker
/// image prune`, so the precompiled runtime survives a clean-up.
pub const RUNTIME_STAGE_REPOSITORY: &str = "jot-runtime";

/// A hash of everything the runtime stage is built from: its Dockerfile, the
/// runtime files and the base image's id. The engine's builder would answer
/// from its cache for the same inputs, so an image tagged with this key can
/// stand in for a builder run.
pub fn runtime_stage_key(request: &BuildRequest, base_image_id: &str) -> String {
    let dockerfile = render_dockerfile(request, &HashMap::new());
    let parts = [
        dockerfile.as_str(),
        template::BOOTSTRAP,
        template::RUNTIME,
        template::SYSIMAGE,
        base_image_id,
    ];
    content_hash(&parts, 16)
}

/// A Dockerfile string literal.
fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// Seconds since the epoch of the responder's last change: the time stamp of
/// its files in the image, so an unchanged responder makes the same layers.
fn modified_secs(responder: &Responder) -> u64 {
    responder
        .modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Appends a regular file with fixed owner and the given time to a tar archive.
fn append_file(
    archive: &mut tar::Builder<Vec<u8>>,
    path: &str,
    contents: &[u8],
    mode: u32,
    mtime: u64,
) -> Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(contents.len() as u64);
    header.set_mode(mode);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    archive
        .append_data(&mut header, path, contents)
        .map_err(|e| Error::io("creating an image archive", e))
}

/// The build context as a tar archive: Dockerfile, runtime/, and for a
/// package deps/ and code/.
pub fn build_context(request: &BuildRequest, labels: &HashMap<String, String>) -> Result<Vec<u8>> {
    let responder = &request.responder;
    let mtime = modified_secs(responder);
    let mut archive = tar::Builder::new(Vec::new());
    append_file(
        &mut archive,
        "Dockerfile",
        render_dockerfile(request, labels).as_bytes(),
        0o644,
        0,
    )?;
    append_file(
        &mut archive,
        "runtime/bootstrap",
        template::BOOTSTRAP.as_bytes(),
        0o755,
        0,
    )?;
    append_file(
        &mut archive,
        "runtime/runtime.jl",
        template::RUNTIME.as_bytes(),
        0o644,
        0,
    )?;
    append_file(
        &mut archive,
        "runtime/sysimage.jl",
        template::SYSIMAGE.as_bytes(),
        0o644,
        0,
    )?;
    if responder.info.kind == ResponderKind::Package {
        for file in &responder.files {
            append_file(
                &mut archive,
                &format!("code/{}", file.relative),
                &file.contents,
                0o644,
                mtime,
            )?;
            if matches!(file.relative.as_str(), "Project.toml" | "Manifest.toml") {
                append_file(
                    &mut archive,
                    &format!("deps/{}", file.relative),
                    &file.contents,
                    0o644,
                    mtime,
                )?;
            }
        }
    }
    archive
        .into_inner()
        .map_err(|e| Error::io("creating the build context", e))
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
    let labels = labels::image_labels(
        &request.name,
        &tag,
        &request.responder.info,
        request.responder.modified,
    );
    let spinner = output::spinner(format!("building {reference}"));
    let built = match request.responder.info.kind {
        // A package is copied and precompiled by the builder.
        ResponderKind::Package => run_builder(docker, request, &labels, &reference, &spinner)
            .await
            .map(|image| image.id.unwrap_or_default()),
        // A script: the shared runtime stage (built once per base image), and
        // the code as one layer of our own.
        ResponderKind::Script => match runtime_stage(docker, request, &base_id, &spinner).await {
            Ok(stage) => add_code_layer(docker, stage, request, &labels, &reference).await,
            Err(e) => Err(e),
        },
    };
    spinner.finish_and_clear();
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

/// The runtime stage for a script: the image tagged with its key when the
/// engine has it (no builder run at all), else built and tagged now.
async fn runtime_stage(
    docker: &Docker,
    request: &BuildRequest,
    base_image_id: &str,
    spinner: &indicatif::ProgressBar,
) -> Result<ImageInspect> {
    let reference = format!(
        "{RUNTIME_STAGE_REPOSITORY}:{}",
        runtime_stage_key(request, base_image_id)
    );
    if let Some(stage) = inspect_image(docker, &reference).await? {
        return Ok(stage);
    }
    spinner.set_message(format!(
        "building the runtime stage {reference} (once per base image)"
    ));
    run_builder(docker, request, &HashMap::new(), &reference, spinner).await
}

/// Runs the Dockerfile through the engine's builder; returns the image built.
async fn run_builder(
    docker: &Docker,
    request: &BuildRequest,
    labels: &HashMap<String, String>,
    reference: &str,
    spinner: &indicatif::ProgressBar,
) -> Result<ImageInspect> {
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(reference)
        .rm(true)
        .forcerm(true)
        // Build steps must not need a bridge network: engines here run without one.
        .networkmode("host");
    let context = build_context(request, labels)?;
    let mut log = Vec::new();
    let mut image_id = None;
    let mut stream = docker.build_image(
        options.build(),
        None,
        Some(bollard::body_full(context.into())),
    );
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(build_failure(reference, &error, &log));
            }
            Err(e) => return Err(engine_error(&format!("building {reference}"), e)),
        };
        if let Some(error) = info.error_detail.and_then(|d| d.message).or(info.error) {
            return Err(build_failure(reference, &error, &log));
        }
        if let Some(id) = info.aux.and_then(|aux| aux.id) {
            image_id = Some(id);
        }
        if let Some(text) = info.stream {
            let line = text.trim_end();
            if line.starts_with("Step ") {
                spinner.set_message(line.to_string());
            }
            if let Some(short) = line.strip_prefix("Successfully built ") {
                image_id.get_or_insert_with(|| short.trim().to_string());
            }
            if !line.is_empty() {
                log.push(line.to_string());
            }
        }
    }
    let id = image_id.ok_or_else(|| {
        Error::Build(format!(
            "{reference}: the engine did not say which image it built"
        ))
    })?;
    // Resolve a short id to the full one.
    let inspect = inspect_image(docker, &id).await?.ok_or_else(|| {
        Error::Build(format!("the engine reported success but has no image {id}"))
    })?;
    Ok(inspect)
}

/// The code layer of a script responder: `/var/task/<file>`.
fn code_layer(request: &BuildRequest) -> Result<Vec<u8>> {
    let responder = &request.responder;
    let mtime = modified_secs(responder);
    let mut archive = tar::Builder::new(Vec::new());
    for dir in ["var/", "var/task/"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o755);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        archive
            .append_data(&mut header, dir, std::io::empty())
            .map_err(|e| Error::io("creating the code layer", e))?;
    }
    for file in &responder.files {
        append_file(
            &mut archive,
            &format!("var/task/{}", file.relative),
            &file.contents,
            0o644,
            mtime,
        )?;
    }
    archive
        .into_inner()
        .map_err(|e| Error::io("creating the code layer", e))
}

/// Makes the final image from the runtime stage plus one code layer, with the
/// responder's labels and environment in its config, and loads it into the
/// engine (`docker load` of an archive holding only the new layer: the engine
/// already has the others). The image config is derived from the stage and
/// the responder alone, so unchanged code gives the same image id and is not
/// loaded again. Returns the image id.
async fn add_code_layer(
    docker: &Docker,
    stage: ImageInspect,
    request: &BuildRequest,
    labels: &HashMap<String, String>,
    reference: &str,
) -> Result<String> {
    let layer = code_layer(request)?;
    let layer_digest = format!("sha256:{}", hex(&Sha256::digest(&layer)));
    let mut diff_ids = stage.root_fs.and_then(|r| r.layers).unwrap_or_default();
    diff_ids.push(layer_digest.clone());
    let mut config = serde_json::to_value(stage.config.unwrap_or_default())
        .map_err(|e| Error::Internal(format!("cannot read the stage image's config: {e}")))?;
    let mut all_labels: serde_json::Map<String, serde_json::Value> = config
        .get("Labels")
        .and_then(|l| l.as_object())
        .cloned()
        .unwrap_or_default();
    all_labels.extend(
        labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))),
    );
    config["Labels"] = serde_json::Value::Object(all_labels);
    config["Env"] = serde_json::Value::from(with_env(
        config.get("Env").and_then(|e| e.as_array()),
        &responder_env(request),
    ));
    let created = labels::rfc3339(request.responder.modified);
    let mut history = stage_history(
        docker,
        stage.id.as_deref().unwrap_or_default(),
        diff_ids.len() - 1,
    )
    .await?;
    history.push(serde_json::json!({
        "created": created,
        "created_by": "jot-build: the responder's code in /var/task",
    }));
    let image_config = serde_json::json!({
        "architecture": stage.architecture.unwrap_or_else(|| "amd64".into()),
        "os": stage.os.unwrap_or_else(|| "linux".into()),
        "created": created,
        "config": config,
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": history,
    });
    let config_bytes = serde_json::to_vec(&image_config)
        .map_err(|e| Error::Internal(format!("cannot write the image config: {e}")))?;
    let image_id = format!("sha256:{}", hex(&Sha256::digest(&config_bytes)));
    if let Some(existing) = inspect_image(docker, reference).await?
        && existing.id.as_deref() == Some(image_id.as_str())
    {
        return Ok(image_id);
    }
    let layer_paths: Vec<String> = diff_ids
        .iter()
        .map(|d| format!("{}/layer.tar", d.trim_start_matches("sha256:")))
        .collect();
    let manifest = serde_json::json!([{
        "Config": format!("{}.json", image_id.trim_start_matches("sha256:")),
        "RepoTags": [reference],
        "Layers": layer_paths,
    }]);
    let mut archive = tar::Builder::new(Vec::new());
    append_file(
        &mut archive,
        &format!("{}.json", image_id.trim_start_matches("sha256:")),
        &config_bytes,
        0o644,
        0,
    )?;
    append_file(
        &mut archive,
        layer_paths.last().expect("the code layer"),
        &layer,
        0o644,
        0,
    )?;
    append_file(
        &mut archive,
        "manifest.json",
        manifest.to_string().as_bytes(),
        0o644,
        0,
    )?;
    let archive = archive
        .into_inner()
        .map_err(|e| Error::io("creating the image archive", e))?;
    let options = ImportImageOptionsBuilder::default().quiet(true).build();
    let mut stream = docker.import_image(options, bollard::body_full(archive.into()), None);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| engine_error(&format!("loading {reference}"), e))?;
        if let Some(error) = info.error_detail.and_then(|d| d.message).or(info.error) {
            return Err(Error::Build(format!(
                "{reference}: loading the code layer failed: {error}"
            )));
        }
    }
    Ok(image_id)
}

/// The stage's history as image-config entries, oldest first, so `docker
/// history` and layer browsers show where each layer came from. Empty when
/// the engine's account does not match the stage's `layers` (a step that made
/// an empty layer reads like a metadata step): a history that names the wrong
/// layers would be worse than none.
async fn stage_history(
    docker: &Docker,
    stage_id: &str,
    layers: usize,
) -> Result<Vec<serde_json::Value>> {
    let items = docker
        .image_history(stage_id)
        .await
        .map_err(|e| engine_error(&format!("reading the history of {stage_id}"), e))?;
    let entries: Vec<serde_json::Value> = items
        .iter()
        .rev()
        .map(|item| {
            let mut entry = serde_json::json!({
                "created": labels::rfc3339(
                    SystemTime::UNIX_EPOCH + Duration::from_secs(item.created.max(0) as u64)
                ),
                "created_by": item.created_by,
            });
            if !item.comment.is_empty() {
                entry["comment"] = item.comment.clone().into();
            }
            if item.size == 0 {
                entry["empty_layer"] = true.into();
            }
            entry
        })
        .collect();
    let with_layers = items.iter().filter(|item| item.size != 0).count();
    Ok(if with_layers == layers {
        entries
    } else {
        Vec::new()
    })
}

/// An image's `KEY=value` environment with `overrides` set: existing keys are
/// replaced in place, new ones appended.
fn with_env(
    existing: Option<&Vec<serde_json::Value>>,
    overrides: &[(&str, String)],
) -> Vec<String> {
    let mut env: Vec<String> = existing
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for (key, value) in overrides {
        let entry = format!("{key}={value}");
        match env
            .iter_mut()
            .find(|e| e.split_once('=').map(|(k, _)| k) == Some(key))
        {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }
    env
}

/// A build error with the last lines of the build log, which say why, as one
/// line without the terminal colour codes build steps print.
fn build_failure(what: &str, error: &str, log: &[String]) -> Error {
    let tail: Vec<String> = log
        .iter()
        .rev()
        .take(8)
        .rev()
        .map(|line| strip_terminal_codes(line).trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    Error::Build(format!(
        "{what}: {}{}",
        strip_terminal_codes(error.trim()),
        if tail.is_empty() {
            String::new()
        } else {
            format!(" (last build output: {})", tail.join(" | "))
        }
    ))
}

/// Removes ANSI escape sequences (`ESC [ … letter`) and other control characters.
fn strip_terminal_codes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if c == '\n' || c == '\t' {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
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
    fn a_script_dockerfile_is_the_shared_runtime_stage() {
        let dir = tempfile::tempdir().unwrap();
        let first = request(dir.path());
        let dockerfile = render_dockerfile(&first, &HashMap::new());
        assert!(dockerfile.starts_with("# Generated"));
        assert!(dockerfile.contains("FROM jot/julia:test"));
        assert!(dockerfile.contains("COPY runtime/"));
        assert!(!dockerfile.contains("{{"));
        assert!(
            !dockerfile.contains("COPY code/") && !dockerfile.contains("JOT_FUNCTION"),
            "a script's code and environment are jot's own layer and config"
        );
        // Another script, function and argument type: the same stage.
        let other_dir = tempfile::tempdir().unwrap();
        let path = other_dir.path().join("g.jl");
        std::fs::write(&path, "g(s::String) = s\n").unwrap();
        let mut other = first.clone();
        other.responder = Responder::load(&path, None, Some("String")).unwrap();
        assert_eq!(dockerfile, render_dockerfile(&other, &HashMap::new()));
        assert_eq!(
            runtime_stage_key(&first, "sha256:1"),
            runtime_stage_key(&other, "sha256:1")
        );
        assert_ne!(
            runtime_stage_key(&first, "sha256:1"),
            runtime_stage_key(&first, "sha256:2"),
            "a new base image needs a new stage"
        );
        let env = responder_env(&first);
        assert!(env.contains(&("JOT_ARG_TYPE", "Vector{Int}".to_string())));
        assert!(env.contains(&("JOT_RESPONDER_PATH", "/var/task/f.jl".to_string())));
    }

    #[test]
    fn a_package_dockerfile_sets_its_environment_after_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Project.toml"),
            "name = \"Greeter\"\nuuid = \"8f5b7a42-2b55-4a6c-9c53-1d0e1c0f6b11\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("src/Greeter.jl"),
            "module Greeter\ngreet(x) = x\nend\n",
        )
        .unwrap();
        let mut package = request(dir.path());
        package.responder = Responder::load(dir.path(), Some("greet"), None).unwrap();
        let labels = HashMap::from([("dev.jot.function".to_string(), "greet".to_string())]);
        let dockerfile = render_dockerfile(&package, &labels);
        let runtime = dockerfile.find("COPY runtime/").unwrap();
        let env = dockerfile
            .find("ENV JOT_RESPONDER_KIND=\"package\"")
            .unwrap();
        let code = dockerfile.find("COPY code/").unwrap();
        assert!(runtime < env && env < code, "{dockerfile}");
        assert!(dockerfile.contains("_HANDLER=\"Greeter.greet\""));
        assert!(dockerfile.contains("LABEL \"dev.jot.function\"=\"greet\""));
        assert!(!dockerfile.contains("{{"));
    }

    #[test]
    fn environment_overrides_replace_in_place_and_append() {
        let existing = vec![
            serde_json::Value::from("PATH=/usr/bin"),
            serde_json::Value::from("JOT_FUNCTION=old"),
        ];
        let env = with_env(
            Some(&existing),
            &[
                ("JOT_FUNCTION", "new".into()),
                ("JOT_ARG_TYPE", "Dict{String,Int}".into()),
            ],
        );
        assert_eq!(
            env,
            [
                "PATH=/usr/bin",
                "JOT_FUNCTION=new",
                "JOT_ARG_TYPE=Dict{String,Int}"
            ]
        );
        assert_eq!(with_env(None, &[("A", "b=c".into())]), ["A=b=c"]);
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
    fn context_holds_dockerfile_and_runtime_and_the_layer_the_code() {
        let dir = tempfile::tempdir().unwrap();
        let entries = |bytes: Vec<u8>| -> Vec<String> {
            tar::Archive::new(bytes.as_slice())
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
                .collect()
        };
        let context = build_context(&request(dir.path()), &HashMap::new()).unwrap();
        assert_eq!(
            entries(context),
            [
                "Dockerfile",
                "runtime/bootstrap",
                "runtime/runtime.jl",
                "runtime/sysimage.jl"
            ]
        );
        let layer = code_layer(&request(dir.path())).unwrap();
        assert_eq!(entries(layer), ["var/", "var/task/", "var/task/f.jl"]);
    }

    #[test]
    fn notes_stale_base_images() {
        let now = humantime::parse_rfc3339("2026-11-23T00:00:00Z").unwrap();
        let note = stale_base_note("julia:1.12", "2026-09-01T10:20:30.123456789Z", now).unwrap();
        assert_eq!(
            note,
            "note: base image julia:1.12 is 82 days old; rebuild with --pull to get its patches"
        );
        assert!(stale_base_note("julia:1.12", "2026-11-20T00:00:00Z", now).is_none());
        assert!(stale_base_note("julia:1.12", "garbage", now).is_none());
    }

    #[test]
    fn build_failures_are_one_clean_line() {
        let log = vec![
            "\u{1b}[91mUndefVarError: x\n\u{1b}[0m".to_string(),
            "  ".to_string(),
        ];
        let error = build_failure("f:1", "returned 1\n", &log).to_string();
        assert_eq!(
            error,
            "build failed: f:1: returned 1 (last build output: UndefVarError: x)"
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
