//! `jot-push`: local images into Amazon ECR.
//!
//! For each `local_image` descriptor: make sure the ECR repository exists
//! (created tagged as jot's, see [`crate::tags`]), skip everything when the
//! repository already holds the image (fast path), otherwise get an
//! authorization token (kept in memory only), tag and push through the Docker
//! engine with a progress bar per layer, and read back the digest ECR stores.
//! Prints a `remote_image` descriptor carrying that digest, which deploys pin.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use aws_sdk_ecr::types::{
    ImageIdentifier, ImageScanningConfiguration, ImageTagMutability, Repository, Tag,
};
use aws_smithy_types::base64;
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{PushImageOptions, TagImageOptions};
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar};
use jot_core::descriptor::{self, Descriptor, Kind, RemoteImage};
use jot_core::{names, output};

use crate::error::{Context, error_code};
use crate::{Aws, AwsError, Result, tags};

/// What the command line asks of a push.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Push to this registry host instead of the one ECR reports (emulators, proxies).
    pub registry: Option<String>,
    /// New repositories scan images on push (existing ones are switched on).
    pub scan_on_push: bool,
    /// New repositories refuse to overwrite tags (existing ones are switched over).
    pub immutable_tags: bool,
    /// Push into a repository that jot did not create.
    pub force: bool,
}

/// One checked piece of work: the descriptor and the tag to push as.
struct Planned {
    descriptor: Descriptor,
    tag: String,
}

/// Pushes every descriptor in order, printing each `remote_image` descriptor as
/// soon as its image is in ECR. Every input is checked before the first call.
pub async fn push_all(
    descriptors: Vec<Descriptor>,
    options: &PushOptions,
    out: &mut impl Write,
) -> Result<()> {
    if let Some(registry) = &options.registry {
        validate_registry(registry)?;
    }
    let planned = descriptors
        .into_iter()
        .map(plan)
        .collect::<Result<Vec<_>>>()?;
    let docker = jot_core::docker::connect().await?;
    let aws = Aws::load().await?;
    let pusher = Pusher {
        ecr: aws.ecr(),
        ctx: aws.context("ECR"),
        docker,
        options: options.clone(),
    };
    for item in planned {
        let pushed = pusher.push(item).await?;
        descriptor::write_line(out, &pushed)?;
    }
    Ok(())
}

fn plan(descriptor: Descriptor) -> Result<Planned> {
    let local = descriptor.require_local_image()?;
    let tag = tag_of(&local.image).unwrap_or("latest").to_string();
    names::validate_tag(&tag)?;
    Ok(Planned { descriptor, tag })
}

/// The tag of an image reference (`repo:tag`, `host:port/repo:tag`), if any.
pub fn tag_of(reference: &str) -> Option<&str> {
    let name = reference.split('@').next().unwrap_or(reference);
    match name.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => Some(tag),
        _ => None,
    }
}

/// `--registry` must be a host with an optional port, as Docker names registries.
pub fn validate_registry(registry: &str) -> Result<()> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || registry.starts_with('[') => {
            (host, Some(port))
        }
        _ => (registry, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if registry.contains("://") || registry.contains('/') || !host_ok || !port_ok {
        return Err(AwsError::InvalidInput(format!(
            "--registry {registry:?} is not a registry host; give HOST or HOST:PORT (no scheme, no path), e.g. 127.0.0.1:4566"
        )));
    }
    Ok(())
}

/// The registry host of a repository URI (`host/repo` → `host`).
pub fn registry_of(repository_uri: &str) -> &str {
    repository_uri.split('/').next().unwrap_or(repository_uri)
}

/// The digest recorded by the engine for `image` in `repository` (a
/// `host/name` reference), from the local image's RepoDigests.
pub fn repo_digest<'a>(repo_digests: &'a [String], repository: &str) -> Option<&'a str> {
    repo_digests.iter().find_map(|entry| {
        entry
            .split_once('@')
            .filter(|(repo, _)| *repo == repository)
            .map(|(_, digest)| digest)
    })
}

/// The manifest digest in a push's final status line
/// (`TAG: digest: sha256:… size: N`).
pub fn digest_in_status(status: &str) -> Option<&str> {
    let (_, rest) = status.split_once("digest: ")?;
    let digest = rest.split_whitespace().next()?;
    digest.starts_with("sha256:").then_some(digest)
}

struct Pusher {
    ecr: aws_sdk_ecr::Client,
    ctx: Context,
    docker: Docker,
    options: PushOptions,
}

impl Pusher {
    async fn push(&self, item: Planned) -> Result<Descriptor> {
        let Planned { descriptor, tag } = item;
        let name = descriptor.name.as_str();
        let local = descriptor.require_local_image()?.clone();
        let inspect = jot_core::docker::inspect_image(&self.docker, &local.id)
            .await?
            .ok_or_else(|| {
                AwsError::InvalidInput(format!(
                    "local image {} ({}) is not in the Docker engine; rebuild it with jot-build",
                    local.image, local.id
                ))
            })?;
        let wanted_tags = tags::jot_tags(&descriptor, &tag);
        let (repository, created) = self.ensure_repository(name, &wanted_tags).await?;
        let repository_uri = repository.repository_uri().unwrap_or_default().to_string();
        if repository_uri.is_empty() {
            return Err(AwsError::Other(format!(
                "ECR returned no URI for repository {name}"
            )));
        }
        let host = self
            .options
            .registry
            .clone()
            .unwrap_or_else(|| registry_of(&repository_uri).to_string());
        let target = format!("{host}/{name}");
        let remote = |digest: String| {
            let mut pushed = descriptor.clone();
            pushed.kind = Kind::RemoteImage;
            pushed.remote_image = Some(RemoteImage {
                repository_uri: repository_uri.clone(),
                tag: tag.clone(),
                digest,
            });
            pushed
        };

        // Fast path: the engine knows the digest this image has in the
        // repository, and ECR still holds it under our tag.
        let repo_digests = inspect.repo_digests.unwrap_or_default();
        if !created
            && let Some(digest) = repo_digest(&repo_digests, &target)
            && self.holds(name, digest, &tag).await?
        {
            output::note(format!(
                "{name}: {repository_uri}:{tag} already holds {digest}; nothing to push"
            ));
            return Ok(remote(digest.to_string()));
        }

        if !created {
            self.adopt_repository(&repository, &wanted_tags).await?;
        }
        let credentials = self.credentials(&host).await?;
        self.docker
            .tag_image(
                &local.id,
                Some(TagImageOptions {
                    repo: Some(target.clone()),
                    tag: Some(tag.clone()),
                }),
            )
            .await
            .map_err(|e| jot_core::docker::engine_error(&format!("tagging {target}:{tag}"), e))?;
        output::note(format!("{name}: pushing {} to {target}:{tag}", local.image));
        let pushed = push_with_progress(&self.docker, &target, &tag, credentials).await?;
        let digest = self.digest_of_tag(name, &tag).await?.ok_or_else(|| {
            AwsError::Other(format!(
                "pushed {target}:{tag} but ECR does not list tag {tag} in repository {name}; re-run jot-push"
            ))
        })?;
        if let Some(pushed) = pushed.filter(|p| *p != digest) {
            output::note(format!(
                "note: the registry reported {pushed} but ECR lists {digest} for {name}:{tag}; using ECR's"
            ));
        }
        output::note(format!("{name}: pushed {repository_uri}:{tag} {digest}"));
        Ok(remote(digest))
    }

    /// The repository, created (tagged as jot's) when missing. The flag says
    /// whether this call created it.
    async fn ensure_repository(
        &self,
        name: &str,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<(Repository, bool)> {
        if let Some(repository) = self.describe_repository(name).await? {
            return Ok((repository, false));
        }
        let created = self
            .ecr
            .create_repository()
            .repository_name(name)
            .set_tags(Some(ecr_tags(wanted_tags)?))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(self.options.scan_on_push)
                    .build(),
            )
            .image_tag_mutability(mutability(self.options.immutable_tags))
            .send()
            .await;
        match created {
            Ok(output) => {
                output::note(format!("{name}: created ECR repository"));
                let repository = output.repository.ok_or_else(|| {
                    AwsError::Other(format!(
                        "ECR created repository {name} but returned nothing"
                    ))
                })?;
                Ok((repository, true))
            }
            // Created meanwhile by another jot-push: use it as an existing one.
            Err(e) if error_code(&e) == Some("RepositoryAlreadyExistsException") => {
                let repository = self.describe_repository(name).await?.ok_or_else(|| {
                    AwsError::Other(format!(
                        "ECR repository {name} exists but cannot be described"
                    ))
                })?;
                Ok((repository, false))
            }
            Err(e) => Err(self.ctx.sdk("CreateRepository", e)),
        }
    }

    async fn describe_repository(&self, name: &str) -> Result<Option<Repository>> {
        match self
            .ecr
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
        {
            Ok(output) => Ok(output.repositories.unwrap_or_default().into_iter().next()),
            Err(e) if error_code(&e) == Some("RepositoryNotFoundException") => Ok(None),
            Err(e) => Err(self.ctx.sdk("DescribeRepositories", e)),
        }
    }

    /// Before pushing into an existing repository: refuse one jot did not
    /// create (unless `--force`), refresh its tags, and apply the requested
    /// scan and tag-mutability settings.
    async fn adopt_repository(
        &self,
        repository: &Repository,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<()> {
        let name = repository.repository_name().unwrap_or_default();
        let arn = repository.repository_arn().unwrap_or_default();
        let current: HashMap<String, String> = self
            .ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| self.ctx.sdk("ListTagsForResource", e))?
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect();
        if !tags::is_jot(Some(&current)) && !self.options.force {
            return Err(AwsError::NotJot(format!(
                "ECR repository {name} exists but was not created by jot (it has no {} tag); pass --force to push into it anyway",
                jot_core::labels::JOT_NAME
            )));
        }
        let stale = wanted_tags.iter().any(|(k, v)| current.get(k) != Some(v));
        if stale {
            self.ecr
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(ecr_tags(wanted_tags)?))
                .send()
                .await
                .map_err(|e| self.ctx.sdk("TagResource", e))?;
        }
        let scanning = repository
            .image_scanning_configuration()
            .is_some_and(|c| c.scan_on_push());
        if self.options.scan_on_push && !scanning {
            self.ecr
                .put_image_scanning_configuration()
                .repository_name(name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.ctx.sdk("PutImageScanningConfiguration", e))?;
        }
        let immutable = repository.image_tag_mutability() == Some(&ImageTagMutability::Immutable);
        if self.options.immutable_tags && !immutable {
            self.ecr
                .put_image_tag_mutability()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::Immutable)
                .send()
                .await
                .map_err(|e| self.ctx.sdk("PutImageTagMutability", e))?;
        }
        Ok(())
    }

    /// Whether the repository holds `digest` under `tag`.
    async fn holds(&self, name: &str, digest: &str, tag: &str) -> Result<bool> {
        let described = self
            .ecr
            .describe_images()
            .repository_name(name)
            .image_ids(ImageIdentifier::builder().image_digest(digest).build())
            .send()
            .await;
        match described {
            Ok(output) => Ok(output.image_details().iter().any(|detail| {
                detail.image_digest() == Some(digest)
                    && detail.image_tags().iter().any(|t| t == tag)
            })),
            Err(e) if error_code(&e) == Some("ImageNotFoundException") => Ok(false),
            Err(e) => Err(self.ctx.sdk("DescribeImages", e)),
        }
    }

    /// The digest ECR stores under `tag`, if the tag exists.
    async fn digest_of_tag(&self, name: &str, tag: &str) -> Result<Option<String>> {
        let described = self
            .ecr
            .describe_images()
            .repository_name(name)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        match described {
            Ok(output) => Ok(output
                .image_details()
                .iter()
                .find_map(|detail| detail.image_digest().map(str::to_string))),
            Err(e) if error_code(&e) == Some("ImageNotFoundException") => Ok(None),
            Err(e) => Err(self.ctx.sdk("DescribeImages", e)),
        }
    }

    /// Registry credentials from ECR's authorization token. The token lives
    /// only in memory for this push; it is never printed or written anywhere.
    async fn credentials(&self, host: &str) -> Result<DockerCredentials> {
        let output = self
            .ecr
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| self.ctx.sdk("GetAuthorizationToken", e))?;
        let token = output
            .authorization_data()
            .iter()
            .find_map(|data| data.authorization_token())
            .ok_or_else(|| AwsError::Other("ECR returned no authorization token".into()))?;
        let decoded = base64::decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                AwsError::Other("ECR's authorization token is not base64 text".into())
            })?;
        let (username, password) = decoded.split_once(':').ok_or_else(|| {
            AwsError::Other("ECR's authorization token is not USER:PASSWORD".into())
        })?;
        Ok(DockerCredentials {
            username: Some(username.to_string()),
            password: Some(password.to_string()),
            serveraddress: Some(host.to_string()),
            ..Default::default()
        })
    }
}

fn mutability(immutable: bool) -> ImageTagMutability {
    if immutable {
        ImageTagMutability::Immutable
    } else {
        ImageTagMutability::Mutable
    }
}

fn ecr_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(key, value)| {
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| AwsError::Other(format!("ECR tag {key}: {e}")))
        })
        .collect()
}

/// Pushes `target:tag` with a bar per layer on stderr (hidden when stderr is
/// not a terminal) and returns the manifest digest the registry reported.
///
/// Docker's push stream names each layer by an `id`, but bollard 0.19's
/// `PushImageInfo` drops that field, so layers are told apart by their size
/// (`progressDetail.total`), which is unique in practice.
async fn push_with_progress(
    docker: &Docker,
    target: &str,
    tag: &str,
    credentials: DockerCredentials,
) -> Result<Option<String>> {
    let progress = if output::stderr_is_terminal() {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let overall = progress.add(output::spinner(format!("{target}:{tag}")));
    let mut layers: HashMap<i64, ProgressBar> = HashMap::new();
    let mut digest = None;
    let mut stream = docker.push_image(
        target,
        Some(PushImageOptions {
            tag: Some(tag.to_string()),
            platform: None,
        }),
        Some(credentials),
    );
    let refused = |message: String| {
        AwsError::Other(format!(
            "the registry refused the push of {target}:{tag}: {}",
            message.lines().next().unwrap_or_default()
        ))
    };
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(refused(error));
            }
            Err(e) => {
                return Err(
                    jot_core::docker::engine_error(&format!("pushing {target}:{tag}"), e).into(),
                );
            }
        };
        if let Some(message) = event.error_detail.and_then(|d| d.message).or(event.error) {
            return Err(refused(message));
        }
        let status = event.status.unwrap_or_default();
        if let Some(found) = digest_in_status(&status) {
            digest = Some(found.to_string());
        }
        match event.progress_detail {
            Some(detail) if status == "Pushing" => {
                let (Some(current), Some(total)) = (detail.current, detail.total) else {
                    continue;
                };
                let bar = layers.entry(total).or_insert_with(|| {
                    let prefix = format!("layer {}", layers_len_hint(total));
                    progress.add(output::byte_bar(prefix, total.max(0) as u64))
                });
                bar.set_position(current.max(0) as u64);
            }
            _ => overall.set_message(status),
        }
    }
    for bar in layers.values() {
        bar.finish();
    }
    overall.finish_and_clear();
    Ok(digest)
}

/// A short human label for a layer known only by its size.
fn layers_len_hint(total: i64) -> String {
    let mb = total as f64 / 1_000_000.0;
    format!("{mb:>7.1} MB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_of_references() {
        assert_eq!(tag_of("increment-vector:0123abc"), Some("0123abc"));
        assert_eq!(tag_of("127.0.0.1:4566/name:t1"), Some("t1"));
        assert_eq!(tag_of("127.0.0.1:4566/name"), None);
        assert_eq!(tag_of("name@sha256:00"), None);
    }

    #[test]
    fn registry_hosts() {
        for good in ["127.0.0.1:4566", "registry.example.com", "[::1]:5000"] {
            assert!(validate_registry(good).is_ok(), "{good}");
        }
        for bad in [
            "http://127.0.0.1:4566",
            "host/path",
            "",
            "host:",
            "host:99999",
            "a b",
        ] {
            let err = validate_registry(bad).unwrap_err();
            assert_eq!(jot_core::Error::from(err).exit_code(), 5, "{bad}");
        }
        assert_eq!(
            registry_of("123456789012.dkr.ecr.us-east-1.amazonaws.com/name"),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn digests_from_the_engine_and_the_stream() {
        let digests = vec![
            "other/name@sha256:aa".to_string(),
            "127.0.0.1:4566/name@sha256:bb".to_string(),
        ];
        assert_eq!(
            repo_digest(&digests, "127.0.0.1:4566/name"),
            Some("sha256:bb")
        );
        assert_eq!(repo_digest(&digests, "127.0.0.1:4566/nam"), None);
        assert_eq!(
            digest_in_status("t1: digest: sha256:0123 size: 1573"),
            Some("sha256:0123")
        );
        assert_eq!(digest_in_status("Pushed"), None);
    }
}
