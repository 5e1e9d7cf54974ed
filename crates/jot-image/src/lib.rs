//! Julia responders into Lambda container images. [`responder`] reads a
//! script or package, which is [`parse`]d by the base image's Julia first; [`build()`] turns it into an image in the engine and
//! returns its `local_image` descriptor. The build is split by job: the
//! embedded [`template`], the [`request`] as plain data, the [`base`] image, content-derived [`tag`]s, the
//! rendered [`dockerfile`], the builder's [`context`] archive, the [`compile`]d layers of `--compile`, the engine's
//! builder stream, and the code [`layer`] jot writes itself for scripts.

pub mod base;
mod build;
mod builder;
pub mod compile;
pub mod context;
pub mod deps;
pub mod dockerfile;
pub mod layer;
pub mod parse;
mod replace;
pub mod request;
pub mod responder;
pub mod tag;
mod tarball;
pub mod template;

pub use base::{BASE_IMAGE_MAX_AGE, DEFAULT_JULIA_VERSION, choose_base_image, prepare_base_image};
pub use build::build;
pub use compile::compile;
pub use deps::Dependency;
pub use request::{BuildRequest, CompileOptions, InitOptions};
pub use responder::Responder;
pub use tag::{RUNTIME_STAGE_REPOSITORY, derive_tag, runtime_stage_key};

#[cfg(test)]
mod tests;
