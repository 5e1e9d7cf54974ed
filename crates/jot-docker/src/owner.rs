//! Which process owns a container: containers jot starts for the length of
//! one process (jot-serve's sandboxes, a build's parse) carry their owner's
//! boot id, pid and process start time under a label of their kind, so a
//! later process can tell the containers of a live owner (left alone) from
//! those of one that crashed or was SIGKILLed (removed). A pid alone could
//! have been reused.

use crate::containers::{ContainerFilter, list_containers, remove_containers};
use crate::{Docker, Result};

/// This process's owner value: `BOOT_ID/PID/START_TICKS`.
pub fn current() -> String {
    owner_of(std::process::id()).unwrap_or_else(|| format!("unknown/{}/0", std::process::id()))
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The owner value of a running process, from /proc (None if it is gone).
fn owner_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (start time) counts from after the command name's closing ')'.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let start = after_name.split(' ').nth(19)?;
    Some(format!("{}/{pid}/{start}", boot_id()))
}

/// True while the process that wrote `owner` still runs.
pub fn is_alive(owner: &str) -> bool {
    let Some(pid) = owner.split('/').nth(1).and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    owner_of(pid).is_some_and(|now| now == owner)
}

/// Removes the containers whose owner under `label` no longer runs; returns how many.
pub async fn remove_strays(docker: &Docker, label: &str) -> Result<usize> {
    let containers = list_containers(docker, ContainerFilter::Label(label)).await?;
    let strays = containers.into_iter().filter(|container| {
        let owner = container
            .labels
            .get(label)
            .map(String::as_str)
            .unwrap_or_default();
        !is_alive(owner)
    });
    Ok(remove_containers(docker, strays).await)
}

/// Removes every container this process owns under `label`.
pub async fn remove_own(docker: &Docker, label: &str) -> usize {
    let me = format!("{label}={}", current());
    match list_containers(docker, ContainerFilter::Label(&me)).await {
        Ok(containers) => remove_containers(docker, containers).await,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_owner_is_told_from_a_dead_or_reused_pid() {
        let me = current();
        assert!(is_alive(&me), "{me}");
        let parts: Vec<&str> = me.split('/').collect();
        assert_eq!(parts.len(), 3);
        let reused = format!("{}/{}/1", parts[0], parts[1]);
        assert!(!is_alive(&reused), "same pid, other start time");
        assert!(!is_alive(&format!("{}/999999999/1", parts[0])));
        assert!(!is_alive("garbage"));
    }
}
