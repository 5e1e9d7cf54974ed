//! Who owns a sandbox: every container jot-serve starts carries its owner
//! (jot-docker's [`jot_docker::owner`]) under [`OWNER_LABEL`], so a later
//! jot-serve removes the sandboxes of one that crashed or was SIGKILLed and
//! leaves a live server's alone.

use jot_docker::Docker;

/// Container label holding `BOOT_ID/PID/START_TICKS` of the jot-serve that started it.
pub const OWNER_LABEL: &str = "dev.jot.serve.owner";

/// This process's owner value.
pub fn current() -> String {
    jot_docker::owner::current()
}

/// Removes the sandboxes of jot-serves that are no longer running; returns how many.
pub async fn remove_strays(docker: &Docker) -> Result<usize, jot_docker::DockerError> {
    jot_docker::owner::remove_strays(docker, OWNER_LABEL).await
}

/// Removes every sandbox this process started (the last sweep of a shutdown).
pub async fn remove_own(docker: &Docker) -> usize {
    jot_docker::owner::remove_own(docker, OWNER_LABEL).await
}
