//! Sandboxes: containers of a function image with Lambda's limits, created,
//! started, limited, watched, read and removed. Every sandbox is made here,
//! so what all of them share (the network mode, a read-only root, a
//! writable /tmp, no new privileges) is decided once.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, ContainerUpdateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, KillContainerOptionsBuilder,
    LogsOptionsBuilder, StartContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;

use crate::Docker;
use crate::error::{DockerError, Result};

/// What a sandbox is made of.
#[derive(Debug, Clone, Default)]
pub struct SandboxSpec {
    /// The container's name.
    pub name: String,
    pub image: String,
    /// Its environment, in order.
    pub env: Vec<(String, String)>,
    /// `UID:GID` the process runs as.
    pub user: String,
    pub labels: HashMap<String, String>,
    /// Memory limit in bytes, swap included (so no swap).
    pub memory_bytes: i64,
    /// Size of the writable /tmp, in MiB.
    pub tmp_size_mb: u32,
    /// Most processes it may run (None: the engine's default).
    pub pids_limit: Option<i64>,
}

/// How a stopped sandbox ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxExit {
    /// Its exit status (-1 when the engine did not say).
    pub code: i64,
    /// Whether the kernel killed it for memory.
    pub oom_killed: bool,
}

/// Creates (does not start) a sandbox; returns the container id. The engine's
/// 404 (no such image) comes back as such: see [`DockerError::is_not_found`].
pub async fn create_sandbox(docker: &Docker, spec: &SandboxSpec) -> Result<String> {
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        user: Some(spec.user.clone()),
        labels: Some(spec.labels.clone()),
        host_config: Some(HostConfig {
            network_mode: Some(docker.network().engine_name().to_string()),
            readonly_rootfs: Some(true),
            tmpfs: Some(HashMap::from([(
                "/tmp".to_string(),
                format!("rw,exec,nosuid,size={}m,mode=1777", spec.tmp_size_mb),
            )])),
            memory: Some(spec.memory_bytes),
            memory_swap: Some(spec.memory_bytes),
            pids_limit: spec.pids_limit,
            // A setuid program in the image gains nothing: the function
            // keeps the unprivileged user it was started as.
            security_opt: Some(vec!["no-new-privileges".to_string()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default()
        .name(&spec.name)
        .build();
    docker
        .client
        .create_container(Some(options), body)
        .await
        .map(|created| created.id)
        .map_err(|e| {
            DockerError::from_engine(&format!("creating a container of {}", spec.image), e)
        })
}

/// Starts a created sandbox.
pub async fn start_sandbox(docker: &Docker, id: &str, image: &str) -> Result<()> {
    docker
        .client
        .start_container(id, None::<StartContainerOptions>)
        .await
        .map_err(|e| DockerError::from_engine(&format!("starting a container of {image}"), e))
}

/// Limits a running sandbox to `cpus` CPUs.
pub async fn limit_cpus(docker: &Docker, id: &str, cpus: f64) -> Result<()> {
    let limit = ContainerUpdateBody {
        nano_cpus: Some((cpus * 1e9) as i64),
        ..Default::default()
    };
    docker
        .client
        .update_container(id, limit)
        .await
        .map_err(|e| DockerError::from_engine("limiting a container's CPUs", e))
}

/// Waits until the sandbox has stopped (at once if it has); how it ended.
pub async fn wait_sandbox(docker: &Docker, id: &str) -> SandboxExit {
    let mut wait = docker
        .client
        .wait_container(id, None::<WaitContainerOptions>);
    let code = match wait.next().await {
        Some(Ok(response)) => response.status_code,
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        _ => -1,
    };
    let oom_killed = docker
        .client
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .ok()
        .and_then(|c| c.state)
        .and_then(|s| s.oom_killed)
        .unwrap_or(false);
    SandboxExit { code, oom_killed }
}

/// Waits until the sandbox has stopped, without asking how.
pub async fn wait_stopped(docker: &Docker, id: &str) {
    let mut wait = docker
        .client
        .wait_container(id, None::<WaitContainerOptions>);
    let _ = wait.next().await;
}

/// Sends SIGKILL (best effort: one already gone is fine).
pub async fn kill_sandbox(docker: &Docker, id: &str) {
    let options = KillContainerOptionsBuilder::default()
        .signal("KILL")
        .build();
    let _ = docker.client.kill_container(id, Some(options)).await;
}

/// The sandbox's stdout and stderr since `since` (seconds since the epoch),
/// chunk by chunk as the engine has them, each starting with its RFC 3339
/// timestamp and a space. A read error ends the log early.
pub async fn sandbox_log(docker: &Docker, id: &str, since: i32) -> Vec<String> {
    let options = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .since(since)
        .build();
    let mut stream = docker.client.logs(id, Some(options));
    let mut chunks = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        chunks.push(String::from_utf8_lossy(&chunk.into_bytes()).into_owned());
    }
    chunks
}
