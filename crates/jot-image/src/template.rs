//! The Julia runtime and image template, compiled into every jot-build so an
//! installed binary needs nothing else on disk.

/// The Dockerfile template (placeholders `{{BASE_IMAGE}}`, `{{CPU_TARGET}}`, `{{ARCHITECTURE}}`, `{{DEPENDENCIES}}`, `{{RESPONDER_ENV}}`, `{{CODE}}`).
pub const DOCKERFILE: &str = include_str!("../../../runtime-template/Dockerfile.in");

/// One file of the runtime, copied to `/opt/jot/<path>` in every image.
pub struct RuntimeFile {
    pub path: &'static str,
    pub contents: &'static [u8],
    pub mode: u32,
}

/// Every runtime file (all of `runtime-template/` but the Dockerfile
/// template, the README and tests), listed by the build script.
pub const RUNTIME_FILES: &[RuntimeFile] = include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));

/// The runtime files as hash parts: each path, then its contents.
pub fn hash_parts() -> Vec<&'static [u8]> {
    RUNTIME_FILES
        .iter()
        .flat_map(|f| [f.path.as_bytes(), f.contents])
        .collect()
}
