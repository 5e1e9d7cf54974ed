//! Amazon ECR for jot-push and the inventory: repositories created tagged as
//! jot's (see [`crate::tags`]), a foreign repository refused unless forced,
//! the digest stored under a tag, and the registry login from ECR's
//! authorization token (kept in memory only, never printed).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecr::types::{
    ImageIdentifier, ImageScanningConfiguration, ImageTagMutability, Repository, Tag,
};
use aws_smithy_types::base64;
use jot_core::image_ref::{RegistryLogin, Secret};
use jot_core::output;

use crate::error::{Context, error_code};
use crate::{Aws, AwsError, Result, tags};

/// How new repositories are made and existing ones adopted.
#[derive(Debug, Clone, Default)]
pub struct RepositorySettings {
    /// New repositories scan images on push (existing ones are switched on).
    pub scan_on_push: bool,
    /// New repositories refuse to overwrite tags (existing ones are switched over).
    pub immutable_tags: bool,
    /// Push into a repository that jot did not create.
    pub force: bool,
}

/// A repository as a push needs it.
#[derive(Debug, Clone)]
pub struct EcrRepository {
    pub name: String,
    pub uri: String,
    /// Created by this call.
    pub created: bool,
    /// The account that holds it, as ECR says.
    pub registry_id: Option<String>,
    repository: Repository,
}

/// ECR with the settings of one run.
pub struct Ecr {
    ecr: aws_sdk_ecr::Client,
    ctx: Context,
    options: RepositorySettings,
}

impl Ecr {
    pub fn new(aws: &Aws, options: RepositorySettings) -> Ecr {
        Ecr {
            ecr: aws.ecr(),
            ctx: aws.context("ECR"),
            options,
        }
    }

    /// The repository `name`, created (tagged with `wanted_tags`) when missing.
    pub async fn repository(
        &self,
        name: &str,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<EcrRepository> {
        let (repository, created) = self.ensure_repository(name, wanted_tags).await?;
        let uri = repository.repository_uri().unwrap_or_default().to_string();
        if uri.is_empty() {
            return Err(AwsError::Other(format!(
                "ECR returned no URI for repository {name}"
            )));
        }
        Ok(EcrRepository {
            name: name.to_string(),
            uri,
            created,
            registry_id: repository.registry_id().map(str::to_string),
            repository,
        })
    }

    /// Before pushing into an existing repository: refuse one jot did not
    /// create (unless forced), refresh its tags and apply the settings.
    pub async fn adopt(
        &self,
        repository: &EcrRepository,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.adopt_repository(&repository.repository, wanted_tags)
            .await
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
    pub async fn holds(&self, name: &str, digest: &str, tag: &str) -> Result<bool> {
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

    /// The digest ECR stores under `tag` and its manifest's media type.
    pub async fn image_of_tag(
        &self,
        name: &str,
        tag: &str,
    ) -> Result<Option<(String, Option<String>)>> {
        let described = self
            .ecr
            .describe_images()
            .repository_name(name)
            .image_ids(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await;
        match described {
            Ok(output) => Ok(output.image_details().iter().find_map(|detail| {
                let media_type = detail.image_manifest_media_type().map(str::to_string);
                detail.image_digest().map(|d| (d.to_string(), media_type))
            })),
            Err(e) if error_code(&e) == Some("ImageNotFoundException") => Ok(None),
            Err(e) => Err(self.ctx.sdk("DescribeImages", e)),
        }
    }

    /// The registry login from ECR's authorization token. The token lives
    /// only in memory for this push; it is never printed or written anywhere.
    pub async fn login(&self, host: &str) -> Result<RegistryLogin> {
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
        Ok(RegistryLogin {
            server: host.to_string(),
            username: username.to_string(),
            password: Secret::new(password),
        })
    }
}

/// A multi-platform index (OCI or Docker's manifest list): Lambda refuses one.
pub fn is_index(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.oci.image.index.v1+json"
            | "application/vnd.docker.distribution.manifest.list.v2+json"
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_told_from_single_manifests() {
        assert!(is_index("application/vnd.oci.image.index.v1+json"));
        assert!(is_index(
            "application/vnd.docker.distribution.manifest.list.v2+json"
        ));
        assert!(!is_index(
            "application/vnd.docker.distribution.manifest.v2+json"
        ));
        assert!(!is_index("application/vnd.oci.image.manifest.v1+json"));
    }
}
