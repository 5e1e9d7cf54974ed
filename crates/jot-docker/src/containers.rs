//! Containers found by an engine filter and removed by force: the sweeps that
//! leave nothing behind (strays of a dead server, a cancelled build's step).

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::ContainerSummary;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use crate::error::{DockerError, Result};

/// Every container, running or not, that the engine's `filter` (`label`,
/// `ancestor`, ...) matches with `value`.
pub async fn list_containers_where(
    docker: &Docker,
    filter: &str,
    value: &str,
) -> Result<Vec<ContainerSummary>> {
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&HashMap::from([(filter, vec![value])]))
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map_err(|e| DockerError::from_engine(&format!("listing containers ({filter}={value})"), e))
}

/// Removes the containers (killed first if running); returns how many went.
pub async fn remove_containers(
    docker: &Docker,
    containers: impl IntoIterator<Item = ContainerSummary>,
) -> usize {
    let mut removed = 0;
    for id in containers.into_iter().filter_map(|c| c.id) {
        let force = RemoveContainerOptionsBuilder::default().force(true).build();
        if docker.remove_container(&id, Some(force)).await.is_ok() {
            removed += 1;
        }
    }
    removed
}
