//! The Docker engine as jot uses it: connection with API version negotiation
//! (so engines as old as 20.10 work), image inspect / list / tag / remove, containers found by a filter and removed, and
//! the push of an image with progress on stderr. Errors say whether the engine
//! could not be reached or refused, so a service can map them.

mod connect;
mod containers;
mod error;
mod images;
mod push;

pub use bollard;
pub use bollard::Docker;
pub use connect::{connect, docker_host};
pub use containers::{list_containers_where, remove_containers};
pub use error::{DockerError, Result};
pub use images::{inspect_image, list_all_images, list_images, remove_image, tag_image};
pub use push::{PushProgress, digest_in_status, push_image, push_platform, repo_digest};
