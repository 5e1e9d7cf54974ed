//! Tags derived from content: an unchanged responder keeps its tag and image,
//! any change is a new version; the runtime stage is keyed the same way.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::dockerfile::render_dockerfile;
use crate::request::{BuildRequest, CompileOptions, InitOptions};
use crate::responder::hex;
use crate::template;

/// The default tag: a short hash of everything that decides the image's
/// content, so an unchanged responder keeps its tag and any change gets a new one.
pub fn derive_tag(request: &BuildRequest, base_image_id: &str) -> String {
    let info = &request.responder.info;
    let mut parts: Vec<&[u8]> = vec![
        info.tree_hash.as_bytes(),
        info.function.as_bytes(),
        info.arg_type.as_bytes(),
        template::DOCKERFILE.as_bytes(),
    ];
    parts.extend(template::hash_parts());
    parts.push(base_image_id.as_bytes());
    // What init does is part of the image's config.
    let init = init_input(&request.init);
    parts.push(init.as_bytes());
    // So is the exemplar of a compiled image.
    let compile = compile_input(request.compile.as_ref());
    parts.push(compile.as_bytes());
    parts.push(request.target_architecture().lambda_name().as_bytes());
    // And the system image the runtime starts from.
    if request.full_sysimage {
        parts.push(b"full-sysimage");
    }
    content_hash(&parts, 12)
}

/// The init options as the tag hashes them. The text is spelled out here, in
/// the form tags were first derived from (a Rust debug rendering), so that
/// renaming or reordering a field of [`InitOptions`] changes no tag; a new
/// option that changes the image must be added here.
pub(crate) fn init_input(init: &InitOptions) -> String {
    let payload = match &init.warmup_payload {
        Some(payload) => format!("Some({})", quoted(payload)),
        None => "None".to_string(),
    };
    format!(
        "InitOptions {{ warmup_payload: {payload}, warmup_always: {} }}",
        init.warmup_always
    )
}

/// The `--compile` options as the tag hashes them (see [`init_input`]).
pub(crate) fn compile_input(compile: Option<&CompileOptions>) -> String {
    let Some(compile) = compile else {
        return "None".to_string();
    };
    let payloads: Vec<String> = compile.payloads.iter().map(|p| quoted(p)).collect();
    format!(
        "Some(CompileOptions {{ payloads: [{}], tests: {} }})",
        payloads.join(", "),
        compile.tests
    )
}

/// `text` in double quotes, with `"`, `\`, tab, CR, LF and NUL escaped by a
/// backslash and other control characters as `\u{hex}` (printable text as is).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The first `len` hex digits of a hash of `parts`, each ended by a NUL so
/// that moving text from one part to the next changes the hash.
fn content_hash(parts: &[&[u8]], len: usize) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0]);
    }
    hex(&hasher.finalize())[..len].to_string()
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
    let mut parts: Vec<&[u8]> = vec![dockerfile.as_bytes()];
    parts.extend(template::hash_parts());
    parts.push(base_image_id.as_bytes());
    content_hash(&parts, 16)
}
