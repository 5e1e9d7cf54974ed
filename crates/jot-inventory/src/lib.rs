//! The inventory behind `jot-ls` and `jot-rm`: collect the local images (the
//! Docker engine) and the ECR repositories and Lambda functions (AWS), join
//! them into one [`Jot`] per name by facts — local image ↔ ECR image by
//! digest, ECR image ↔ function version by the digest it resolved, all of it
//! ↔ the responder by the tree hash in labels and tags — give each one
//! status a person can act on, and plan removals that never delete what a
//! remaining version or alias still runs.
//!
//! Values only: the binaries print.

mod collect;
mod describe;
mod filter;
mod join;
mod local;
mod model;
mod plan;
mod remove;
mod status;
mod table;

pub use collect::{Collected, Scope, collect};
pub use describe::descriptor;
pub use filter::NameFilter;
pub use join::join;
pub use local::collect_local;
pub use model::{Jot, LocalCopy, SourceState, Status};
pub use plan::{Action, Kept, Part, Plan, RemoveOptions, plan};
pub use remove::{Outcome, carry_out, prepare};
pub use table::{render, render_plan};
