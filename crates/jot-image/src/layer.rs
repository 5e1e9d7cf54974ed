//! The final image of a script written by jot itself: the runtime stage plus
//! one code layer, loaded with `docker load` (no builder run).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use jot_core::error::{Error, Result};
use jot_core::labels;
use jot_docker::{Docker, DockerError, Image, inspect_image};
use sha2::{Digest, Sha256};

use crate::context::code_layer;
use crate::responder::{Responder, hex};
use crate::tarball::append_file;

/// Makes the final image from the runtime stage plus one code layer, with the
/// responder's labels and environment (`env`) in its config, and loads it into the
/// engine (`docker load` of an archive holding only the new layer: the engine
/// already has the others). The image config is derived from the stage and
/// the responder alone, so unchanged code gives the same image id and is not
/// loaded again. Returns the image id.
pub(crate) async fn add_code_layer(
    docker: &Docker,
    stage: Image,
    responder: &Responder,
    env: &[(&str, String)],
    labels: &HashMap<String, String>,
    reference: &str,
) -> Result<String> {
    let layer = code_layer(responder)?;
    let layer_digest = format!("sha256:{}", hex(&Sha256::digest(&layer)));
    let mut diff_ids = stage.layers;
    diff_ids.push(layer_digest.clone());
    let mut config = stage.config;
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
    config["Env"] =
        serde_json::Value::from(with_env(config.get("Env").and_then(|e| e.as_array()), env));
    let created = labels::rfc3339(responder.modified);
    let mut history = stage_history(docker, &stage.id, diff_ids.len() - 1).await?;
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
        && existing.id == image_id
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
    match jot_docker::load_image(docker, archive, reference).await {
        Ok(()) => Ok(image_id),
        Err(DockerError::Failed { message, .. }) => Err(Error::Build(format!(
            "{reference}: loading the code layer failed: {message}"
        ))),
        Err(e) => Err(e.into()),
    }
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
    let items = jot_docker::image_history(docker, stage_id).await?;
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
pub(crate) fn with_env(
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
