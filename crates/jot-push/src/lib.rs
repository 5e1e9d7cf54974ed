//! `jot-push`: local images into Amazon ECR, joining the Docker engine
//! (`jot-docker`) and ECR (`jot-aws`), which know nothing of each other.
//!
//! For each `local_image` descriptor: make sure the ECR repository exists
//! (created tagged as jot's), skip everything when the repository already
//! holds the image under its tag (fast path), otherwise log in with ECR's
//! token (kept in memory only), tag and push through the engine, and read
//! back the digest ECR stores. The result is a `remote_image` descriptor
//! carrying that digest, which deploys pin.

use jot_aws::Aws;
use jot_aws::ecr::{Ecr, RepositorySettings};
use jot_core::descriptor::{Descriptor, Kind, RemoteImage};
use jot_core::image_ref::{ImageRef, registry_of, validate_registry};
use jot_core::{Error, Result, labels, names, output};
use jot_docker::{Docker, PushProgress};

/// What the command line asks of a push.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Push to this registry host instead of the one ECR reports (emulators, proxies).
    pub registry: Option<String>,
    pub repository: RepositorySettings,
}

/// One checked piece of work: the descriptor and the tag to push as.
pub struct Planned {
    descriptor: Descriptor,
    tag: String,
}

/// Checks every input before any call: the registry and each descriptor's image.
pub fn plan(descriptors: Vec<Descriptor>, options: &PushOptions) -> Result<Vec<Planned>> {
    if let Some(registry) = &options.registry {
        validate_registry("--registry", registry)?;
    }
    descriptors
        .into_iter()
        .map(|descriptor| {
            let local = descriptor.require_local_image()?;
            let tag = ImageRef::parse(&local.image)?.tag_or_latest().to_string();
            names::validate_tag(&tag)?;
            Ok(Planned { descriptor, tag })
        })
        .collect()
}

/// The engine and ECR of one run.
pub struct Pusher {
    docker: Docker,
    aws: Aws,
    ecr: Ecr,
    options: PushOptions,
}

impl Pusher {
    /// Connects; descriptors of another account or region are refused first.
    pub async fn connect(
        options: PushOptions,
        selection: &jot_core::cli::AwsSelection,
        planned: &[Planned],
    ) -> Result<Pusher> {
        let docker = jot_docker::connect().await?;
        let aws = Aws::load(selection).await?;
        aws.check_origin(planned.iter().map(|p| &p.descriptor))
            .await?;
        Ok(Pusher {
            docker,
            aws: aws.clone(),
            ecr: Ecr::new(&aws, options.repository.clone()),
            options,
        })
    }

    /// Checks, before anything is pushed, that the engine has the image and
    /// that its jot labels and tags agree with the descriptor (name, tree
    /// hash, image): a hand-edited descriptor would push another jot's image
    /// into this repository.
    pub async fn check(&self, item: &Planned) -> Result<()> {
        let descriptor = &item.descriptor;
        let local = descriptor.require_local_image()?;
        let inspect = self.inspect(&local.image, &local.id).await?;
        labels::check_image_matches(
            &descriptor.name,
            &descriptor.responder.tree_hash,
            &local.image,
            &inspect.labels,
            &inspect.repo_tags,
        )
        .map_err(|message| Error::InvalidInput(format!("{}: {message}", descriptor.name)))
    }

    /// The local image by id; bad input when the engine does not have it.
    async fn inspect(&self, image: &str, id: &str) -> Result<jot_docker::Image> {
        jot_docker::inspect_image(&self.docker, id)
            .await?
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "local image {image} ({id}) is not in the Docker engine; rebuild it with jot-build"
                ))
            })
    }

    /// Pushes one image ([`Pusher::check`]ed); returns its `remote_image` descriptor.
    pub async fn push(&self, item: Planned) -> Result<Descriptor> {
        let Planned { descriptor, tag } = item;
        let name = descriptor.name.as_str();
        let local = descriptor.require_local_image()?.clone();
        let inspect = self.inspect(&local.image, &local.id).await?;
        let wanted_tags = jot_aws::tags::jot_tags(&descriptor, &tag);
        let repository = self.ecr.repository(name, &wanted_tags).await?;
        let host = self
            .options
            .registry
            .clone()
            .unwrap_or_else(|| registry_of(&repository.uri).to_string());
        let target = format!("{host}/{name}");
        let remote = |digest: String| {
            let mut pushed = descriptor.clone();
            pushed.kind = Kind::RemoteImage;
            pushed.aws = Some(self.aws.origin(repository.registry_id.clone()));
            pushed.remote_image = Some(RemoteImage {
                repository_uri: repository.uri.clone(),
                tag: tag.clone(),
                digest,
            });
            pushed
        };

        // Fast path: the engine knows the digest this image has in the
        // repository, and ECR still holds it under our tag.
        if !repository.created
            && let Some(digest) = jot_docker::repo_digest(&inspect.repo_digests, &target)
            && self.ecr.holds(name, digest, &tag).await?
        {
            output::note(format!(
                "{name}: {}:{tag} already holds {digest}; nothing to push",
                repository.uri
            ));
            return Ok(remote(digest.to_string()));
        }

        if !repository.created {
            self.ecr.adopt(&repository, &wanted_tags).await?;
        }
        let login = self.ecr.login(&host).await?;
        jot_docker::tag_image(&self.docker, &local.id, &target, &tag).await?;
        output::note(format!("{name}: pushing {} to {target}:{tag}", local.image));
        let progress = PushProgress {
            quiet: output::verbosity() == output::Verbosity::Quiet,
        };
        // One platform's manifest, never an index: Lambda refuses indexes.
        let platform = jot_docker::push_platform(
            self.docker.api_version(),
            inspect.os.as_deref().unwrap_or_default(),
            inspect.architecture.as_deref().unwrap_or_default(),
        );
        let pushed =
            jot_docker::push_image(&self.docker, &target, &tag, &login, platform, progress).await?;
        let (digest, media_type) = self.ecr.image_of_tag(name, &tag).await?.ok_or_else(|| {
            Error::Aws {
                failure: jot_core::error::AwsFailure::Other,
                message: format!(
                    "pushed {target}:{tag} but ECR does not list tag {tag} in repository {name}; re-run jot-push"
                ),
            }
        })?;
        if let Some(media_type) = media_type.filter(|m| jot_aws::ecr::is_index(m)) {
            return Err(Error::InvalidInput(format!(
                "{repository}:{tag} in ECR is a multi-platform index ({media_type}), which Lambda refuses; build the image for one platform (no attestations) and push again",
                repository = repository.uri
            )));
        }
        if let Some(pushed) = pushed.filter(|p| *p != digest) {
            output::note(format!(
                "note: the registry reported {pushed} but ECR lists {digest} for {name}:{tag}; using ECR's"
            ));
        }
        output::note(format!("{name}: pushed {}:{tag} {digest}", repository.uri));
        Ok(remote(digest))
    }
}

/// The push settings in effect, for `--show-config`.
pub fn show(
    options: &PushOptions,
    config: Option<&jot_config::Config>,
    selection: &jot_core::cli::AwsSelection,
) -> serde_json::Value {
    serde_json::json!({
        "aws": selection.show(),
        "config": config.map(|c| c.path().display().to_string()),
        "registry": options.registry,
        "scan_on_push": options.repository.scan_on_push,
        "immutable_tags": options.repository.immutable_tags,
    })
}
