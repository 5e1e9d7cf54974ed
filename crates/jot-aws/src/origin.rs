//! The account and region a descriptor was made in, checked against the
//! run's before anything acts on it, and the origin recorded in descriptors.

use jot_core::descriptor::{AwsOrigin, Descriptor};

use crate::{Aws, AwsError, Result};

impl Aws {
    /// The account the credentials belong to: from the credentials when the
    /// provider says (SSO, credential_process), else STS GetCallerIdentity.
    pub async fn account(&self) -> Result<String> {
        use aws_credential_types::provider::ProvideCredentials;
        if let Some(provider) = self.sdk_config().credentials_provider()
            && let Ok(credentials) = provider.provide_credentials().await
            && let Some(account) = credentials.account_id()
        {
            return Ok(account.as_str().to_string());
        }
        let sts = self.sts();
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| self.context("STS").sdk("GetCallerIdentity", e))?;
        identity
            .account()
            .map(str::to_string)
            .ok_or_else(|| AwsError::Other("STS GetCallerIdentity named no account".into()))
    }

    /// Refuses (bad input, exit 5) descriptors made in another account or
    /// region than this run's, before anything acts on them. The region
    /// needs no call; the account one STS call, only when a descriptor names one.
    pub async fn check_origin<'a>(
        &self,
        descriptors: impl IntoIterator<Item = &'a Descriptor>,
    ) -> Result<()> {
        let region = self.region();
        let mut account: Option<String> = None;
        for descriptor in descriptors {
            let Some(origin) = &descriptor.aws else {
                continue;
            };
            let mismatch = |here: &str| {
                AwsError::InvalidInput(format!(
                    "descriptor `{}` was made in {origin}, but this run acts in {here}; choose that one with --profile/--region (or jot.toml's profile/region), or rebuild the pipe there",
                    descriptor.name
                ))
            };
            if origin.region != region {
                return Err(mismatch(&format!("region {region}")));
            }
            if let Some(wanted) = &origin.account {
                if account.is_none() {
                    account = Some(self.account().await?);
                }
                let here = account.as_deref().unwrap_or_default();
                if wanted != here {
                    return Err(mismatch(&format!("account {here}, region {region}")));
                }
            }
        }
        Ok(())
    }

    /// The origin of a resource created in this run's region by `account`.
    pub fn origin(&self, account: Option<String>) -> AwsOrigin {
        AwsOrigin {
            account,
            region: self.region(),
        }
    }
}
