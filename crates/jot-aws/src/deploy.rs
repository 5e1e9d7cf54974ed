//! `jot-deploy`: ECR images as Lambda functions.
//!
//! For each `remote_image` descriptor: create the function (PackageType Image,
//! ImageUri pinned by digest so a later push under the same tag never changes
//! what runs) or update the code and the changed configuration of an existing
//! jot function, wait with the SDK waiters, publish a version, and create or
//! move `--alias`. A function without jot's tags is never touched unless
//! `--force` (the bash predecessor silently replaced same-named functions).
//! Every flag is checked against Lambda's limits before the first AWS call.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::{
    Architecture, Environment, EphemeralStorage, FunctionCode, FunctionConfiguration, PackageType,
};
use jot_core::descriptor::{self, Descriptor, FunctionInfo, Kind, RemoteImage};
use jot_core::{limits, output};

use crate::error::{Context, error_code, innermost};
use crate::{Aws, AwsError, Result, retry, tags};

/// The role jot creates (once per account) when no `--role` is given.
pub const ROLE_NAME: &str = "jot-lambda-basic-execution";
/// The only policy attached to jot's role: write logs, nothing else.
pub const BASIC_EXECUTION_POLICY: &str = "policy/service-role/AWSLambdaBasicExecutionRole";
/// Defaults for a new function when the flag is not given (an update keeps
/// the function's current value instead). Julia needs more than Lambda's 128 MB.
pub const DEFAULT_MEMORY_MB: u32 = 1024;
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 60;
/// Lambda's limit on a function description.
pub const MAX_DESCRIPTION_LEN: usize = 256;
/// How long the waiters may wait for a function to become active or updated.
const MAX_WAIT: Duration = Duration::from_secs(300);

const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The command line of a deploy, as given (checked by [`validate`]).
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub role: Option<String>,
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    /// `NAME=VALUE` pairs; when given they replace the function's variables.
    pub environment: Vec<String>,
    pub architecture: Option<String>,
    pub ephemeral_storage: Option<u32>,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub force: bool,
}

/// Checked settings: each `None` means "keep the function's value" on an
/// update and "use the default" on a create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub role: Option<String>,
    pub memory: Option<i32>,
    pub timeout: Option<i32>,
    pub environment: Option<HashMap<String, String>>,
    pub architecture: Option<Architecture>,
    pub ephemeral_storage: Option<i32>,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub force: bool,
}

/// Checks every flag against Lambda's limits; no AWS call is made before this passes.
pub fn validate(options: &DeployOptions) -> Result<Settings> {
    let as_i32 = |v: u32| v as i32;
    let memory = options
        .memory
        .map(limits::check_memory)
        .transpose()?
        .map(as_i32);
    let timeout = options
        .timeout
        .map(limits::check_timeout)
        .transpose()?
        .map(as_i32);
    let ephemeral_storage = options
        .ephemeral_storage
        .map(limits::check_ephemeral_storage)
        .transpose()?
        .map(as_i32);
    let environment = (!options.environment.is_empty())
        .then(|| limits::parse_environment(&options.environment))
        .transpose()?
        .map(|pairs| pairs.into_iter().collect());
    let architecture = options
        .architecture
        .as_deref()
        .map(parse_architecture)
        .transpose()?;
    if let Some(description) = &options.description
        && description.chars().count() > MAX_DESCRIPTION_LEN
    {
        return Err(AwsError::InvalidInput(format!(
            "--description is {} characters; Lambda allows {MAX_DESCRIPTION_LEN}",
            description.chars().count()
        )));
    }
    if let Some(alias) = &options.alias {
        validate_alias(alias)?;
    }
    if let Some(role) = &options.role {
        validate_role_arn(role)?;
    }
    Ok(Settings {
        role: options.role.clone(),
        memory,
        timeout,
        environment,
        architecture,
        ephemeral_storage,
        description: options.description.clone(),
        alias: options.alias.clone(),
        force: options.force,
    })
}

/// `x86_64` or `arm64`, Lambda's two architectures.
pub fn parse_architecture(text: &str) -> Result<Architecture> {
    match text {
        "x86_64" => Ok(Architecture::X8664),
        "arm64" => Ok(Architecture::Arm64),
        other => Err(AwsError::InvalidInput(format!(
            "--architecture {other:?} is not a Lambda architecture; use x86_64 or arm64"
        ))),
    }
}

/// Lambda's alias pattern: `[a-zA-Z0-9-_]{1,128}`, not all digits (those are versions).
pub fn validate_alias(alias: &str) -> Result<()> {
    let chars_ok = alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let all_digits = alias.chars().all(|c| c.is_ascii_digit());
    if alias.is_empty() || alias.len() > 128 || !chars_ok || all_digits {
        return Err(AwsError::InvalidInput(format!(
            "--alias {alias:?} is not a valid Lambda alias; use 1 to 128 letters, digits, '-' or '_', not only digits"
        )));
    }
    Ok(())
}

/// An IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/NAME`.
pub fn validate_role_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c))
        });
    if !valid {
        return Err(AwsError::InvalidInput(format!(
            "--role {arn:?} is not an IAM role ARN; expected arn:aws:iam::ACCOUNT:role/NAME"
        )));
    }
    Ok(())
}

/// True when an IAM trust policy lets Lambda assume the role: a statement
/// allowing `sts:AssumeRole` to the service principal `lambda.amazonaws.com`.
/// IAM returns the document URL-encoded; MiniStack returns it plain.
pub fn trust_policy_allows_lambda(document: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(&decoded) else {
        return false;
    };
    let as_list = |value: &serde_json::Value| -> Vec<String> {
        match value {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements.iter().any(|statement| {
        statement["Effect"] == "Allow"
            && as_list(&statement["Action"])
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*")
            && as_list(&statement["Principal"]["Service"])
                .iter()
                .any(|s| s == "lambda.amazonaws.com")
    })
}

/// The image reference a function runs: the repository pinned by digest.
pub fn pinned_image(remote: &RemoteImage) -> Result<String> {
    let hex = remote.digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(AwsError::InvalidInput(format!(
            "remote_image.digest {:?} is not a sha256 digest; pipe the output of jot-push into jot-deploy",
            remote.digest
        )));
    }
    if remote.repository_uri.is_empty()
        || remote.repository_uri.contains("://")
        || remote.repository_uri.contains('@')
    {
        return Err(AwsError::InvalidInput(format!(
            "remote_image.repository_uri {:?} is not an ECR repository URI",
            remote.repository_uri
        )));
    }
    Ok(format!("{}@{}", remote.repository_uri, remote.digest))
}

/// Deploys every descriptor in order and prints a `function` descriptor for each.
pub async fn deploy_all(
    descriptors: Vec<Descriptor>,
    options: &DeployOptions,
    out: &mut impl Write,
) -> Result<()> {
    let settings = validate(options)?;
    let mut planned = Vec::new();
    for descriptor in descriptors {
        let remote = descriptor.remote_image.as_ref().ok_or_else(|| {
            AwsError::InvalidInput(format!(
                "descriptor `{}` has no remote_image; pipe the output of jot-push into jot-deploy",
                descriptor.name
            ))
        })?;
        let image_uri = pinned_image(remote)?;
        planned.push((descriptor, image_uri));
    }
    let aws = Aws::load().await?;
    let mut deployer = Deployer {
        lambda: aws.lambda(),
        iam: aws.iam(),
        ctx: aws.context("Lambda"),
        iam_ctx: aws.context("IAM"),
        settings,
        jot_role: None,
    };
    if let Some(role) = &deployer.settings.role {
        deployer.check_role(role).await?;
    }
    for (descriptor, image_uri) in planned {
        let deployed = deployer.deploy(descriptor, &image_uri).await?;
        descriptor::write_line(out, &deployed)?;
    }
    Ok(())
}

/// The facts of a function that a deploy sets, to tell what changed.
#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    image_uri: Option<String>,
    role: Option<String>,
    memory: Option<i32>,
    timeout: Option<i32>,
    environment: HashMap<String, String>,
    architecture: Option<Architecture>,
    ephemeral_storage: Option<i32>,
    description: String,
}

impl Snapshot {
    fn of(function: &GetFunctionOutput) -> Snapshot {
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
        }
    }
}

struct Deployer {
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    ctx: Context,
    iam_ctx: Context,
    settings: Settings,
    /// jot's role once resolved: ARN and whether this run created it.
    jot_role: Option<(String, bool)>,
}

impl Deployer {
    async fn deploy(&mut self, descriptor: Descriptor, image_uri: &str) -> Result<Descriptor> {
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
        let (arn, changed) = match self.get_function(&name, None).await? {
            None => (
                self.create(&name, image_uri, &descriptor, &wanted_tags)
                    .await?,
                true,
            ),
            Some(existing) => {
                self.update(&name, image_uri, &existing, &wanted_tags)
                    .await?
            }
        };
        let version = match changed {
            true => None,
            false => self.current_version(&name, image_uri).await?,
        };
        let version = match version {
            Some(version) => {
                output::note(format!(
                    "{name}: unchanged; version {version} already runs {image_uri}"
                ));
                version
            }
            None => self.publish(&name).await?,
        };
        if let Some(alias) = self.settings.alias.clone() {
            self.point_alias(&name, &alias, &version).await?;
        }
        let mut deployed = descriptor;
        deployed.kind = Kind::Function;
        deployed.function = Some(FunctionInfo {
            name,
            arn,
            version: Some(version),
            alias: self.settings.alias.clone(),
            image_digest: Some(remote.digest),
        });
        Ok(deployed)
    }

    async fn get_function(
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

    async fn create(
        &mut self,
        name: &str,
        image_uri: &str,
        descriptor: &Descriptor,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<String> {
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
                .architectures(s.architecture.clone().unwrap_or(Architecture::X8664))
                .description(&description)
                .set_tags(Some(wanted_tags.clone().into_iter().collect()))
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
            Some(arn) => Ok(arn),
            None => self.arn_of(name).await,
        }
    }

    /// Updates an existing jot function; returns its ARN and whether anything changed.
    async fn update(
        &self,
        name: &str,
        image_uri: &str,
        existing: &GetFunctionOutput,
        wanted_tags: &BTreeMap<String, String>,
    ) -> Result<(String, bool)> {
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

        let architecture_changed = s
            .architecture
            .as_ref()
            .is_some_and(|a| current.architecture.as_ref() != Some(a));
        if current.image_uri.as_deref() != Some(image_uri) || architecture_changed {
            self.wait_updated(name).await?;
            retry::on_conflict(&format!("{name}: UpdateFunctionCode"), || {
                self.lambda
                    .update_function_code()
                    .function_name(name)
                    .image_uri(image_uri)
                    .set_architectures(s.architecture.clone().map(|a| vec![a]))
                    .publish(false)
                    .send()
            })
            .await
            .map_err(|e| self.ctx.sdk("UpdateFunctionCode", e))?;
            output::note(format!("{name}: updated code to {image_uri}"));
            changed = true;
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
        let config_changed = memory.is_some()
            || timeout.is_some()
            || storage.is_some()
            || environment.is_some()
            || description.is_some()
            || role.is_some();
        if config_changed {
            let storage = storage.map(ephemeral).transpose()?;
            self.wait_updated(name).await?;
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
                    .send()
            })
            .await
            .map_err(|e| self.ctx.sdk("UpdateFunctionConfiguration", e))?;
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
        Ok((arn, changed))
    }

    /// Waits until no update of the function is in progress.
    async fn wait_updated(&self, name: &str) -> Result<()> {
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
    async fn waiter_failed(
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

    async fn arn_of(&self, name: &str) -> Result<String> {
        self.get_function(name, None)
            .await?
            .and_then(|f| {
                f.configuration()
                    .and_then(|c| c.function_arn())
                    .map(str::to_string)
            })
            .ok_or_else(|| AwsError::Other(format!("function {name} has no ARN")))
    }

    /// The newest published version when it runs `image_uri` with the
    /// function's current configuration, so an unchanged deploy publishes nothing.
    async fn current_version(&self, name: &str, image_uri: &str) -> Result<Option<String>> {
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

    async fn publish(&self, name: &str) -> Result<String> {
        let published = retry::on_conflict(&format!("{name}: PublishVersion"), || {
            self.lambda.publish_version().function_name(name).send()
        })
        .await
        .map_err(|e| self.ctx.sdk("PublishVersion", e))?;
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
        Ok(version)
    }

    /// Creates the alias or moves it to `version`.
    async fn point_alias(&self, name: &str, alias: &str, version: &str) -> Result<()> {
        let existing = self
            .lambda
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await;
        match existing {
            Ok(current) if current.function_version() == Some(version) => Ok(()),
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
                Ok(())
            }
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                retry::on_conflict(&format!("{name}: CreateAlias"), || {
                    self.lambda
                        .create_alias()
                        .function_name(name)
                        .name(alias)
                        .function_version(version)
                        .send()
                })
                .await
                .map_err(|e| self.ctx.sdk("CreateAlias", e))?;
                output::note(format!("{name}: alias {alias} → version {version}"));
                Ok(())
            }
            Err(e) => Err(self.ctx.sdk("GetAlias", e)),
        }
    }

    /// Refuses a `--role` that does not exist or that Lambda cannot assume,
    /// before any function is touched. Without permission to read IAM the
    /// check is skipped with a note (Lambda will still refuse a bad role).
    async fn check_role(&self, arn: &str) -> Result<()> {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        match self.iam.get_role().role_name(name).send().await {
            Ok(output) => {
                let document = output
                    .role()
                    .and_then(|r| r.assume_role_policy_document())
                    .unwrap_or_default();
                if trust_policy_allows_lambda(document) {
                    Ok(())
                } else {
                    Err(AwsError::InvalidInput(format!(
                        "--role {arn} cannot be assumed by Lambda: its trust policy does not allow lambda.amazonaws.com to call sts:AssumeRole; add that statement, or omit --role and jot creates a role"
                    )))
                }
            }
            Err(e) if error_code(&e) == Some("NoSuchEntity") => {
                Err(AwsError::InvalidInput(format!(
                    "--role {arn}: no such IAM role; create it, or omit --role and jot creates one"
                )))
            }
            Err(e) if error_code(&e) == Some("AccessDenied") => {
                output::note(format!(
                    "note: cannot read IAM role {name} to check that Lambda may assume it; going on"
                ));
                Ok(())
            }
            Err(e) => Err(self.iam_ctx.sdk("GetRole", e)),
        }
    }

    /// jot's execution role: found (and checked to be jot's) or created once,
    /// with only the basic execution policy. Returns its ARN and whether this
    /// run created it.
    async fn jot_role(&mut self) -> Result<(String, bool)> {
        if let Some(role) = &self.jot_role {
            return Ok(role.clone());
        }
        let found = match self.iam.get_role().role_name(ROLE_NAME).send().await {
            Ok(output) => output.role,
            Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
            Err(e) => return Err(self.iam_ctx.sdk("GetRole", e)),
        };
        let (arn, created) = match found {
            Some(role) => {
                let role_tags: HashMap<String, String> = role
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                if !tags::is_jot(Some(&role_tags)) && !self.settings.force {
                    return Err(AwsError::NotJot(format!(
                        "IAM role {ROLE_NAME} exists but was not created by jot; pass --role ARN, or --force to use it"
                    )));
                }
                (role.arn().to_string(), false)
            }
            None => {
                let tag = aws_sdk_iam::types::Tag::builder()
                    .key(tags::JOT_ROLE)
                    .value("lambda-basic-execution")
                    .build()
                    .map_err(|e| AwsError::Other(format!("IAM tag: {e}")))?;
                let created = self
                    .iam
                    .create_role()
                    .role_name(ROLE_NAME)
                    .assume_role_policy_document(TRUST_POLICY)
                    .description(
                        "Created by jot: lets Lambda run jot functions and write their logs",
                    )
                    .tags(tag)
                    .send()
                    .await
                    .map_err(|e| self.iam_ctx.sdk("CreateRole", e))?;
                let arn = created
                    .role()
                    .map(|r| r.arn().to_string())
                    .ok_or_else(|| AwsError::Other("CreateRole returned no role".into()))?;
                output::note(format!("created IAM role {arn} for jot functions"));
                (arn, true)
            }
        };
        // Attach every time a function is created: idempotent, and completes a
        // role whose creation was interrupted before the policy was attached.
        let partition = arn.split(':').nth(1).unwrap_or("aws");
        self.iam
            .attach_role_policy()
            .role_name(ROLE_NAME)
            .policy_arn(format!("arn:{partition}:iam::aws:{BASIC_EXECUTION_POLICY}"))
            .send()
            .await
            .map_err(|e| self.iam_ctx.sdk("AttachRolePolicy", e))?;
        self.jot_role = Some((arn.clone(), created));
        Ok((arn, created))
    }
}

fn ephemeral(size: i32) -> Result<EphemeralStorage> {
    EphemeralStorage::builder()
        .size(size)
        .build()
        .map_err(|e| AwsError::Other(format!("ephemeral storage: {e}")))
}

/// Lambda's answer while a new role cannot be assumed yet.
fn role_not_ready<E, R>(error: &aws_sdk_lambda::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata,
{
    match error {
        aws_sdk_lambda::error::SdkError::ServiceError(service) => {
            let err = service.err();
            err.code() == Some("InvalidParameterValueException")
                && err.message().is_some_and(|m| m.contains("assumed"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> DeployOptions {
        DeployOptions::default()
    }

    #[test]
    fn limits_are_checked_before_any_call() {
        let bad = [
            DeployOptions {
                memory: Some(64),
                ..options()
            },
            DeployOptions {
                timeout: Some(901),
                ..options()
            },
            DeployOptions {
                ephemeral_storage: Some(100),
                ..options()
            },
            DeployOptions {
                environment: vec!["AWS_REGION=x".into()],
                ..options()
            },
            DeployOptions {
                architecture: Some("sparc".into()),
                ..options()
            },
            DeployOptions {
                alias: Some("123".into()),
                ..options()
            },
            DeployOptions {
                alias: Some("live!".into()),
                ..options()
            },
            DeployOptions {
                role: Some("jot-role".into()),
                ..options()
            },
            DeployOptions {
                description: Some("x".repeat(257)),
                ..options()
            },
        ];
        for options in bad {
            let err = validate(&options).unwrap_err();
            assert_eq!(jot_core::Error::from(err).exit_code(), 5, "{options:?}");
        }
        let good = validate(&DeployOptions {
            memory: Some(2048),
            environment: vec!["A1=b".into()],
            architecture: Some("arm64".into()),
            alias: Some("live".into()),
            role: Some("arn:aws:iam::123456789012:role/service-role/my-role".into()),
            ..options()
        })
        .unwrap();
        assert_eq!(good.memory, Some(2048));
        assert_eq!(good.architecture, Some(Architecture::Arm64));
        assert_eq!(good.environment.unwrap()["A1"], "b");
    }

    #[test]
    fn trust_policies_that_let_lambda_assume_the_role() {
        assert!(trust_policy_allows_lambda(TRUST_POLICY));
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22ec2.amazonaws.com%22%2C%22lambda.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(trust_policy_allows_lambda(encoded));
        let ec2_only = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
        assert!(!trust_policy_allows_lambda(ec2_only));
        let denied = r#"{"Statement":[{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!trust_policy_allows_lambda(denied));
        assert!(!trust_policy_allows_lambda("not json"));
    }

    #[test]
    fn images_are_pinned_by_digest() {
        let remote = RemoteImage {
            repository_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/f".into(),
            tag: "t".into(),
            digest: format!("sha256:{}", "ab".repeat(32)),
        };
        assert_eq!(
            pinned_image(&remote).unwrap(),
            format!("{}@{}", remote.repository_uri, remote.digest)
        );
        let bad = RemoteImage {
            digest: "sha256:xyz".into(),
            ..remote
        };
        assert!(pinned_image(&bad).is_err());
    }
}
