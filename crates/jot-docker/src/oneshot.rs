//! One-shot containers: a program of an image run to its end on files jot
//! hands it (a build's parse of a responder), with no network and no new
//! privileges, and removed on every path: by the caller's run when it ends,
//! and, if its process died meanwhile, by the next run of the same kind
//! ([`crate::owner`]).

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{LogsOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::StreamExt;

use crate::error::{DockerError, Result};
use crate::{Docker, owner, remove_container, start_sandbox, wait_sandbox};

/// What a one-shot container runs.
#[derive(Debug, Clone, Default)]
pub struct OneShot {
    pub image: String,
    /// The program and its arguments.
    pub cmd: Vec<String>,
    /// `UID:GID` it runs as.
    pub user: String,
    pub env: Vec<(String, String)>,
    /// A tar archive unpacked at `/` before the start.
    pub files: Vec<u8>,
    /// The label of its kind: it holds the owner, so the strays of a dead
    /// process are found by it.
    pub kind_label: String,
    /// Memory limit in bytes, swap included.
    pub memory_bytes: i64,
    /// How long it may run before it is killed.
    pub deadline: Duration,
}

/// How a one-shot container ended.
#[derive(Debug, Clone)]
pub struct OneShotExit {
    /// Its exit status; None when it was killed at its deadline.
    pub code: Option<i64>,
    /// What it wrote on stdout and stderr, in order.
    pub output: String,
}

/// Runs `spec` to its end (or its deadline) and removes its container.
pub async fn run_one_shot(docker: &Docker, spec: &OneShot) -> Result<OneShotExit> {
    owner::remove_strays(docker, &spec.kind_label).await?;
    let id = create(docker, spec).await?;
    let ran = run(docker, spec, &id).await;
    remove_container(docker, &id).await;
    ran
}

async fn create(docker: &Docker, spec: &OneShot) -> Result<String> {
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.cmd.clone()),
        entrypoint: Some(Vec::new()),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: Some(spec.user.clone()),
        labels: Some(HashMap::from([(spec.kind_label.clone(), owner::current())])),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            network_mode: Some("none".into()),
            memory: Some(spec.memory_bytes),
            memory_swap: Some(spec.memory_bytes),
            security_opt: Some(vec!["no-new-privileges".to_string()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    docker
        .client
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .map(|created| created.id)
        .map_err(|e| {
            DockerError::from_engine(&format!("creating a container of {}", spec.image), e)
        })
}

async fn run(docker: &Docker, spec: &OneShot, id: &str) -> Result<OneShotExit> {
    let options = UploadToContainerOptionsBuilder::default().path("/").build();
    docker
        .client
        .upload_to_container(
            id,
            Some(options),
            bollard::body_full(spec.files.clone().into()),
        )
        .await
        .map_err(|e| DockerError::from_engine("copying files into a container", e))?;
    start_sandbox(docker, id, &spec.image).await?;
    let code = match tokio::time::timeout(spec.deadline, wait_sandbox(docker, id)).await {
        Ok(exit) => Some(exit.code),
        Err(_) => None,
    };
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = docker.client.logs(id, Some(options));
    let mut output = String::new();
    while let Some(Ok(chunk)) = stream.next().await {
        output.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    Ok(OneShotExit { code, output })
}
