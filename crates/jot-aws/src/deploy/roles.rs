//! The execution role: a given `--role` checked before any function is
//! touched, or jot's own role found or created once per account with only the
//! basic execution policy.

use std::collections::HashMap;

use jot_core::output;

use super::Deployer;
use super::settings::trust_policy_allows_lambda;
use crate::error::error_code;
use crate::{AwsError, Result, tags};

/// The role jot creates (once per account) when no `--role` is given.
pub const ROLE_NAME: &str = "jot-lambda-basic-execution";
/// The only policy attached to jot's role: write logs, nothing else.
pub const BASIC_EXECUTION_POLICY: &str = "policy/service-role/AWSLambdaBasicExecutionRole";

pub(crate) const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

impl Deployer {
    /// Refuses a `--role` that does not exist or that Lambda cannot assume,
    /// before any function is touched. Without permission to read IAM the
    /// check is skipped with a note (Lambda will still refuse a bad role).
    pub(super) async fn check_role(&self, arn: &str) -> Result<()> {
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
    pub(super) async fn jot_role(&mut self) -> Result<(String, bool)> {
        if let Some(role) = &self.jot_role {
            return Ok(role.clone());
        }
        // Two deploys at once may both find no role: the one whose CreateRole
        // loses the race reads the winner's role instead of failing.
        let mut lost_create_race = false;
        let (arn, created) = loop {
            let found = match self.iam.get_role().role_name(ROLE_NAME).send().await {
                Ok(output) => output.role,
                Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
                Err(e) => return Err(self.iam_ctx.sdk("GetRole", e)),
            };
            match self.found_or_created_role(found, lost_create_race).await? {
                Some(role) => break role,
                None => lost_create_race = true,
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

    /// The role GetRole found, checked to be jot's, or a new one. `None` when
    /// another run created it between our GetRole and CreateRole (read again).
    async fn found_or_created_role(
        &self,
        found: Option<aws_sdk_iam::types::Role>,
        lost_create_race: bool,
    ) -> Result<Option<(String, bool)>> {
        Ok(Some(match found {
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
                    .await;
                let created = match created {
                    Ok(created) => created,
                    Err(e)
                        if error_code(&e) == Some("EntityAlreadyExists") && !lost_create_race =>
                    {
                        return Ok(None);
                    }
                    Err(e) => return Err(self.iam_ctx.sdk("CreateRole", e)),
                };
                let arn = created
                    .role()
                    .map(|r| r.arn().to_string())
                    .ok_or_else(|| AwsError::Other("CreateRole returned no role".into()))?;
                output::note(format!("created IAM role {arn} for jot functions"));
                (arn, true)
            }
        }))
    }
}

/// Lambda's answer while a new role cannot be assumed yet.
pub(super) fn role_not_ready<E, R>(error: &aws_sdk_lambda::error::SdkError<E, R>) -> bool
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
