//! Which account and region a run acts in: the profile and region chosen by
//! `--profile`/`--region`, the environment or `jot.toml` (jot-core's
//! `AwsSelection`) applied over the standard chain; a chosen profile checked
//! before any call, so a missing one, an expired SSO session or a failing
//! `credential_process` is one line saying what to run; and the account and
//! region a descriptor was made in, checked against the run's.

use std::borrow::Cow;

use aws_config::ConfigLoader;
use aws_config::profile::ProfileSet;
use aws_credential_types::provider::error::CredentialsError;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use jot_core::cli::AwsSelection;

use crate::{AwsError, Result};

/// How a chosen profile gets its credentials, to say what to run when it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProfileKind {
    /// No profile was chosen: the chain's own.
    #[default]
    Chain,
    Sso(String),
    Process(String),
    Other(String),
}

impl ProfileKind {
    /// The one line for credentials the chosen profile could not give.
    pub fn credentials_error(&self, error: CredentialsError) -> AwsError {
        // One line: a process's stderr may span several.
        let detail = jot_core::error::innermost_cause(&error)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match self {
            ProfileKind::Chain => AwsError::NoCredentials(detail),
            ProfileKind::Sso(p) => AwsError::Profile(format!(
                "profile {p}: the SSO session is missing or expired ({detail}); run `aws sso login --profile {p}`"
            )),
            ProfileKind::Process(p) => AwsError::Profile(format!(
                "profile {p}: its credential_process failed ({detail}); run that command by hand to see why, or fix it in ~/.aws/config"
            )),
            ProfileKind::Other(p) => AwsError::Profile(format!(
                "profile {p}: no credentials ({detail}); run `aws configure --profile {p}`"
            )),
        }
    }
}

/// Checks that a chosen profile exists in the AWS config files, before any call.
pub async fn check_profile(selection: &AwsSelection) -> Result<ProfileKind> {
    let Some(chosen) = &selection.profile else {
        return Ok(ProfileKind::Chain);
    };
    let name = chosen.value.clone();
    let set: ProfileSet = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &Default::default(),
        Some(Cow::Owned(name.clone())),
    )
    .await
    .map_err(|e| {
        AwsError::Profile(format!(
            "profile {name}: cannot read the AWS config files: {e}"
        ))
    })?;
    let Some(profile) = set.get_profile(&name) else {
        return Err(AwsError::Profile(format!(
            "profile {name} (from {}) is not in the AWS config files (AWS_CONFIG_FILE, ~/.aws/config, ~/.aws/credentials); create it with `aws configure sso --profile {name}` or `aws configure --profile {name}`",
            chosen.from
        )));
    };
    Ok(
        if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
            ProfileKind::Sso(name)
        } else if profile.get("credential_process").is_some() {
            ProfileKind::Process(name)
        } else {
            ProfileKind::Other(name)
        },
    )
}

/// The loader with the chosen profile and region over the chain's.
pub fn select(mut loader: ConfigLoader, selection: &AwsSelection) -> ConfigLoader {
    if let Some(profile) = selection.profile_name() {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = selection.region_name() {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader
}
