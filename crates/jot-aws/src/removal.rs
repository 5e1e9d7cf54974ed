//! The delete calls of `jot-rm`, one resource each. Every call treats "already
//! gone" as done (`Ok(false)`), so a removal interrupted half-way is finished
//! by running it again. What to delete, and in what order, is decided by the
//! inventory's plan; nothing here decides whether a resource may go.

use aws_sdk_ecr::types::ImageIdentifier;

use crate::error::{Context, error_code};
use crate::{Aws, AwsError, Result, retry};

/// Deletes Lambda, ECR and IAM resources.
pub struct Remover {
    ecr: aws_sdk_ecr::Client,
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    ecr_ctx: Context,
    lambda_ctx: Context,
    iam_ctx: Context,
}

fn gone(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.ends_with("NotFoundException") || c == "NoSuchEntity")
}

impl Remover {
    pub fn new(aws: &Aws) -> Remover {
        Remover {
            ecr: aws.ecr(),
            lambda: aws.lambda(),
            iam: aws.iam(),
            ecr_ctx: aws.context("ECR"),
            lambda_ctx: aws.context("Lambda"),
            iam_ctx: aws.context("IAM"),
        }
    }

    pub async fn delete_alias(&self, function: &str, alias: &str) -> Result<bool> {
        let answer = retry::on_conflict(&format!("{function}: DeleteAlias"), || {
            self.lambda
                .delete_alias()
                .function_name(function)
                .name(alias)
                .send()
        })
        .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if gone(error_code(&e)) => Ok(false),
            Err(e) => Err(self.lambda_ctx.sdk("DeleteAlias", e)),
        }
    }

    /// Deletes a published version (`Some`) or the whole function (`None`).
    pub async fn delete_function(&self, function: &str, version: Option<&str>) -> Result<bool> {
        let answer = retry::on_conflict(&format!("{function}: DeleteFunction"), || {
            self.lambda
                .delete_function()
                .function_name(function)
                .set_qualifier(version.map(str::to_string))
                .send()
        })
        .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if gone(error_code(&e)) => Ok(false),
            Err(e) => Err(self.lambda_ctx.sdk("DeleteFunction", e)),
        }
    }

    /// Deletes images by digest (every tag of each goes with it).
    pub async fn delete_image(&self, repository: &str, digest: &str) -> Result<bool> {
        let answer = retry::on_throttling("BatchDeleteImage", || {
            self.ecr
                .batch_delete_image()
                .repository_name(repository)
                .image_ids(ImageIdentifier::builder().image_digest(digest).build())
                .send()
        })
        .await;
        match answer {
            Ok(output) => {
                if let Some(failure) = output
                    .failures()
                    .iter()
                    .find(|f| f.failure_code().map(|c| c.as_str()) != Some("ImageNotFound"))
                {
                    return Err(AwsError::Service {
                        operation: "BatchDeleteImage".into(),
                        code: failure
                            .failure_code()
                            .map(|c| c.as_str().to_string())
                            .unwrap_or_default(),
                        message: failure.failure_reason().unwrap_or_default().to_string(),
                    });
                }
                Ok(!output.image_ids().is_empty())
            }
            Err(e) if gone(error_code(&e)) => Ok(false),
            Err(e) => Err(self.ecr_ctx.sdk("BatchDeleteImage", e)),
        }
    }

    /// Deletes an empty repository (ECR refuses one that still holds images).
    pub async fn delete_repository(&self, repository: &str) -> Result<bool> {
        let answer = retry::on_throttling("DeleteRepository", || {
            self.ecr
                .delete_repository()
                .repository_name(repository)
                .send()
        })
        .await;
        match answer {
            Ok(_) => Ok(true),
            Err(e) if gone(error_code(&e)) => Ok(false),
            Err(e) => Err(self.ecr_ctx.sdk("DeleteRepository", e)),
        }
    }

    /// Detaches every managed policy of an IAM role, then deletes it.
    pub async fn delete_role(&self, role: &str) -> Result<bool> {
        let attached = match self
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
        {
            Ok(output) => output.attached_policies().to_vec(),
            Err(e) if gone(error_code(&e)) => return Ok(false),
            Err(e) => return Err(self.iam_ctx.sdk("ListAttachedRolePolicies", e)),
        };
        for policy in attached {
            let Some(arn) = policy.policy_arn() else {
                continue;
            };
            match self
                .iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if gone(error_code(&e)) => {}
                Err(e) => return Err(self.iam_ctx.sdk("DetachRolePolicy", e)),
            }
        }
        match self.iam.delete_role().role_name(role).send().await {
            Ok(_) => Ok(true),
            Err(e) if gone(error_code(&e)) => Ok(false),
            Err(e) => Err(self.iam_ctx.sdk("DeleteRole", e)),
        }
    }

    /// Whether the role exists and carries jot's tag.
    pub async fn role_is_jot(&self, role: &str) -> Result<Option<bool>> {
        match self.iam.get_role().role_name(role).send().await {
            Ok(output) => {
                let tags: std::collections::HashMap<String, String> = output
                    .role()
                    .map(|r| {
                        r.tags()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Some(crate::tags::is_jot(Some(&tags))))
            }
            Err(e) if gone(error_code(&e)) => Ok(None),
            Err(e) => Err(self.iam_ctx.sdk("GetRole", e)),
        }
    }
}
