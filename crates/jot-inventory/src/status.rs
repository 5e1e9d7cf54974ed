//! One status per jot, the one a person should act on first.

use crate::model::{Jot, SourceState, Status};

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
