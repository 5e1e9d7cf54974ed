//! What a build is asked to make, as plain data: the request from the command
//! line and its init and `--compile` options. The build's helpers take the
//! parts of it they need.

use jot_core::limits::Architecture;

use crate::deps::Dependency;
use crate::responder::Responder;

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
    /// The instruction set asked for; the base image must have it.
    pub architecture: Option<Architecture>,
    /// A script's packages, installed in a layer of their own.
    pub deps: Vec<Dependency>,
    /// Registries added before the dependencies are installed (scripts and packages).
    pub registry_urls: Vec<String>,
    /// `--build-arg`s for the builder's runs (not the shared runtime stage's).
    pub build_args: Vec<(String, String)>,
    /// What the runtime does in init before the first event.
    pub init: InitOptions,
    /// `--compile`: the image this builds is the stage the exemplar session
    /// runs (tagged `TAG-exemplar`); [`crate::compile()`] makes the final one.
    pub compile: Option<CompileOptions>,
    /// `--full-sysimage`: the runtime on Julia's default system image (every
    /// stdlib in it), as before the lean system image became the default.
    pub full_sysimage: bool,
}

impl BuildRequest {
    /// A request with every option at its default (derived tag, no pull, no
    /// dependencies): what a rebuild of a known responder starts from.
    pub fn new(responder: Responder, name: String, base_image: String) -> BuildRequest {
        BuildRequest {
            responder,
            name,
            tag: None,
            base_image,
            pull: false,
            force: false,
            architecture: None,
            deps: Vec::new(),
            registry_urls: Vec::new(),
            build_args: Vec::new(),
            init: InitOptions::default(),
            compile: None,
            full_sysimage: false,
        }
    }

    /// The architecture the image is built for: the one asked for, else x86_64
    /// (after [`crate::build()`] has read the base image, the base image's).
    pub fn target_architecture(&self) -> Architecture {
        self.architecture.unwrap_or_default()
    }
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

/// What the exemplar session runs, from `--test-payload` and `--compile-tests`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompileOptions {
    /// The test events (JSON), each sent through the built image.
    pub payloads: Vec<String>,
    /// Also run a package's `test/runtests.jl` while compiling.
    pub tests: bool,
}
