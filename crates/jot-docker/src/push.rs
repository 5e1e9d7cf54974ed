//! Pushing an image to a registry, with a bar per layer on stderr.

use std::collections::HashMap;

use crate::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::PushImageOptions;
use futures_util::StreamExt;
use indicatif::{MultiProgress, ProgressBar};
use jot_core::image_ref::RegistryLogin;
use jot_core::output;

use crate::error::{DockerError, Result};

/// Whether to draw progress (bars on a terminal, plain lines otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct PushProgress {
    pub quiet: bool,
}

/// The platform to push (`linux/amd64`), so an engine whose image store
/// holds a multi-platform index (containerd, from API 1.46) pushes only the
/// image's own manifest: Lambda refuses an index. Older engines push one
/// manifest anyway and do not know the parameter.
pub fn push_platform(api: (usize, usize), os: &str, architecture: &str) -> Option<String> {
    (api >= (1, 46) && !architecture.is_empty()).then(|| {
        format!(
            "{}/{architecture}",
            if os.is_empty() { "linux" } else { os }
        )
    })
}

/// The digest recorded by the engine for an image in `repository` (a
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

/// Pushes `target:tag` and returns the manifest digest the registry reported.
///
/// Docker's push stream names each layer by an `id`, but bollard 0.19's
/// `PushImageInfo` drops that field, so layers are told apart by their size
/// (`progressDetail.total`), which is unique in practice.
pub async fn push_image(
    docker: &Docker,
    target: &str,
    tag: &str,
    login: &RegistryLogin,
    platform: Option<String>,
    progress: PushProgress,
) -> Result<Option<String>> {
    let bars = if output::stderr_is_terminal() && !progress.quiet {
        MultiProgress::new()
    } else {
        MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
    };
    let overall = bars.add(output::spinner(format!("{target}:{tag}")));
    let mut layers: HashMap<i64, ProgressBar> = HashMap::new();
    let mut digest = None;
    let credentials = DockerCredentials {
        username: Some(login.username.clone()),
        password: Some(login.password.expose().to_string()),
        serveraddress: Some(login.server.clone()),
        ..Default::default()
    };
    let mut stream = docker.client.push_image(
        target,
        Some(PushImageOptions {
            tag: Some(tag.to_string()),
            platform,
        }),
        Some(credentials),
    );
    let context = format!("the registry refused the push of {target}:{tag}");
    let refused = |message: String| DockerError::Refused {
        context: context.clone(),
        status: 502,
        message: message.lines().next().unwrap_or_default().to_string(),
    };
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(bollard::errors::Error::DockerStreamError { error }) => return Err(refused(error)),
            Err(e) => {
                return Err(DockerError::from_engine(
                    &format!("pushing {target}:{tag}"),
                    e,
                ));
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
                    let prefix = format!("layer {:>7.1} MB", total as f64 / 1_000_000.0);
                    bars.add(output::byte_bar(prefix, total.max(0) as u64))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_engines_that_know_platforms_are_asked_for_one() {
        assert_eq!(push_platform((1, 41), "linux", "amd64"), None);
        assert_eq!(
            push_platform((1, 46), "linux", "arm64").as_deref(),
            Some("linux/arm64")
        );
        assert_eq!(
            push_platform((1, 47), "", "amd64").as_deref(),
            Some("linux/amd64")
        );
        assert_eq!(push_platform((1, 47), "linux", ""), None);
    }

    #[test]
    fn digest_of_the_final_status_line() {
        assert_eq!(
            digest_in_status("abc: digest: sha256:0123 size: 528"),
            Some("sha256:0123")
        );
        assert_eq!(digest_in_status("Pushed"), None);
        assert_eq!(digest_in_status("x: digest: md5:00 size: 1"), None);
    }

    #[test]
    fn repo_digest_matches_the_whole_repository() {
        let digests = vec![
            "127.0.0.1:4566/other@sha256:aa".to_string(),
            "127.0.0.1:4566/name@sha256:bb".to_string(),
        ];
        assert_eq!(
            repo_digest(&digests, "127.0.0.1:4566/name"),
            Some("sha256:bb")
        );
        assert_eq!(repo_digest(&digests, "127.0.0.1:4566/nam"), None);
    }
}
