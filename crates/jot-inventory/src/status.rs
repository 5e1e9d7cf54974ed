//! One status per jot, the one a person should act on first.

use crate::join::{Jot, SourceState};

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

/// The most urgent status of `jot`, from digests and the source's state.
pub fn status(jot: &Jot) -> Status {
    if jot.is_foreign() {
        return Status::Foreign;
    }
    let ecr = jot.ecr_digests();
    if let Some(function) = jot.function.as_ref().filter(|_| jot.ecr_known) {
        let mut missing = Vec::new();
        let mut check = |who: String, digest: Option<&String>| {
            if let Some(digest) = digest
                && !ecr.contains(&digest.as_str())
            {
                missing.push(who);
            }
        };
        check("$LATEST".into(), function.latest.digest.as_ref());
        for version in &function.versions {
            check(
                format!("version {}", version.version),
                version.digest.as_ref(),
            );
        }
        if !missing.is_empty() {
            return Status::MissingImage(missing);
        }
    }
    if jot.source == SourceState::Gone {
        return Status::Orphaned("the source is gone".into());
    }
    if jot.ecr_known
        && jot.function.is_none()
        && jot.repository.as_ref().is_some_and(|r| r.images.is_empty())
    {
        return Status::Orphaned("an empty ECR repository".into());
    }
    if jot.source == SourceState::Changed {
        return Status::SourceChanged;
    }
    if !jot.ecr_known && !jot.lambda_known {
        return Status::Built;
    }
    let newest_local = jot.local.first();
    if jot.ecr_known
        && let Some(local) = newest_local
        && !local.digests.iter().any(|d| ecr.contains(&d.as_str()))
    {
        return Status::BuiltNotPushed;
    }
    let newest_pushed = jot
        .repository
        .as_ref()
        .and_then(|r| r.images.first())
        .map(|i| i.digest.as_str());
    let Some(function) = jot.function.as_ref() else {
        return match newest_pushed {
            Some(_) if jot.lambda_known => Status::PushedNotDeployed,
            _ => Status::UpToDate,
        };
    };
    let latest = function.latest.digest.as_deref();
    if let (Some(pushed), Some(latest)) = (newest_pushed, latest)
        && pushed != latest
    {
        return Status::LatestBehind;
    }
    let digest_of = |version: &str| {
        function
            .versions
            .iter()
            .find(|v| v.version == version)
            .and_then(|v| v.digest.as_deref())
    };
    let mut older = Vec::new();
    for alias in &function.aliases {
        let pinned = std::iter::once(alias.version.as_str())
            .chain(alias.weights.iter().map(|(v, _)| v.as_str()));
        if pinned.map(digest_of).any(|d| d.is_some() && d != latest) {
            older.push(format!("alias {}", alias.name));
        }
    }
    if let Some(newest) = function.versions.last()
        && newest.digest.is_some()
        && newest.digest.as_deref() != latest
    {
        older.push(format!("newest version {}", newest.version));
    }
    if older.is_empty() {
        Status::UpToDate
    } else {
        Status::PinsOlder(older)
    }
}
