//! Collecting every copy at once: the engine, ECR and Lambda are asked
//! concurrently, and each that fails is kept as its own error so the rest of
//! the table still shows.

use jot_aws::listing::{FunctionListing, Lister, RepositoryListing};
use jot_core::{Error, Result};

use crate::filter::NameFilter;
use crate::model::LocalCopy;

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub local: bool,
    pub remote: bool,
    /// Include resources without jot's labels or tags.
    pub foreign: bool,
    /// Read every function's versions and aliases, whatever its name (jot-rm:
    /// any remaining function may pin an image, or use jot's role).
    pub every_function: bool,
    /// AWS calls in flight at most.
    pub concurrency: usize,
    /// The AWS profile and region to list.
    pub aws: jot_core::cli::AwsSelection,
}

/// What was found, service by service; `None` for a service not asked.
pub struct Collected {
    pub local: Option<Result<Vec<LocalCopy>>>,
    pub repositories: Option<Result<Vec<RepositoryListing>>>,
    pub functions: Option<Result<Vec<FunctionListing>>>,
}

impl Collected {
    /// The failures, one line each, naming the service.
    pub fn failures(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut add = |service: &str, error: Option<&Error>| {
            if let Some(e) = error {
                lines.push(format!("{service}: {e}"));
            }
        };
        add("Docker", self.local.as_ref().and_then(|r| r.as_ref().err()));
        add(
            "ECR",
            self.repositories.as_ref().and_then(|r| r.as_ref().err()),
        );
        add(
            "Lambda",
            self.functions.as_ref().and_then(|r| r.as_ref().err()),
        );
        lines
    }
}

/// Collects what `scope` asks for; a service that cannot be reached is an
/// error in its slot, not a failure of the whole.
pub async fn collect(scope: &Scope, filter: &NameFilter) -> Collected {
    let local = async {
        if !scope.local {
            return None;
        }
        Some(match jot_docker::connect().await {
            Ok(docker) => crate::local::collect_local(&docker, filter, scope.foreign).await,
            Err(e) => Err(Error::from(e)),
        })
    };
    let remote = async {
        if !scope.remote {
            return (None, None);
        }
        let aws = match jot_aws::Aws::load(&scope.aws).await {
            Ok(aws) => aws,
            Err(e) => {
                // One cause for both services: say it once, as Lambda's.
                let message = Error::from(e);
                let again = Error::Aws {
                    failure: jot_core::error::AwsFailure::Other,
                    message: "not listed (no AWS configuration, see Lambda)".into(),
                };
                return (Some(Err(again)), Some(Err(message)));
            }
        };
        let lister = Lister::new(&aws, scope.concurrency);
        let wanted = |name: &str| filter.matches(name);
        let every = |_: &str| true;
        let function_filter: jot_aws::listing::NameFilter<'_> = if scope.every_function {
            &every
        } else {
            &wanted
        };
        let (repositories, functions) = tokio::join!(
            lister.repositories(&wanted),
            lister.functions(function_filter, scope.foreign || scope.every_function)
        );
        (
            Some(repositories.map_err(Error::from)),
            Some(functions.map_err(Error::from)),
        )
    };
    let (local, (repositories, functions)) = tokio::join!(local, remote);
    Collected {
        local,
        repositories,
        functions,
    }
}
