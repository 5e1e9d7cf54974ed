//! The function's lifecycle: create, or update code and configuration,
//! publish a version and point the alias, waiting with the SDK's waiters.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionCode, FunctionConfiguration, PackageType,
    SnapStart, SnapStartApplyOn,
};
use jot_core::descriptor::{Descriptor, FunctionInfo, Kind, RemoteImage};
use jot_core::limits::DEFAULT_MEMORY_MB;
use jot_core::output;

use super::architecture;
use super::roles::role_not_ready;
use super::settings::{DEFAULT_TIMEOUT_SECONDS, MAX_DESCRIPTION_LEN, lambda_architecture};
use super::{Deployer, MAX_WAIT};
use crate::error::{error_code, innermost};
use crate::{AwsError, Result, retry, tags};

/// The facts of a function that a deploy sets, to tell what changed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Snapshot {
    pub(super) image_uri: Option<String>,
    role: Option<String>,
    memory: Option<i32>,
    timeout: Option<i32>,
    environment: HashMap<String, String>,
    architecture: Option<Architecture>,
    ephemeral_storage: Option<i32>,
    description: String,
    snap_start: bool,
}

impl Snapshot {
    pub(super) fn of(function: &GetFunctionOutput) -> Snapshot {
        let config = function.configuration();
        Snapshot {
            image_uri: function
                .code()
                .and_then(|c| c.image_uri())
                .map(str::to_string),
            role: config.and_then(|c| c.role()).map(str::to_string),
            memory: config.and_then(FunctionConfiguration::memory_size),
            timeout: config.and_then(FunctionConfiguration::timeout),
            environment: config
                .and_then(|c| c.environment())
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default(),
            architecture: config.and_then(|c| c.architectures().first().cloned()),
            ephemeral_storage: config.and_then(|c| c.ephemeral_storage()).map(|e| e.size()),
            description: config
                .and_then(|c| c.description())
                .unwrap_or_default()
                .to_string(),
            snap_start: config
                .and_then(|c| c.snap_start())
                .and_then(|s| s.apply_on())
                .is_some_and(|a| *a == SnapStartApplyOn::PublishedVersions),
        }
    }
}

/// How one attempt at a deploy ended.
enum Attempt {
    Done {
        arn: String,
        version: String,
    },
    /// Another deploy changed the function in between; try again.
    Overtaken(String),
}

impl Deployer {
    /// Deploys one image. Each attempt reads the function, applies this run's
    /// settings guarded by the `RevisionId` it read, publishes, and reads the
    /// version back; an attempt that another deploy overtook is made again.
    pub(super) async fn deploy_image(
        &mut self,
        descriptor: Descriptor,
        image_uri: &str,
    ) -> Result<Descriptor> {
        let name = descriptor.name.clone();
        let remote = descriptor
            .remote_image
            .clone()
            .unwrap_or_else(|| RemoteImage {
                repository_uri: String::new(),
                tag: String::new(),
                digest: String::new(),
            });
        let mut wanted_tags = tags::jot_tags(&descriptor, &remote.tag);
        wanted_tags.extend(tags::encode_all([(
            tags::JOT_IMAGE_DIGEST.to_string(),
            remote.digest.clone(),
        )]));
        let mut attempt = 0;
        let (arn, version) = loop {
            match self
                .attempt(&name, image_uri, &descriptor, &wanted_tags)
                .await?
            {
                Attempt::Done { arn, version } => break (arn, version),
                Attempt::Overtaken(why) => {
                    let Some(wait) = retry::conflict_backoff(attempt) else {
                        return Err(AwsError::Service {
                            operation: "deploy".into(),
                            code: "ResourceConflictException".into(),
                            message: format!(
                                "{name}: other deploys kept changing the function ({why}); this run's settings were not published; run jot-deploy again"
                            ),
                        });
                    };
                    output::note(format!(
                        "{name}: another deploy got in first ({why}); applying this run's settings again in {:.1} s",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        };
        if let Some(alias) = self.settings.alias.clone() {
            self.point_alias(&name, &alias, &version).await?;
        }
        let mut deployed = descriptor;
        deployed.kind = Kind::Function;
        deployed.aws = jot_core::descriptor::AwsOrigin::of_arn(&arn).or(deployed.aws);
        deployed.function = Some(FunctionInfo {
            name,
            arn,
            version: Some(version),
            alias: self.settings.alias.clone(),
            image_digest: Some(remote.digest),
        });
        Ok(deployed)
    }

    /// One read → update → publish → read-back cycle.
    async fn attempt(
        &mut self,
        name: &str,
        image_uri: &str,
        descriptor: &Descriptor,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<Attempt> {
        let (arn, changed) = match self.get_function(name, None).await? {
            None => match self
                .create(name, image_uri, descriptor, wanted_tags)
                .await?
            {
                Some(arn) => (arn, true),
                None => return Ok(Attempt::Overtaken("it was created meanwhile".into())),
            },
            Some(existing) => {
                architecture::check_existing(&self.settings, descriptor, &existing)?;
                let updated = self.update(name, image_uri, &existing, wanted_tags).await?;
                match updated {
                    Some(updated) => updated,
                    None => return Ok(Attempt::Overtaken("it was updated meanwhile".into())),
                }
            }
        };
        let latest = self.get_function(name, None).await?.ok_or_else(|| {
            AwsError::Other(format!("function {name} vanished during the deploy"))
        })?;
        if !self.holds_ours(&Snapshot::of(&latest), image_uri) {
            return Ok(Attempt::Overtaken("$LATEST holds other settings".into()));
        }
        let revision = latest
            .configuration()
            .and_then(|c| c.revision_id())
            .map(str::to_string);
        let unchanged = match changed {
            true => None,
            false => self.current_version(name, image_uri).await?,
        };
        let version = match unchanged {
            Some(version) => {
                output::note(format!(
                    "{name}: unchanged; version {version} already runs {image_uri}"
                ));
                version
            }
            None => match self.publish(name, revision).await? {
                Some(version) => version,
                None => {
                    return Ok(Attempt::Overtaken(
                        "$LATEST changed before publishing".into(),
                    ));
                }
            },
        };
        let published = self.get_function(name, Some(&version)).await?;
        if !published.is_some_and(|p| self.holds_ours(&Snapshot::of(&p), image_uri)) {
            return Ok(Attempt::Overtaken(format!(
                "version {version} holds another deploy's settings"
            )));
        }
        Ok(Attempt::Done { arn, version })
    }

    /// Whether a function's settings are this run's: the image, and every
    /// setting this run gives (the others are whatever the function has).
    fn holds_ours(&self, snapshot: &Snapshot, image_uri: &str) -> bool {
        let s = &self.settings;
        let same = |wanted: Option<i32>, now: Option<i32>| wanted.is_none_or(|w| Some(w) == now);
        snapshot.image_uri.as_deref() == Some(image_uri)
            && same(s.memory, snapshot.memory)
            && same(s.timeout, snapshot.timeout)
            && same(s.ephemeral_storage, snapshot.ephemeral_storage)
            && s.environment
                .as_ref()
                .is_none_or(|e| *e == snapshot.environment)
            && s.description
                .as_ref()
                .is_none_or(|d| *d == snapshot.description)
            && s.role
                .as_ref()
                .is_none_or(|r| snapshot.role.as_ref() == Some(r))
            && s.architecture
                .as_ref()
                .is_none_or(|a| snapshot.architecture.as_ref() == Some(a))
            && s.snap_start.is_none_or(|on| on == snapshot.snap_start)
    }

    pub(super) async fn get_function(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<GetFunctionOutput>> {
        match self
            .lambda
            .get_function()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
        {
            Ok(output) => Ok(Some(output)),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(self.ctx.sdk("GetFunction", e)),
        }
    }

    /// Creates the function; `None` when another deploy created it first.
    async fn create(
        &mut self,
        name: &str,
        image_uri: &str,
        descriptor: &Descriptor,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<Option<String>> {
        let (role, fresh_role) = match &self.settings.role {
            Some(role) => (role.clone(), false),
            None => self.jot_role().await?,
        };
        let s = self.settings.clone();
        let description = s.description.clone().unwrap_or_else(|| {
            format!(
                "jot: Julia function {} ({})",
                descriptor.responder.function, descriptor.responder.arg_type
            )
            .chars()
            .take(MAX_DESCRIPTION_LEN)
            .collect()
        });
        let mut retry = 0;
        let created = loop {
            let mut request = self
                .lambda
                .create_function()
                .function_name(name)
                .package_type(PackageType::Image)
                .code(FunctionCode::builder().image_uri(image_uri).build())
                .role(&role)
                .memory_size(s.memory.unwrap_or(DEFAULT_MEMORY_MB as i32))
                .timeout(s.timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS as i32))
                .architectures(
                    s.architecture
                        .clone()
                        .or_else(|| architecture::of_image(descriptor))
                        .unwrap_or_else(|| {
                            lambda_architecture(jot_core::limits::Architecture::default())
                        }),
                )
                .description(&description)
                .set_tags(Some(wanted_tags.clone().into_iter().collect()))
                .set_snap_start(s.snap_start.map(snap_start))
                .publish(false);
            if let Some(variables) = &s.environment {
                request = request.environment(
                    Environment::builder()
                        .set_variables(Some(variables.clone()))
                        .build(),
                );
            }
            if let Some(size) = s.ephemeral_storage {
                request = request.ephemeral_storage(ephemeral(size)?);
            }
            match request.send().await {
                Ok(output) => break output,
                // A role IAM has just created takes a few seconds to become
                // assumable by Lambda; only then is waiting worth it.
                Err(e) if fresh_role && role_not_ready(&e) => {
                    let Some(wait) = retry::conflict_backoff(retry) else {
                        return Err(self.ctx.sdk("CreateFunction", e));
                    };
                    output::note(format!(
                        "{name}: the new role is not assumable by Lambda yet; retrying in {:.1} s",
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                // Created meanwhile by another jot-deploy: update it instead.
                Err(e) if error_code(&e) == Some("ResourceConflictException") => {
                    return Ok(None);
                }
                Err(e) => return Err(self.ctx.sdk("CreateFunction", e)),
            }
        };
        output::note(format!(
            "{name}: created function, waiting until it is active"
        ));
        if let Err(e) = self
            .lambda
            .wait_until_function_active_v2()
            .function_name(name)
            .wait(MAX_WAIT)
            .await
        {
            return Err(self.waiter_failed(name, "active", &e).await);
        }
        let arn = created.function_arn().map(str::to_string);
        match arn {
            Some(arn) => Ok(Some(arn)),
            None => self.arn_of(name).await.map(Some),
        }
    }

    /// Updates an existing jot function; returns its ARN and whether anything changed.
    async fn update(
        &self,
        name: &str,
        image_uri: &str,
        existing: &GetFunctionOutput,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<Option<(String, bool)>> {
        let current_tags = existing.tags();
        if !tags::is_jot(current_tags) && !self.settings.force {
            return Err(AwsError::NotJot(format!(
                "Lambda function {name} exists but was not created by jot (it has no {} tag); jot never changes it unless --force",
                jot_core::labels::JOT_NAME
            )));
        }
        let config = existing.configuration();
        if config.and_then(|c| c.package_type()) != Some(&PackageType::Image) {
            return Err(AwsError::NotJot(format!(
                "Lambda function {name} is a .zip function; jot deploys container images and cannot convert it (delete it or choose another --name at build time)"
            )));
        }
        let arn = config
            .and_then(|c| c.function_arn())
            .map(str::to_string)
            .ok_or_else(|| AwsError::Other(format!("GetFunction {name} returned no ARN")))?;
        let current = Snapshot::of(existing);
        let s = &self.settings;
        let mut changed = false;
        // Each update names the revision it was based on: one that another
        // deploy changed meanwhile is refused (PreconditionFailed), not lost.
        let mut revision = config.and_then(|c| c.revision_id()).map(str::to_string);

        let architecture_changed = s
            .architecture
            .as_ref()
            .is_some_and(|a| current.architecture.as_ref() != Some(a));
        if current.image_uri.as_deref() != Some(image_uri) || architecture_changed {
            self.wait_updated(name).await?;
            let updated = retry::on_conflict(&format!("{name}: UpdateFunctionCode"), || {
                self.lambda
                    .update_function_code()
                    .function_name(name)
                    .image_uri(image_uri)
                    .set_architectures(s.architecture.clone().map(|a| vec![a]))
                    .set_revision_id(revision.clone())
                    .publish(false)
                    .send()
            })
            .await;
            match updated {
                Ok(_) => {}
                Err(e) if overtaken(&e) => return Ok(None),
                Err(e) => return Err(self.ctx.sdk("UpdateFunctionCode", e)),
            }
            output::note(format!("{name}: updated code to {image_uri}"));
            changed = true;
            // The revision after the update has settled, still holding our code.
            self.wait_updated(name).await?;
            let Some(now) = self.get_function(name, None).await? else {
                return Ok(None);
            };
            if Snapshot::of(&now).image_uri.as_deref() != Some(image_uri) {
                return Ok(None);
            }
            revision = now
                .configuration()
                .and_then(|c| c.revision_id())
                .map(str::to_string);
        }

        let differs = |wanted: Option<i32>, now: Option<i32>| wanted.filter(|w| Some(*w) != now);
        let memory = differs(s.memory, current.memory);
        let timeout = differs(s.timeout, current.timeout);
        let storage = differs(s.ephemeral_storage, current.ephemeral_storage);
        let environment = s
            .environment
            .clone()
            .filter(|wanted| *wanted != current.environment);
        let description = s
            .description
            .clone()
            .filter(|wanted| *wanted != current.description);
        let role = s
            .role
            .clone()
            .filter(|wanted| Some(wanted) != current.role.as_ref());
        let snap = s.snap_start.filter(|on| *on != current.snap_start);
        let config_changed = memory.is_some()
            || timeout.is_some()
            || storage.is_some()
            || environment.is_some()
            || description.is_some()
            || role.is_some()
            || snap.is_some();
        if config_changed {
            let storage = storage.map(ephemeral).transpose()?;
            self.wait_updated(name).await?;
            let updated =
                retry::on_conflict(&format!("{name}: UpdateFunctionConfiguration"), || {
                    self.lambda
                        .update_function_configuration()
                        .function_name(name)
                        .set_memory_size(memory)
                        .set_timeout(timeout)
                        .set_ephemeral_storage(storage.clone())
                        .set_environment(environment.clone().map(|variables| {
                            Environment::builder()
                                .set_variables(Some(variables))
                                .build()
                        }))
                        .set_description(description.clone())
                        .set_role(role.clone())
                        .set_snap_start(snap.map(snap_start))
                        .set_revision_id(revision.clone())
                        .send()
                })
                .await;
            match updated {
                Ok(_) => {}
                Err(e) if overtaken(&e) => return Ok(None),
                Err(e) => return Err(self.ctx.sdk("UpdateFunctionConfiguration", e)),
            }
            output::note(format!("{name}: updated configuration"));
            changed = true;
        }
        if changed {
            self.wait_updated(name).await?;
        }

        let stale_tags = wanted_tags
            .iter()
            .any(|(k, v)| current_tags.and_then(|t| t.get(k)) != Some(v));
        if stale_tags {
            retry::on_conflict(&format!("{name}: TagResource"), || {
                self.lambda
                    .tag_resource()
                    .resource(&arn)
                    .set_tags(Some(wanted_tags.clone().into_iter().collect()))
                    .send()
            })
            .await
            .map_err(|e| self.ctx.sdk("TagResource", e))?;
        }
        Ok(Some((arn, changed)))
    }

    /// Waits until no update of the function is in progress.
    pub(super) async fn wait_updated(&self, name: &str) -> Result<()> {
        match self
            .lambda
            .wait_until_function_updated_v2()
            .function_name(name)
            .wait(MAX_WAIT)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.waiter_failed(name, "updated", &e).await),
        }
    }

    /// After a waiter gave up or saw a failed state: the error with the
    /// function's own reason (StateReason / LastUpdateStatusReason) when it has one.
    pub(super) async fn waiter_failed(
        &self,
        name: &str,
        state: &str,
        error: &(dyn std::error::Error + 'static),
    ) -> AwsError {
        let reason = match self.get_function(name, None).await {
            Ok(Some(function)) => function.configuration().and_then(|c| {
                c.last_update_status_reason()
                    .or(c.state_reason())
                    .map(str::to_string)
            }),
            _ => None,
        };
        AwsError::Other(format!(
            "{name}: the function did not become {state}: {}",
            reason.unwrap_or_else(|| innermost(error))
        ))
    }

    pub(super) async fn arn_of(&self, name: &str) -> Result<String> {
        self.get_function(name, None)
            .await?
            .and_then(|f| {
                f.configuration()
                    .and_then(|c| c.function_arn())
                    .map(str::to_string)
            })
            .ok_or_else(|| AwsError::Other(format!("function {name} has no ARN")))
    }
}

/// Lambda's answer to an update based on a revision that changed meanwhile.
pub(super) fn overtaken<E, R>(error: &aws_sdk_lambda::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata,
{
    error_code(error) == Some("PreconditionFailedException")
}

/// SnapStart for published versions (Lambda never snap-starts `$LATEST`), or off.
fn snap_start(on: bool) -> SnapStart {
    let apply_on = if on {
        SnapStartApplyOn::PublishedVersions
    } else {
        SnapStartApplyOn::None
    };
    SnapStart::builder().apply_on(apply_on).build()
}

fn ephemeral(size: i32) -> Result<EphemeralStorage> {
    EphemeralStorage::builder()
        .size(size)
        .build()
        .map_err(|e| AwsError::Other(format!("ephemeral storage: {e}")))
}
