//! Carrying out a plan, step by step in its order. The first failure (or a
//! stop signal) ends the run: what was done and what remains are both in the
//! [`Outcome`], and since every step treats "already gone" as done, running
//! the removal again finishes the job.

use std::future::Future;

use jot_aws::removal::Remover;
use jot_core::error::StopSignal;
use jot_core::{Error, Result};
use jot_docker::Docker;

use crate::Scope;
use crate::filter::NameFilter;
use crate::plan::{Action, Part, Plan, RemoveOptions};

/// How long a step in flight may go on after a stop signal.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// What a run did and what it left.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each step done, and whether it found something to delete.
    pub done: Vec<(Action, bool)>,
    /// Steps not done (the failed one first).
    pub remaining: Vec<Action>,
    /// Why the run stopped early.
    pub error: Option<Error>,
    pub stopped: Option<StopSignal>,
}

/// Runs the steps of `plan` in order until one fails or `stop` resolves.
async fn execute(
    plan: &Plan,
    remover: Option<&Remover>,
    docker: Option<&Docker>,
    stop: impl Future<Output = StopSignal>,
    mut on_done: impl FnMut(&Action, bool),
) -> Outcome {
    let mut outcome = Outcome::default();
    tokio::pin!(stop);
    let mut steps = plan.steps.iter();
    for step in steps.by_ref() {
        let call = run_step(step, remover, docker);
        tokio::pin!(call);
        let result = tokio::select! {
            biased;
            result = &mut call => result,
            signal = &mut stop => {
                // A call in flight may already have deleted its resource: let
                // it finish (briefly) so "remains" says what really remains.
                outcome.stopped = Some(signal);
                match tokio::time::timeout(STOP_GRACE, &mut call).await {
                    Ok(result) => result,
                    Err(_) => {
                        outcome.remaining.push(step.clone());
                        break;
                    }
                }
            }
        };
        match result {
            Ok(found) => {
                on_done(step, found);
                outcome.done.push((step.clone(), found));
            }
            Err(e) => {
                outcome.error = Some(e);
                outcome.remaining.push(step.clone());
                break;
            }
        }
        if outcome.stopped.is_some() {
            break;
        }
    }
    outcome.remaining.extend(steps.cloned());
    outcome
}

async fn run_step(
    step: &Action,
    remover: Option<&Remover>,
    docker: Option<&Docker>,
) -> Result<bool> {
    let aws = || {
        remover.ok_or_else(|| Error::Internal(format!("{step}: no AWS connection for this step")))
    };
    Ok(match step {
        Action::DeleteFunction { function, .. } => aws()?.delete_function(function, None).await?,
        Action::DeleteVersion { function, version } => {
            aws()?.delete_function(function, Some(version)).await?
        }
        Action::DeleteImage {
            repository, digest, ..
        } => aws()?.delete_image(repository, digest).await?,
        Action::DeleteRepository { repository } => aws()?.delete_repository(repository).await?,
        Action::DeleteRole { role } => match aws()?.role_is_jot(role).await? {
            Some(true) => aws()?.delete_role(role).await?,
            Some(false) => {
                jot_core::output::note(format!(
                    "IAM role {role} was not created by jot (no dev.jot.role tag); left in place"
                ));
                false
            }
            None => false,
        },
        Action::RemoveLocal { reference } => {
            let docker = docker.ok_or_else(|| {
                Error::Internal(format!("{step}: no Docker connection for this step"))
            })?;
            jot_docker::remove_image(docker, reference, false).await?
        }
    })
}

/// Collects what `filter` names (and every function, for what pins images)
/// and plans its removal; services that fail are listed in `plan.unknown`.
pub async fn prepare(
    filter: &NameFilter,
    options: &RemoveOptions,
    aws: &jot_core::cli::AwsSelection,
) -> Result<Plan> {
    let remote = options.only != Some(Part::Local);
    let scope = Scope {
        local: matches!(options.only, None | Some(Part::Local)),
        remote,
        foreign: true,
        every_function: remote,
        concurrency: jot_aws::listing::DEFAULT_CONCURRENCY,
        aws: aws.clone(),
    };
    let collected = crate::collect(&scope, filter).await;
    let failures = collected.failures();
    let jots = crate::join(&collected, filter, true);
    if jots.is_empty() && failures.is_empty() {
        return Err(Error::InvalidInput(format!(
            "nothing named {} exists (jot-ls --remote --all lists what does)",
            filter.given().collect::<Vec<_>>().join(", ")
        )));
    }
    let functions = match &collected.functions {
        Some(Ok(functions)) => functions.as_slice(),
        _ => &[],
    };
    let mut plan = crate::plan(&jots, functions, options)?;
    plan.unknown
        .extend(failures.iter().map(|f| format!("(not listed) {f}")));
    Ok(plan)
}

/// Connects to what the steps need and runs them (see [`execute`]).
pub async fn carry_out(
    plan: &Plan,
    aws: &jot_core::cli::AwsSelection,
    stop: impl Future<Output = StopSignal>,
    on_done: impl FnMut(&Action, bool),
) -> Result<Outcome> {
    let needs_aws = plan
        .steps
        .iter()
        .any(|s| !matches!(s, Action::RemoveLocal { .. }));
    let remover = match needs_aws {
        true => Some(Remover::new(&jot_aws::Aws::load(aws).await?)),
        false => None,
    };
    let needs_docker = plan
        .steps
        .iter()
        .any(|s| matches!(s, Action::RemoveLocal { .. }));
    let docker = match needs_docker {
        true => Some(jot_docker::connect().await?),
        false => None,
    };
    Ok(execute(plan, remover.as_ref(), docker.as_ref(), stop, on_done).await)
}

impl Outcome {
    /// The run's result: an error saying what remains when anything does.
    pub fn finish(self, plan: &Plan) -> Result<()> {
        let again = "run the same jot-rm again to finish";
        let left = self.remaining.len();
        if let Some(signal) = self.stopped {
            return Err(Error::Interrupted {
                signal,
                what: format!("stopped; {left} steps remain (listed above); {again}"),
            });
        }
        match self.error {
            Some(e) if self.done.is_empty() && plan.unknown.is_empty() => Err(e),
            Some(e) => Err(Error::Partial(format!(
                "{e}; {left} steps remain (listed above); {again}"
            ))),
            None if !plan.unknown.is_empty() => Err(Error::Partial(format!(
                "some parts were not listed or checked (above); {again}"
            ))),
            None => Ok(()),
        }
    }
}
