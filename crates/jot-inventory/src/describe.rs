//! A jot as the descriptor the other tools read (`jot-ls --json`): the newest
//! local image, the newest ECR image, and the function at its newest version.

use jot_core::descriptor::{
    AwsOrigin, Descriptor, FORMAT_VERSION, FunctionInfo, Kind, LocalImage, RemoteImage,
};

use crate::model::Jot;

/// The descriptor of `jot`; `None` when no part records its responder (a
/// foreign jot), since every descriptor carries one.
pub fn descriptor(jot: &Jot) -> Option<Descriptor> {
    let responder = jot.responder.clone()?;
    let local_image = jot.local.iter().find(|l| l.jot).map(|local| LocalImage {
        image: local
            .references
            .iter()
            .find(|r| r.starts_with(&format!("{}:", jot.name)))
            .unwrap_or(&local.references[0])
            .clone(),
        id: local.id.clone(),
        base_image: None,
        architecture: local.architecture.clone(),
    });
    let remote_image = jot.repository.as_ref().and_then(|repository| {
        // The image $LATEST runs when ECR still holds it, else the newest.
        let latest = jot
            .function
            .as_ref()
            .and_then(|f| f.latest.digest.as_deref());
        let image = repository
            .images
            .iter()
            .find(|i| Some(i.digest.as_str()) == latest)
            .or_else(|| repository.images.first())?;
        Some(RemoteImage {
            repository_uri: repository.uri.clone(),
            tag: image.tags.first().cloned().unwrap_or_default(),
            digest: image.digest.clone(),
        })
    });
    let function = jot.function.as_ref().map(|f| FunctionInfo {
        name: f.name.clone(),
        arn: f.arn.clone(),
        version: f.versions.last().map(|v| v.version.clone()),
        alias: None,
        image_digest: f.latest.digest.clone(),
    });
    let aws = function
        .as_ref()
        .and_then(|f| AwsOrigin::of_arn(&f.arn))
        .or_else(|| {
            remote_image
                .as_ref()
                .and_then(|r| AwsOrigin::of_repository_uri(&r.repository_uri))
        });
    let kind = if function.is_some() {
        Kind::Function
    } else if remote_image.is_some() {
        Kind::RemoteImage
    } else if local_image.is_some() {
        Kind::LocalImage
    } else {
        return None;
    };
    Some(Descriptor {
        jot: FORMAT_VERSION,
        kind,
        name: jot.name.clone(),
        responder,
        local_image,
        remote_image,
        function,
        settings: None,
        aws,
    })
}
