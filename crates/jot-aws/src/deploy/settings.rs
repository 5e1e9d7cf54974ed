//! Deploy settings: the flags checked once against Lambda's limits, before
//! any AWS call, into the values the lifecycle applies.

use std::collections::HashMap;

use aws_sdk_lambda::types::Architecture;
use jot_core::descriptor::RemoteImage;
use jot_core::limits::{self, Architecture as Arch};

use crate::{AwsError, Result};

/// Defaults for a new function when the flag is not given (an update keeps
/// the function's current value instead): the memory is
/// [`jot_core::limits::DEFAULT_MEMORY_MB`], the timeout this.
pub const DEFAULT_TIMEOUT_SECONDS: u32 = 60;
/// Lambda's limit on a function description.
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// The command line of a deploy, as given.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub role: Option<String>,
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    /// `NAME=VALUE` pairs; when given they replace the function's variables.
    pub environment: Vec<String>,
    pub architecture: Option<Arch>,
    pub ephemeral_storage: Option<u32>,
    pub description: Option<String>,
    pub alias: Option<String>,
    pub force: bool,
    /// Turn SnapStart on for published versions.
    pub snap_start: bool,
}

/// Checked settings: each `None` means "keep the function's value" on an
/// update and "use the default" on a create. Made only by [`Settings::check`].
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
    /// `Some(true)`: SnapStart on for published versions; `None`: keep.
    pub snap_start: Option<bool>,
}

impl Settings {
    /// Checks every flag against Lambda's limits; no AWS call is made before this passes.
    pub fn check(options: &DeployOptions) -> Result<Settings> {
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
            architecture: options.architecture.map(lambda_architecture),
            ephemeral_storage,
            description: options.description.clone(),
            alias: options.alias.clone(),
            snap_start: options.snap_start.then_some(true),
            force: options.force,
        })
    }
}

/// The SDK's architecture for ours.
pub fn lambda_architecture(arch: Arch) -> Architecture {
    match arch {
        Arch::X86_64 => Architecture::X8664,
        Arch::Arm64 => Architecture::Arm64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::roles::TRUST_POLICY;

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
            let err = Settings::check(&options).unwrap_err();
            assert_eq!(jot_core::Error::from(err).exit_code(), 5, "{options:?}");
        }
        let good = Settings::check(&DeployOptions {
            memory: Some(2048),
            environment: vec!["A1=b".into()],
            architecture: Some(Arch::Arm64),
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
