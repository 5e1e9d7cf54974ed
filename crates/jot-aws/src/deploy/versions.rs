//! Versions and aliases: the version an unchanged deploy already has, a
//! publish guarded by the revision it was based on, and the alias moved to it.

use aws_sdk_lambda::client::Waiters;
use jot_core::output;

use super::lifecycle::{Snapshot, overtaken};
use super::{Deployer, MAX_WAIT};
use crate::error::error_code;
use crate::{AwsError, Result, retry};

impl Deployer {
    /// The newest published version when it runs `image_uri` with the
    /// function's current configuration, so an unchanged deploy publishes nothing.
    pub(super) async fn current_version(
        &self,
        name: &str,
        image_uri: &str,
    ) -> Result<Option<String>> {
        let mut newest: Option<u64> = None;
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .lambda
                .list_versions_by_function()
                .function_name(name)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| self.ctx.sdk("ListVersionsByFunction", e))?;
            for version in page.versions() {
                if let Some(number) = version.version().and_then(|v| v.parse::<u64>().ok()) {
                    newest = newest.max(Some(number));
                }
            }
            marker = page.next_marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        let Some(newest) = newest.map(|n| n.to_string()) else {
            return Ok(None);
        };
        let (Some(latest), Some(published)) = (
            self.get_function(name, None).await?,
            self.get_function(name, Some(&newest)).await?,
        ) else {
            return Ok(None);
        };
        let published = Snapshot::of(&published);
        let same =
            published.image_uri.as_deref() == Some(image_uri) && published == Snapshot::of(&latest);
        Ok(same.then_some(newest))
    }

    /// Publishes `$LATEST` at `revision`; `None` when it changed meanwhile.
    pub(super) async fn publish(
        &self,
        name: &str,
        revision: Option<String>,
    ) -> Result<Option<String>> {
        let published = retry::on_conflict(&format!("{name}: PublishVersion"), || {
            self.lambda
                .publish_version()
                .function_name(name)
                .set_revision_id(revision.clone())
                .send()
        })
        .await;
        let published = match published {
            Ok(published) => published,
            Err(e) if overtaken(&e) => return Ok(None),
            Err(e) => return Err(self.ctx.sdk("PublishVersion", e)),
        };
        let version = published
            .version()
            .map(str::to_string)
            .ok_or_else(|| AwsError::Other(format!("PublishVersion {name} returned no version")))?;
        if let Err(e) = self
            .lambda
            .wait_until_published_version_active()
            .function_name(name)
            .qualifier(&version)
            .wait(MAX_WAIT)
            .await
        {
            return Err(self.waiter_failed(name, "active", &e).await);
        }
        output::note(format!("{name}: published version {version}"));
        Ok(Some(version))
    }

    /// Creates the alias or moves it to `version`. A CreateAlias that meets a
    /// conflict (another run created the alias first, or an update is still
    /// in flight) waits as `retry` does, reads the alias again and moves it.
    pub(super) async fn point_alias(&self, name: &str, alias: &str, version: &str) -> Result<()> {
        let mut conflicts = 0;
        loop {
            let existing = self
                .lambda
                .get_alias()
                .function_name(name)
                .name(alias)
                .send()
                .await;
            match existing {
                Ok(current) if current.function_version() == Some(version) => return Ok(()),
                Ok(current) => {
                    retry::on_conflict(&format!("{name}: UpdateAlias"), || {
                        self.lambda
                            .update_alias()
                            .function_name(name)
                            .name(alias)
                            .function_version(version)
                            .send()
                    })
                    .await
                    .map_err(|e| self.ctx.sdk("UpdateAlias", e))?;
                    output::note(format!(
                        "{name}: alias {alias} moved from version {} to {version}",
                        current.function_version().unwrap_or("?")
                    ));
                    return Ok(());
                }
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                    let created = self
                        .lambda
                        .create_alias()
                        .function_name(name)
                        .name(alias)
                        .function_version(version)
                        .send()
                        .await;
                    match created {
                        Ok(_) => {
                            output::note(format!("{name}: alias {alias} → version {version}"));
                            return Ok(());
                        }
                        Err(e) if retry::is_transient_conflict(error_code(&e)) => {
                            let Some(wait) = retry::conflict_backoff(conflicts) else {
                                return Err(self.ctx.sdk("CreateAlias", e));
                            };
                            conflicts += 1;
                            tokio::time::sleep(wait).await;
                        }
                        Err(e) => return Err(self.ctx.sdk("CreateAlias", e)),
                    }
                }
                Err(e) => return Err(self.ctx.sdk("GetAlias", e)),
            }
        }
    }
}
