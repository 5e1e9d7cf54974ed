//! `--watch`: rebuilds a function whose responder source changed (debounced,
//! through jot-image, the same build as jot-build) and rolls the new image
//! out as a new version; a failed build keeps the old version serving and
//! says why.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jot_image::{BuildRequest, Responder};

use crate::registry::Function;
use crate::service::Service;

/// How often sources are checked, and how long they must stay unchanged
/// before a build starts (editors write a file in several steps).
pub const POLL: Duration = Duration::from_millis(20);
pub const DEBOUNCE: Duration = Duration::from_millis(30);

/// Builds the function's responder again and rolls the image out; returns
/// the version now serving (unchanged when the code is).
pub async fn rebuild(service: &Service, function: &Function) -> jot_core::Result<u64> {
    let info = &function.responder;
    let responder = Responder::load(
        Path::new(&info.source),
        Some(&info.function),
        Some(&info.arg_type),
    )?;
    // A script's dependencies are not in its descriptor: a rebuild under
    // --watch installs none (see docs/reference.md, jot-serve).
    let request = BuildRequest::new(
        responder,
        function.name.clone(),
        function.base_image.clone(),
    );
    let built = jot_image::build(&service.docker, &request).await?;
    let image = built.require_local_image()?;
    service
        .roll_out(&function.name, image.image.clone(), image.id.clone())
        .await
}

/// The newest modification time and total size under `path` (a file or a package tree).
fn fingerprint(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    let mut newest = (meta.modified().ok()?, meta.len());
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).ok()?.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if let Some((modified, size)) = fingerprint(&entry.path()) {
                newest = (newest.0.max(modified), newest.1 + size);
            }
        }
    }
    Some(newest)
}

/// Watches every function's source until the service stops.
pub async fn watch(service: Arc<Service>) {
    let mut stopping = service.stopping.subscribe();
    let functions: Vec<Arc<Function>> = service.functions().cloned().collect();
    let mut seen: Vec<_> = functions
        .iter()
        .map(|f| fingerprint(Path::new(&f.responder.source)))
        .collect();
    loop {
        tokio::select! {
            _ = stopping.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        for (function, last) in functions.iter().zip(seen.iter_mut()) {
            let source = Path::new(&function.responder.source);
            let mut now = fingerprint(source);
            if now == *last {
                continue;
            }
            // Debounce: wait until the source stops changing.
            loop {
                tokio::time::sleep(DEBOUNCE).await;
                let again = fingerprint(source);
                if again == now {
                    break;
                }
                now = again;
            }
            *last = now;
            let current = function.latest().number;
            match rebuild(&service, function).await {
                Ok(version) if version != current => jot_core::output::note(format!(
                    "{}: {} changed; version {version} is serving",
                    function.name,
                    source.display()
                )),
                Ok(_) => {}
                Err(e) => jot_core::output::warn(format!(
                    "warning: rebuilding {} failed, version {current} keeps serving: {e}",
                    function.name
                )),
            }
        }
    }
}
