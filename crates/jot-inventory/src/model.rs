//! The inventory's data: the copies found and the [`Jot`] they are joined
//! into, with its status. Values only, so every step (collect, join, status,
//! plan, table) can use them without using each other.

use jot_aws::listing::{FunctionListing, RepositoryListing};
use jot_core::descriptor::ResponderInfo;

/// One local image (an image id) of a jot, with every reference it has
/// under the jot's name (`name:tag`, `registry/name:tag`).
#[derive(Debug, Clone)]
pub struct LocalCopy {
    pub name: String,
    /// Carries jot's labels.
    pub jot: bool,
    pub references: Vec<String>,
    pub id: String,
    pub size: i64,
    /// Unix seconds.
    pub created: i64,
    pub tree_hash: Option<String>,
    pub responder: Option<ResponderInfo>,
    /// Manifest digests the engine recorded when it pushed the image.
    pub digests: Vec<String>,
    /// Lambda's name of its instruction set, from its label.
    pub architecture: Option<String>,
}

/// Whether the responder on this machine is still what was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Current,
    Changed,
    Gone,
    /// Not known (no responder facts, or it cannot be read here).
    Unknown,
}

impl SourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Current => "current",
            SourceState::Changed => "changed",
            SourceState::Gone => "gone",
            SourceState::Unknown => "?",
        }
    }
}

/// Every copy of one jot.
#[derive(Debug, Clone)]
pub struct Jot {
    pub name: String,
    /// The responder as the newest copy records it.
    pub responder: Option<ResponderInfo>,
    pub source: SourceState,
    /// Newest first.
    pub local: Vec<LocalCopy>,
    pub repository: Option<RepositoryListing>,
    pub function: Option<FunctionListing>,
    /// Whether ECR and Lambda were listed (and answered).
    pub ecr_known: bool,
    pub lambda_known: bool,
    pub status: Status,
}

impl Jot {
    /// True when no part carries jot's labels or tags.
    pub fn is_foreign(&self) -> bool {
        !self.local.iter().any(|l| l.jot)
            && !self.repository.as_ref().is_some_and(repository_is_jot)
            && !self.function.as_ref().is_some_and(|f| f.is_jot())
    }

    /// The digests ECR holds for this jot.
    pub fn ecr_digests(&self) -> Vec<&str> {
        self.repository
            .iter()
            .flat_map(|r| r.images.iter().map(|i| i.digest.as_str()))
            .collect()
    }

    /// The newest time any part changed, for "newest first".
    pub fn newest(&self) -> i64 {
        let local = self.local.iter().map(|l| l.created).max();
        let pushed = self
            .repository
            .iter()
            .flat_map(|r| r.images.iter())
            .filter_map(|i| i.pushed_at)
            .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .max();
        let modified = self
            .function
            .as_ref()
            .and_then(|f| lambda_time(&f.latest.last_modified));
        local.max(pushed).max(modified).unwrap_or(0)
    }
}

/// True when the repository carries jot's tags.
pub fn repository_is_jot(repository: &RepositoryListing) -> bool {
    jot_aws::tags::is_jot(Some(&repository.tags))
}

/// Lambda's `2026-12-01T09:48:56.345+0000` as Unix seconds.
pub fn lambda_time(text: &str) -> Option<i64> {
    let text = text.replace("+0000", "Z");
    let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64)
}

/// What to do about a jot, most urgent first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A function, version or alias runs a digest ECR no longer holds: its
    /// next cold start fails.
    MissingImage(Vec<String>),
    /// Parts whose other parts are gone (the source, the images).
    Orphaned(String),
    SourceChanged,
    BuiltNotPushed,
    PushedNotDeployed,
    /// `$LATEST` runs an older image than the newest pushed one.
    LatestBehind,
    /// An alias (or the newest version) runs an older digest than `$LATEST`.
    PinsOlder(Vec<String>),
    /// Only the local image was asked about, and it is current.
    Built,
    UpToDate,
    /// Nothing of it carries jot's labels or tags (shown with `--all`).
    Foreign,
}

impl Status {
    /// The words in the table and in `--json`'s notes.
    pub fn text(&self) -> String {
        match self {
            Status::MissingImage(who) => {
                format!("image gone from ECR: {} will fail to start", who.join(", "))
            }
            Status::Orphaned(what) => format!("orphaned: {what}"),
            Status::SourceChanged => "source changed since the build".into(),
            Status::BuiltNotPushed => "built, not pushed".into(),
            Status::PushedNotDeployed => "pushed, not deployed".into(),
            Status::LatestBehind => "$LATEST older than the newest pushed image".into(),
            Status::PinsOlder(who) => format!("{} pinned to an older image", who.join(", ")),
            Status::Built => "built".into(),
            Status::UpToDate => "up to date".into(),
            Status::Foreign => "foreign (not made by jot)".into(),
        }
    }

    /// A short machine name (tests, scripts).
    pub fn code(&self) -> &'static str {
        match self {
            Status::MissingImage(_) => "missing-image",
            Status::Orphaned(_) => "orphaned",
            Status::SourceChanged => "source-changed",
            Status::BuiltNotPushed => "not-pushed",
            Status::PushedNotDeployed => "not-deployed",
            Status::LatestBehind => "latest-behind",
            Status::PinsOlder(_) => "pins-older",
            Status::Built => "built",
            Status::UpToDate => "up-to-date",
            Status::Foreign => "foreign",
        }
    }

    /// The ANSI colour of the status.
    pub fn colour(&self) -> &'static str {
        match self {
            Status::MissingImage(_) => "1;31",
            Status::Orphaned(_) => "35",
            Status::UpToDate | Status::Built => "32",
            Status::Foreign => "2",
            _ => "33",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_times_parse() {
        assert_eq!(lambda_time("1970-01-01T00:01:00.000+0000"), Some(60));
        assert_eq!(lambda_time("garbage"), None);
    }
}
