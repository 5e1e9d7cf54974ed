//! The Docker engine as jot uses it, and the only crate that talks to it:
//! connection with API version negotiation (so engines as old as 20.10
//! work), images (inspect, list, tag, remove, pull, load, build, push with
//! progress on stderr), sandboxes (create with Lambda's limits, start,
//! limit, wait, kill, logs), one-shot containers run to their end on files
//! jot gives them, and sweeps of containers by label and [`owner`]. The network
//! mode of sandboxes and build steps is decided once, in [`NetworkMode`].
//! Errors say whether the engine could not be reached or refused, so a
//! service can map them; no engine-client type appears in this API.

mod build;
mod connect;
mod containers;
mod error;
mod images;
mod network;
mod oneshot;
pub mod owner;
mod push;
mod sandbox;

pub use build::{BuildError, BuildImage, build_image};
pub use connect::{Docker, connect, docker_host};
pub use containers::{
    ContainerFilter, ContainerSummary, list_containers, remove_container, remove_containers,
};
pub use error::{DockerError, Result};
pub use images::{
    HistoryEntry, Image, ImageSummary, child_images, image_history, inspect_image, list_all_images,
    list_images, load_image, pull_image, remove_image, tag_image,
};
pub use network::NetworkMode;
pub use oneshot::{OneShot, OneShotExit, run_one_shot};
pub use push::{PushProgress, digest_in_status, push_image, push_platform, repo_digest};
pub use sandbox::{
    SandboxExit, SandboxSpec, create_sandbox, kill_sandbox, limit_cpus, sandbox_log, start_sandbox,
    wait_sandbox, wait_stopped,
};
