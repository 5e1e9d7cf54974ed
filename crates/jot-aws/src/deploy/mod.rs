//! `jot-deploy`: ECR images as Lambda functions.
//!
//! For each `remote_image` descriptor: create the function (PackageType Image,
//! ImageUri pinned by digest so a later push under the same tag never changes
//! what runs) or update the code and the changed configuration of an existing
//! jot function, wait with the SDK waiters, publish a version, and create or
//! move the alias. A function without jot's tags is never touched unless
//! `--force` (the bash predecessor silently replaced same-named functions).
//!
//! Two deploys of one function at once never lose an update: every update
//! carries the `RevisionId` it was based on, and a published version is read
//! back; when another deploy got in between, this one applies its settings
//! again and publishes a version of its own (see [`lifecycle`]).

pub mod architecture;
mod lifecycle;
mod roles;
mod settings;
mod versions;

use std::time::Duration;

use jot_core::descriptor::Descriptor;

pub use roles::{BASIC_EXECUTION_POLICY, ROLE_NAME};
pub use settings::{
    DEFAULT_TIMEOUT_SECONDS, DeployOptions, MAX_DESCRIPTION_LEN, Settings, lambda_architecture,
    pinned_image, trust_policy_allows_lambda, validate_alias, validate_role_arn,
};

use crate::error::Context;
use crate::{Aws, AwsError, Result};

/// How long the waiters may wait for a function to become active or updated.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// One checked piece of work: the descriptor and the image it pins.
pub struct Planned {
    descriptor: Descriptor,
    image_uri: String,
}

/// Checks every descriptor before any call.
pub fn plan(descriptors: Vec<Descriptor>) -> Result<Vec<Planned>> {
    descriptors
        .into_iter()
        .map(|descriptor| {
            let remote = descriptor.remote_image.as_ref().ok_or_else(|| {
                AwsError::InvalidInput(format!(
                    "descriptor `{}` has no remote_image; pipe the output of jot-push into jot-deploy",
                    descriptor.name
                ))
            })?;
            let image_uri = pinned_image(remote)?;
            Ok(Planned {
                descriptor,
                image_uri,
            })
        })
        .collect()
}

/// Lambda and IAM with the settings of one run.
pub struct Deployer {
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    ctx: Context,
    iam_ctx: Context,
    settings: Settings,
    /// jot's role once resolved: ARN and whether this run created it.
    jot_role: Option<(String, bool)>,
}

impl Deployer {
    /// Connects, refuses descriptors of another account or region, and
    /// checks a given `--role` before any function is touched.
    pub async fn connect(
        settings: Settings,
        selection: &jot_core::cli::AwsSelection,
        planned: &[Planned],
    ) -> Result<Deployer> {
        let aws = Aws::load(selection).await?;
        aws.check_origin(planned.iter().map(|p| &p.descriptor))
            .await?;
        let deployer = Deployer {
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
        Ok(deployer)
    }

    /// Deploys one image; returns its `function` descriptor.
    pub async fn deploy(&mut self, item: Planned) -> Result<Descriptor> {
        self.deploy_image(item.descriptor, &item.image_uri).await
    }
}
