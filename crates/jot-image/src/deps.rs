//! A script's package dependencies (`--dep Name[@version]`): installed with
//! Pkg into a layer of their own between the shared runtime stage and the
//! code layer, kept as `jot-deps:KEY` with KEY a hash of the stage and the
//! dependency list, so an edit of the script never installs them again.

use jot_core::error::{Error, Result};
use jot_core::names;
use jot_core::output::Step;
use jot_docker::{Docker, Image, inspect_image};
use sha2::{Digest, Sha256};

use crate::builder::{BuildArgs, BuilderRun, run_builder};
use crate::context::dockerfile_context;
use crate::responder::hex;

/// Where dependency stages are kept (one per runtime stage and dependency list).
pub const DEPS_STAGE_REPOSITORY: &str = "jot-deps";

/// The project the dependencies are added to, on the load path of every
/// script image that has some.
pub const DEPS_PROJECT: &str = "/opt/jot/deps";

/// One `--dep`: a registered package, at a version when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    pub version: Option<String>,
}

impl Dependency {
    /// Parses `Name` or `Name@1.2.3` (a version or range Pkg accepts).
    pub fn parse(text: &str) -> Result<Dependency> {
        let (name, version) = match text.split_once('@') {
            Some((name, version)) => (name, Some(version)),
            None => (text, None),
        };
        let name = name.strip_suffix(".jl").unwrap_or(name);
        names::validate_julia_identifier("--dep", name)?;
        if let Some(version) = version {
            let ok = !version.is_empty()
                && version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-+^~=<>, ".contains(c));
            if !ok {
                return Err(Error::InvalidInput(format!(
                    "--dep {text:?}: {version:?} is not a version; use Name or Name@1.2.3"
                )));
            }
        }
        Ok(Dependency {
            name: name.to_string(),
            version: version.map(str::to_string),
        })
    }

    /// Pkg's `PackageSpec(...)` for it.
    fn package_spec(&self) -> String {
        match &self.version {
            Some(v) => format!("PackageSpec(name={:?}, version={:?})", self.name, v),
            None => format!("PackageSpec(name={:?})", self.name),
        }
    }

    /// As written on the command line.
    pub fn display(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Checks a `--registry-url`: a URL Pkg can clone (`https://`, `git://`,
/// `ssh://`, `git@host:path`, `file://` or an absolute path on the build host's
/// engine); no quotes or control characters that could leave the Julia string.
pub fn check_registry_url(url: &str) -> Result<String> {
    let clean = !url.is_empty()
        && !url
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\' || c == '$' || c == '\'');
    if !clean {
        return Err(Error::InvalidInput(format!(
            "--registry-url {url:?} is not a URL Pkg can clone"
        )));
    }
    Ok(url.to_string())
}

/// Checks a `--build-arg K=V`: K a shell variable name.
pub fn parse_build_arg(pair: &str) -> Result<(String, String)> {
    let (key, value) = pair
        .split_once('=')
        .ok_or_else(|| Error::InvalidInput(format!("--build-arg {pair:?} must be NAME=VALUE")))?;
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::InvalidInput(format!(
            "--build-arg name {key:?} must be letters, digits and '_', not starting with a digit"
        )));
    }
    Ok((key.to_string(), value.to_string()))
}

/// The Julia that installs the registries and dependencies with Pkg (run on
/// Julia's default system image, which holds Pkg; the lean one does not).
pub fn install_script(registry_urls: &[String], deps: &[Dependency], project: &str) -> String {
    let mut julia = String::from("using Pkg; ");
    for url in registry_urls {
        julia.push_str(&format!("Pkg.Registry.add(RegistrySpec(url={url:?})); "));
    }
    if !project.is_empty() {
        julia.push_str(&format!("Pkg.activate({project:?}); "));
    }
    if !deps.is_empty() {
        let specs: Vec<String> = deps.iter().map(Dependency::package_spec).collect();
        julia.push_str(&format!("Pkg.add([{}]); ", specs.join(", ")));
    }
    julia
}

/// The Julia that loads each dependency and each standard library the
/// script imports once, on the image's own system image (`bootstrap
/// --julia`), so their caches are in the read-only depot and match it.
pub fn precompile_script(deps: &[Dependency], stdlibs: &[String]) -> String {
    deps.iter()
        .map(|d| d.name.as_str())
        .chain(stdlibs.iter().map(String::as_str))
        .map(|name| format!("using {name}; "))
        .collect()
}

/// `ARG` lines so that `--build-arg`s reach the `RUN` steps as variables.
pub fn arg_lines(build_args: &[(String, String)]) -> String {
    build_args
        .iter()
        .map(|(k, _)| format!("ARG {k}\n"))
        .collect()
}

/// Pkg before Julia 1.6 insists on a download program (curl, wget…) even
/// when every package is cloned with git (archives are fetched only from
/// GitHub, and it falls back to git when that fails). A base image without
/// one gets a stand-in that always fails, for the install step only, so
/// git-hosted packages install; one that needs a real download (artifacts)
/// still fails with Pkg's own message.
const NO_DOWNLOADER_DIR: &str = "/tmp/jot-no-download";
const NO_DOWNLOADER_STUB: &str = "{ command -v curl || command -v wget; } >/dev/null || { mkdir -p /tmp/jot-no-download && printf '#!/bin/sh\\nexit 1\\n' >/tmp/jot-no-download/curl && chmod +x /tmp/jot-no-download/curl; } && ";

/// What a dependency stage is made of: the `--dep`s, the registries they
/// come from, the `--build-arg`s of the install step and the standard
/// libraries the script imports that the lean system image lacks.
#[derive(Debug, Clone, Copy)]
pub struct DepsSpec<'a> {
    pub deps: &'a [Dependency],
    pub registry_urls: &'a [String],
    pub build_args: &'a [(String, String)],
    pub stdlibs: &'a [String],
}

/// The Dockerfile of a dependency stage on top of `stage`: the `--dep`s
/// installed with Pkg, then they and the standard libraries the script imports
/// (those outside the lean system image) precompiled for the image's own.
pub fn deps_dockerfile(spec: DepsSpec, stage: &str) -> String {
    let mut text = format!(
        "# Generated by jot-build: a script's dependencies, on the shared runtime stage.\nFROM {stage}\n{}",
        arg_lines(spec.build_args)
    );
    // One step, so one layer: the install (when there are `--dep`s), then the caches.
    let precompile = format!(
        "JULIA_DEPOT_PATH=/opt/jot/depot JULIA_LOAD_PATH=@:{DEPS_PROJECT}:@stdlib /opt/jot/bootstrap --julia -e '{}'",
        precompile_script(spec.deps, spec.stdlibs)
    );
    if spec.deps.is_empty() {
        text.push_str(&format!("RUN {precompile}\n"));
    } else {
        let julia = install_script(spec.registry_urls, spec.deps, DEPS_PROJECT);
        text.push_str(&format!(
            "RUN {NO_DOWNLOADER_STUB}PATH={NO_DOWNLOADER_DIR}:$PATH JULIA_DEPOT_PATH=/opt/jot/depot julia --startup-file=no --history-file=no -e '{julia}' && rm -rf {NO_DOWNLOADER_DIR} && {precompile}\n"
        ));
        text.push_str(&format!("ENV JULIA_LOAD_PATH=@:{DEPS_PROJECT}:@stdlib\n"));
    }
    text
}

/// The key of the dependency stage: the runtime stage's id, the rendered
/// Dockerfile (dependencies, registries, argument names) and the argument
/// values. (The Dockerfile itself names the stage by tag, which is itself a
/// hash of what the stage is built from.)
pub fn deps_stage_key(spec: DepsSpec, stage_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(deps_dockerfile(spec, stage_id));
    for (k, v) in spec.build_args {
        hasher.update([0]);
        hasher.update(format!("{k}={v}"));
    }
    hex(&hasher.finalize())[..16].to_string()
}

/// The dependency stage for a script with `--dep`s: the image tagged with its
/// key when the engine has it, else built on `stage` now.
pub(crate) async fn deps_stage(docker: &Docker, spec: DepsSpec<'_>, stage: Image) -> Result<Image> {
    if spec.deps.is_empty() && spec.stdlibs.is_empty() {
        return Ok(stage);
    }
    let stage_id = stage.id.clone();
    // FROM names the stage by its tag (which the engine resolves locally).
    let stage_ref = stage
        .repo_tags
        .first()
        .cloned()
        .unwrap_or_else(|| stage_id.clone());
    let reference = format!(
        "{DEPS_STAGE_REPOSITORY}:{}",
        deps_stage_key(spec, &stage_id)
    );
    if let Some(existing) = inspect_image(docker, &reference).await? {
        return Ok(existing);
    }
    let mut listed: Vec<String> = spec.deps.iter().map(Dependency::display).collect();
    listed.extend(spec.stdlibs.iter().cloned());
    let step = Step::start(format!(
        "installing {} into {reference} (once per dependency list)",
        listed.join(", ")
    ));
    let run = BuilderRun {
        context: dockerfile_context(&deps_dockerfile(spec, &stage_ref))?,
        reference,
        args: BuildArgs::Request(spec.build_args.to_vec()),
    };
    let built = run_builder(docker, run, &step).await;
    step.finish();
    built
}
