//! Listing what exists in ECR and Lambda, for `jot-ls` and `jot-rm`: every
//! repository with its images (digest, tags, push time, size) and tags, every
//! function with its tags, `$LATEST`, published versions and aliases, and the
//! image digest each of them runs.
//!
//! Every page is followed to the end; calls run concurrently but never more
//! than [`Lister::limit`] at once (one semaphore for all of them); a
//! throttled call waits and is repeated (see [`crate::retry::on_throttling`]).
//! ECR and Lambda are listed independently, so one failing service does not
//! hide the other.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::future::{join_all, try_join_all};
use tokio::sync::Semaphore;

use crate::error::Context;
use crate::{Aws, AwsError, Result, retry, tags};

/// Calls in flight at once by default: enough to hide the latency of a
/// remote endpoint, few enough not to be throttled.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// An image in an ECR repository.
#[derive(Debug, Clone, PartialEq)]
pub struct EcrImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: Option<SystemTime>,
    pub size: Option<i64>,
}

/// An ECR repository with its (decoded) tags and images.
#[derive(Debug, Clone)]
pub struct RepositoryListing {
    pub name: String,
    pub uri: String,
    pub tags: HashMap<String, String>,
    pub images: Vec<EcrImage>,
}

/// A published version (or `$LATEST`) and the digest its image resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionListing {
    pub version: String,
    /// `sha256:…`; `None` when Lambda did not say.
    pub digest: Option<String>,
    pub image_uri: Option<String>,
    pub last_modified: String,
}

/// An alias: the version it points at and any weighted extra versions.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasListing {
    pub name: String,
    pub version: String,
    pub weights: Vec<(String, f64)>,
}

/// A Lambda function with what its versions and aliases pin.
#[derive(Debug, Clone)]
pub struct FunctionListing {
    pub name: String,
    pub arn: String,
    pub tags: HashMap<String, String>,
    pub state: String,
    pub memory: Option<i32>,
    pub timeout: Option<i32>,
    pub role: String,
    pub latest: VersionListing,
    /// Published versions, oldest first; empty for foreign functions unless asked.
    pub versions: Vec<VersionListing>,
    pub aliases: Vec<AliasListing>,
}

impl FunctionListing {
    /// True when jot's tags mark the function as jot's.
    pub fn is_jot(&self) -> bool {
        tags::is_jot(Some(&self.tags))
    }
}

/// Lists ECR and Lambda with a bound on calls in flight.
pub struct Lister {
    ecr: aws_sdk_ecr::Client,
    lambda: aws_sdk_lambda::Client,
    ecr_ctx: Context,
    lambda_ctx: Context,
    permits: Arc<Semaphore>,
    limit: usize,
}

/// Which names to look at closely (the rest costs one list call per page).
pub type NameFilter<'a> = &'a (dyn Fn(&str) -> bool + Sync);

impl Lister {
    pub fn new(aws: &Aws, limit: usize) -> Lister {
        let limit = limit.max(1);
        Lister {
            ecr: aws.ecr(),
            lambda: aws.lambda(),
            ecr_ctx: aws.context("ECR"),
            lambda_ctx: aws.context("Lambda"),
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// Calls in flight at most.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Runs one call under a permit, repeating it while it is throttled.
    async fn call<T, E, R, F, Fut>(
        &self,
        what: &str,
        call: F,
    ) -> Result<T, aws_sdk_lambda::error::SdkError<E, R>>
    where
        E: aws_sdk_lambda::error::ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, aws_sdk_lambda::error::SdkError<E, R>>>,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore is never closed");
        retry::on_throttling(what, call).await
    }

    /// Every repository whose name passes `wanted`, with tags and images.
    pub async fn repositories(&self, wanted: NameFilter<'_>) -> Result<Vec<RepositoryListing>> {
        let mut found = Vec::new();
        all_pages(
            |token| async move {
                self.call("DescribeRepositories", || {
                    self.ecr
                        .describe_repositories()
                        .set_next_token(token.clone())
                        .max_results(1000)
                        .send()
                })
                .await
                .map_err(|e| self.ecr_ctx.sdk("DescribeRepositories", e))
            },
            |page| {
                for repository in page.repositories() {
                    let name = repository.repository_name().unwrap_or_default();
                    if wanted(name) {
                        found.push((
                            name.to_string(),
                            repository.repository_uri().unwrap_or_default().to_string(),
                            repository.repository_arn().unwrap_or_default().to_string(),
                        ));
                    }
                }
                page.next_token().map(str::to_string)
            },
        )
        .await?;
        let listed = found.into_iter().map(|(name, uri, arn)| async move {
            match tokio::try_join!(self.repository_tags(&arn), self.images(&name)) {
                Ok((tags, images)) => Ok(Some(RepositoryListing {
                    name,
                    uri,
                    tags,
                    images,
                })),
                // Deleted between the list and the read: it is not there.
                Err(e) if e.code() == Some("RepositoryNotFoundException") => Ok(None),
                Err(e) => Err(e),
            }
        });
        let mut repositories: Vec<RepositoryListing> =
            try_join_all(listed).await?.into_iter().flatten().collect();
        repositories.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(repositories)
    }

    async fn repository_tags(&self, arn: &str) -> Result<HashMap<String, String>> {
        let output = self
            .call("ListTagsForResource", || {
                self.ecr.list_tags_for_resource().resource_arn(arn).send()
            })
            .await
            .map_err(|e| self.ecr_ctx.sdk("ListTagsForResource", e))?;
        Ok(decoded(
            output
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        ))
    }

    /// Every image of a repository, newest push first.
    pub async fn images(&self, repository: &str) -> Result<Vec<EcrImage>> {
        let mut images = Vec::new();
        all_pages(
            |token| async move {
                self.call("DescribeImages", || {
                    self.ecr
                        .describe_images()
                        .repository_name(repository)
                        .set_next_token(token.clone())
                        .max_results(1000)
                        .send()
                })
                .await
                .map_err(|e| self.ecr_ctx.sdk("DescribeImages", e))
            },
            |page| {
                for detail in page.image_details() {
                    let Some(digest) = detail.image_digest() else {
                        continue;
                    };
                    images.push(EcrImage {
                        digest: digest.to_string(),
                        tags: detail.image_tags().to_vec(),
                        pushed_at: detail
                            .image_pushed_at()
                            .and_then(|t| SystemTime::try_from(*t).ok()),
                        size: detail.image_size_in_bytes(),
                    });
                }
                page.next_token().map(str::to_string)
            },
        )
        .await?;
        images.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then(a.digest.cmp(&b.digest)));
        Ok(images)
    }

    /// Every function whose name passes `wanted`; versions and aliases are
    /// read for jot's functions (and for the others when `foreign_too`).
    pub async fn functions(
        &self,
        wanted: NameFilter<'_>,
        foreign_too: bool,
    ) -> Result<Vec<FunctionListing>> {
        let names = self.function_names(wanted).await?;
        let listed = names.iter().map(|name| self.function(name, foreign_too));
        let mut functions: Vec<FunctionListing> = join_all(listed)
            .await
            .into_iter()
            // A function deleted between the list and the read is not there.
            .filter_map(|r| r.transpose())
            .collect::<Result<_>>()?;
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(functions)
    }

    /// The names of every function (all pages), filtered.
    pub async fn function_names(&self, wanted: NameFilter<'_>) -> Result<Vec<String>> {
        let mut names = Vec::new();
        all_pages(
            |marker| async move {
                self.call("ListFunctions", || {
                    self.lambda
                        .list_functions()
                        .set_marker(marker.clone())
                        .max_items(50)
                        .send()
                })
                .await
                .map_err(|e| self.lambda_ctx.sdk("ListFunctions", e))
            },
            |page| {
                names.extend(
                    page.functions()
                        .iter()
                        .filter_map(|f| f.function_name())
                        .filter(|n| wanted(n))
                        .map(str::to_string),
                );
                page.next_marker().map(str::to_string)
            },
        )
        .await?;
        Ok(names)
    }

    /// One function: `None` when it no longer exists.
    pub async fn function(&self, name: &str, foreign_too: bool) -> Result<Option<FunctionListing>> {
        let Some(latest) = self.get_function(name, None).await? else {
            return Ok(None);
        };
        let config = latest.configuration();
        let tags = decoded(
            latest
                .tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let mut function = FunctionListing {
            name: name.to_string(),
            arn: config
                .and_then(|c| c.function_arn())
                .unwrap_or_default()
                .to_string(),
            state: config
                .and_then(|c| c.state())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            memory: config.and_then(|c| c.memory_size()),
            timeout: config.and_then(|c| c.timeout()),
            role: config
                .and_then(|c| c.role())
                .unwrap_or_default()
                .to_string(),
            latest: version_of(&latest, "$LATEST"),
            tags,
            versions: Vec::new(),
            aliases: Vec::new(),
        };
        if function.is_jot() || foreign_too {
            match tokio::try_join!(self.versions(name), self.aliases(name)) {
                Ok((versions, aliases)) => {
                    function.versions = versions;
                    function.aliases = aliases;
                }
                // Deleted between the reads: it is not there.
                Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Some(function))
    }

    async fn get_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<aws_sdk_lambda::operation::get_function::GetFunctionOutput>> {
        let answer = self
            .call("GetFunction", || {
                self.lambda
                    .get_function()
                    .function_name(name)
                    .set_qualifier(qualifier.map(str::to_string))
                    .send()
            })
            .await;
        match answer {
            Ok(output) => Ok(Some(output)),
            Err(e) if crate::error::error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(self.lambda_ctx.sdk("GetFunction", e)),
        }
    }

    /// Published versions, oldest first, each with the digest it runs: from
    /// `CodeSha256` when Lambda gives the image digest there, else from the
    /// version's own GetFunction.
    async fn versions(&self, name: &str) -> Result<Vec<VersionListing>> {
        let mut listed = Vec::new();
        all_pages(
            |marker| async move {
                self.call("ListVersionsByFunction", || {
                    self.lambda
                        .list_versions_by_function()
                        .function_name(name)
                        .set_marker(marker.clone())
                        .max_items(50)
                        .send()
                })
                .await
                .map_err(|e| self.lambda_ctx.sdk("ListVersionsByFunction", e))
            },
            |page| {
                for config in page.versions() {
                    let version = config.version().unwrap_or_default();
                    if version == jot_core::names::LATEST || version.is_empty() {
                        continue;
                    }
                    listed.push(VersionListing {
                        version: version.to_string(),
                        digest: config.code_sha256().and_then(digest_of_sha256),
                        image_uri: None,
                        last_modified: config.last_modified().unwrap_or_default().to_string(),
                    });
                }
                page.next_marker().map(str::to_string)
            },
        )
        .await?;
        let resolved = listed.into_iter().map(|version| async move {
            if version.digest.is_some() {
                return Ok::<_, AwsError>(version);
            }
            Ok(
                match self.get_function(name, Some(&version.version)).await? {
                    Some(output) => version_of(&output, &version.version),
                    None => version,
                },
            )
        });
        let mut versions: Vec<VersionListing> = try_join_all(resolved).await?;
        versions.sort_by_key(|v| v.version.parse::<u64>().unwrap_or(u64::MAX));
        Ok(versions)
    }

    async fn aliases(&self, name: &str) -> Result<Vec<AliasListing>> {
        let mut aliases = Vec::new();
        all_pages(
            |marker| async move {
                self.call("ListAliases", || {
                    self.lambda
                        .list_aliases()
                        .function_name(name)
                        .set_marker(marker.clone())
                        .max_items(50)
                        .send()
                })
                .await
                .map_err(|e| self.lambda_ctx.sdk("ListAliases", e))
            },
            |page| {
                for alias in page.aliases() {
                    let mut weights: Vec<(String, f64)> = alias
                        .routing_config()
                        .and_then(|r| r.additional_version_weights())
                        .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
                        .unwrap_or_default();
                    weights.sort_by(|a, b| a.0.cmp(&b.0));
                    aliases.push(AliasListing {
                        name: alias.name().unwrap_or_default().to_string(),
                        version: alias.function_version().unwrap_or_default().to_string(),
                        weights,
                    });
                }
                page.next_marker().map(str::to_string)
            },
        )
        .await?;
        aliases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(aliases)
    }
}

/// Follows a paginated listing to its end: `fetch` gets each page's token
/// (none for the first), `take` consumes the page and gives the next token;
/// an empty token ends the listing as a missing one does.
async fn all_pages<P, Fut>(
    mut fetch: impl FnMut(Option<String>) -> Fut,
    mut take: impl FnMut(P) -> Option<String>,
) -> Result<()>
where
    Fut: Future<Output = Result<P>>,
{
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        token = take(page).filter(|t: &String| !t.is_empty());
        if token.is_none() {
            return Ok(());
        }
    }
}

/// What GetFunction says a version runs.
fn version_of(
    output: &aws_sdk_lambda::operation::get_function::GetFunctionOutput,
    version: &str,
) -> VersionListing {
    let code = output.code();
    let resolved = code.and_then(|c| c.resolved_image_uri());
    let image_uri = code.and_then(|c| c.image_uri());
    let config = output.configuration();
    let digest = resolved
        .and_then(digest_of_uri)
        .or_else(|| image_uri.and_then(digest_of_uri))
        .or_else(|| {
            config
                .and_then(|c| c.code_sha256())
                .and_then(digest_of_sha256)
        });
    VersionListing {
        version: version.to_string(),
        digest,
        image_uri: image_uri.map(str::to_string),
        last_modified: config
            .and_then(|c| c.last_modified())
            .unwrap_or_default()
            .to_string(),
    }
}

/// The digest in `repo@sha256:…`.
pub fn digest_of_uri(uri: &str) -> Option<String> {
    let (_, digest) = uri.rsplit_once('@')?;
    digest_of_sha256(digest.strip_prefix("sha256:")?)
}

/// Lambda's `CodeSha256` of an image function is the manifest digest's hex.
fn digest_of_sha256(hex: &str) -> Option<String> {
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Tags with their values decoded back into label values.
fn decoded(tags: impl Iterator<Item = (String, String)>) -> HashMap<String, String> {
    tags.map(|(k, v)| {
        let value = tags::decode_value(&v).unwrap_or(v);
        (k, value)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_come_only_from_pinned_uris_or_hex() {
        let hex = "ab".repeat(32);
        assert_eq!(
            digest_of_uri(&format!("1.dkr.ecr.x/r@sha256:{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_of_uri("1.dkr.ecr.x/r:latest"), None);
        assert_eq!(digest_of_uri("r@sha256:short"), None);
        assert_eq!(digest_of_sha256(""), None);
        assert_eq!(
            digest_of_sha256(&hex.to_uppercase()),
            Some(format!("sha256:{hex}"))
        );
    }
}
