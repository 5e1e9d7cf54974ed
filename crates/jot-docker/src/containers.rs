//! Containers found by an engine filter and removed by force: the sweeps that
//! leave nothing behind (strays of a dead server, a cancelled build's step).

use std::collections::HashMap;

use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};

use crate::Docker;
use crate::error::{DockerError, Result};

/// Which containers a sweep looks at.
#[derive(Debug, Clone, Copy)]
pub enum ContainerFilter<'a> {
    /// Those carrying a label: `KEY` (any value) or `KEY=VALUE`.
    Label(&'a str),
    /// Those running an image (by id or reference).
    Ancestor(&'a str),
}

impl ContainerFilter<'_> {
    fn engine_filter(&self) -> (&'static str, &str) {
        match self {
            ContainerFilter::Label(value) => ("label", value),
            ContainerFilter::Ancestor(value) => ("ancestor", value),
        }
    }
}

/// One container of a listing.
#[derive(Debug, Clone, Default)]
pub struct ContainerSummary {
    pub id: String,
    pub labels: HashMap<String, String>,
}

/// Every container, running or not, that `filter` matches.
pub async fn list_containers(
    docker: &Docker,
    filter: ContainerFilter<'_>,
) -> Result<Vec<ContainerSummary>> {
    let (name, value) = filter.engine_filter();
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&HashMap::from([(name, vec![value])]))
        .build();
    let containers = docker
        .client
        .list_containers(Some(options))
        .await
        .map_err(|e| {
            DockerError::from_engine(&format!("listing containers ({name}={value})"), e)
        })?;
    Ok(containers
        .into_iter()
        .filter_map(|c| {
            Some(ContainerSummary {
                id: c.id?,
                labels: c.labels.unwrap_or_default(),
            })
        })
        .collect())
}

/// Removes the containers (killed first if running); returns how many went.
pub async fn remove_containers(
    docker: &Docker,
    containers: impl IntoIterator<Item = ContainerSummary>,
) -> usize {
    let mut removed = 0;
    for container in containers {
        if remove_container(docker, &container.id).await {
            removed += 1;
        }
    }
    removed
}

/// Removes one container by force (killed first if running); true when it went.
pub async fn remove_container(docker: &Docker, id: &str) -> bool {
    let force = RemoveContainerOptionsBuilder::default().force(true).build();
    docker
        .client
        .remove_container(id, Some(force))
        .await
        .is_ok()
}
