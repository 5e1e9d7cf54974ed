//! Carrying out a plan, step by step in its order. The first failure (or a
//! stop signal) ends the run: what was done and what remains are both in the
//! [`Outcome`], and since every step treats "already gone" as done, running
//! the removal again finishes the job.

use std::future::Future;

use jot_aws::removal::Remover;
use jot_core::error::StopSignal;
use jot_core::{Error, Result};
use jot_docker::Docker;

use crate::plan::{Action, Plan};

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
pub async fn execute(
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
        let result = tokio::select! {
            biased;
            signal = &mut stop => {
                outcome.stopped = Some(signal);
                outcome.remaining.push(step.clone());
                break;
            }
            result = run_step(step, remover, docker) => result,
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
