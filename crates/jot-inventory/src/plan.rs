//! The removal plan: every step in the order it is carried out (versions,
//! function, ECR images, repository, local images, jot's role), and every
//! part that stays with the reason. `--dry-run` prints exactly this plan.
//!
//! Rules: an ECR image that a remaining `$LATEST`, version or alias of any
//! function still runs is kept; a version an alias points at is kept unless
//! the alias goes too (with the whole function); nothing without jot's
//! labels or tags is planned unless `force` — the whole plan is refused, so
//! nothing is half-done.

use std::collections::{BTreeSet, HashMap};

use jot_aws::deploy::ROLE_NAME;
use jot_aws::listing::FunctionListing;
use jot_core::{Error, Result};

use crate::model::{Jot, repository_is_jot};

/// A part of a jot that `--only` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Local,
    Ecr,
    Function,
    Versions,
}

/// What to remove.
#[derive(Debug, Clone, Default)]
pub struct RemoveOptions {
    pub only: Option<Part>,
    /// Keep the N newest versions, images and local images.
    pub keep: Option<usize>,
    pub force: bool,
}

/// One step of a removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The function with its versions and aliases.
    DeleteFunction {
        function: String,
        versions: Vec<String>,
        aliases: Vec<String>,
    },
    DeleteVersion {
        function: String,
        version: String,
    },
    DeleteImage {
        repository: String,
        digest: String,
        tags: Vec<String>,
    },
    DeleteRepository {
        repository: String,
    },
    RemoveLocal {
        reference: String,
    },
    DeleteRole {
        role: String,
    },
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::DeleteFunction {
                function,
                versions,
                aliases,
            } => {
                write!(f, "Lambda function {function}")?;
                if !versions.is_empty() {
                    write!(f, " with versions {}", versions.join(", "))?;
                }
                if !aliases.is_empty() {
                    write!(f, " and aliases {}", aliases.join(", "))?;
                }
                Ok(())
            }
            Action::DeleteVersion { function, version } => {
                write!(f, "Lambda function {function} version {version}")
            }
            Action::DeleteImage {
                repository,
                digest,
                tags,
            } => {
                write!(f, "ECR image {repository}@{digest}")?;
                if !tags.is_empty() {
                    write!(f, " (tags {})", tags.join(", "))?;
                }
                Ok(())
            }
            Action::DeleteRepository { repository } => {
                write!(f, "ECR repository {repository}")
            }
            Action::RemoveLocal { reference } => write!(f, "local image {reference}"),
            Action::DeleteRole { role } => write!(f, "IAM role {role}"),
        }
    }
}

/// A part that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub what: String,
    pub reason: String,
}

/// The steps in order, what is kept, and what could not be planned.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Action>,
    pub kept: Vec<Kept>,
    /// Parts left alone because their service could not be listed.
    pub unknown: Vec<String>,
}

/// Plans the removal of `jots`; `functions` is every function in the account
/// (any of them may pin an image or use jot's role).
pub fn plan(jots: &[Jot], functions: &[FunctionListing], options: &RemoveOptions) -> Result<Plan> {
    refuse_foreign(jots, options)?;
    let whole = options.only.is_none() && options.keep.is_none();
    let wants = |part: Part| match options.only {
        Some(only) => only == part,
        None => true,
    };
    let keep = options.keep.unwrap_or(0);
    let mut plan = Plan::default();
    let mut deleted_functions = BTreeSet::new();
    let mut deleted_versions: BTreeSet<(String, String)> = BTreeSet::new();

    // Lambda first: what goes there no longer pins anything.
    for jot in jots {
        let Some(function) = &jot.function else {
            if !jot.lambda_known && (wants(Part::Function) || wants(Part::Versions)) {
                plan.unknown.push(format!(
                    "{}: Lambda could not be listed; its function was not checked",
                    jot.name
                ));
            }
            continue;
        };
        // `--only function --keep N` prunes, as `--only versions` does.
        let whole_function =
            whole || (options.only == Some(Part::Function) && options.keep.is_none());
        if whole_function {
            deleted_functions.insert(function.name.clone());
            plan.steps.push(Action::DeleteFunction {
                function: function.name.clone(),
                versions: function
                    .versions
                    .iter()
                    .map(|v| v.version.clone())
                    .collect(),
                aliases: function.aliases.iter().map(|a| a.name.clone()).collect(),
            });
        } else if wants(Part::Versions) || wants(Part::Function) {
            prune_versions(function, keep, &mut plan, &mut deleted_versions);
        }
    }
    let pins = remaining_pins(functions, &deleted_functions, &deleted_versions);

    for jot in jots.iter().filter(|_| wants(Part::Ecr)) {
        let Some(repository) = &jot.repository else {
            if !jot.ecr_known {
                plan.unknown.push(format!(
                    "{}: ECR could not be listed; its images were not checked",
                    jot.name
                ));
            }
            continue;
        };
        if !jot.lambda_known {
            plan.unknown.push(format!(
                "{}: ECR images kept: Lambda could not be listed, so what runs them is not known",
                jot.name
            ));
            continue;
        }
        let mut remaining = 0;
        for (index, image) in repository.images.iter().enumerate() {
            let what = format!("ECR image {}@{}", repository.name, image.digest);
            if let Some(users) = pins.get(image.digest.as_str()) {
                plan.kept.push(Kept {
                    what,
                    reason: format!("{} runs it", users.join(", ")),
                });
                remaining += 1;
            } else if index < keep {
                plan.kept.push(Kept {
                    what,
                    reason: format!("one of the {keep} newest images (--keep)"),
                });
                remaining += 1;
            } else {
                plan.steps.push(Action::DeleteImage {
                    repository: repository.name.clone(),
                    digest: image.digest.clone(),
                    tags: image.tags.clone(),
                });
            }
        }
        if remaining == 0 && options.keep.is_none() {
            plan.steps.push(Action::DeleteRepository {
                repository: repository.name.clone(),
            });
        }
    }

    for jot in jots.iter().filter(|_| wants(Part::Local)) {
        for (index, local) in jot.local.iter().enumerate() {
            let pinned = local
                .digests
                .iter()
                .find_map(|d| pins.get(d.as_str()))
                .filter(|_| options.keep.is_some());
            let reason = if index < keep {
                Some(format!("one of the {keep} newest local images (--keep)"))
            } else {
                pinned.map(|users| format!("{} runs its image", users.join(", ")))
            };
            match reason {
                Some(reason) => plan.kept.push(Kept {
                    what: format!("local image {}", local.references.join(", ")),
                    reason,
                }),
                None => plan.steps.extend(local.references.iter().map(|reference| {
                    Action::RemoveLocal {
                        reference: reference.clone(),
                    }
                })),
            }
        }
    }

    plan_role(functions, &deleted_functions, &mut plan);
    Ok(plan)
}

/// Refuses the whole plan when any part in scope is not jot's (unless forced).
fn refuse_foreign(jots: &[Jot], options: &RemoveOptions) -> Result<()> {
    if options.force {
        return Ok(());
    }
    let wants = |part: Part| options.only.is_none_or(|only| only == part);
    let mut foreign = Vec::new();
    for jot in jots {
        if let Some(f) = jot.function.as_ref().filter(|f| !f.is_jot())
            && (wants(Part::Function) || wants(Part::Versions))
        {
            foreign.push(format!("Lambda function {}", f.name));
        }
        if let Some(r) = jot.repository.as_ref().filter(|r| !repository_is_jot(r))
            && wants(Part::Ecr)
        {
            foreign.push(format!("ECR repository {}", r.name));
        }
        if wants(Part::Local) {
            for local in jot.local.iter().filter(|l| !l.jot) {
                foreign.push(format!("local image {}", local.references.join(", ")));
            }
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::NotJot(format!(
        "not made by jot (no dev.jot.* labels or tags), so nothing was removed: {}; pass --force to remove them too",
        foreign.join("; ")
    )))
}

/// Deletes the versions beyond the `keep` newest that no alias points at.
fn prune_versions(
    function: &FunctionListing,
    keep: usize,
    plan: &mut Plan,
    deleted: &mut BTreeSet<(String, String)>,
) {
    let aliased: HashMap<&str, Vec<&str>> =
        function
            .aliases
            .iter()
            .fold(HashMap::new(), |mut map, alias| {
                for version in std::iter::once(alias.version.as_str())
                    .chain(alias.weights.iter().map(|(v, _)| v.as_str()))
                {
                    map.entry(version).or_default().push(alias.name.as_str());
                }
                map
            });
    let count = function.versions.len();
    for (index, version) in function.versions.iter().enumerate() {
        let what = format!(
            "Lambda function {} version {}",
            function.name, version.version
        );
        if index + keep >= count {
            plan.kept.push(Kept {
                what,
                reason: format!("one of the {keep} newest versions (--keep)"),
            });
        } else if let Some(aliases) = aliased.get(version.version.as_str()) {
            plan.kept.push(Kept {
                what,
                reason: format!("alias {} points at it", aliases.join(", ")),
            });
        } else {
            deleted.insert((function.name.clone(), version.version.clone()));
            plan.steps.push(Action::DeleteVersion {
                function: function.name.clone(),
                version: version.version.clone(),
            });
        }
    }
}

/// Digest → who still runs it, after the planned deletions.
fn remaining_pins(
    functions: &[FunctionListing],
    deleted_functions: &BTreeSet<String>,
    deleted_versions: &BTreeSet<(String, String)>,
) -> HashMap<String, Vec<String>> {
    let mut pins: HashMap<String, Vec<String>> = HashMap::new();
    for function in functions
        .iter()
        .filter(|f| !deleted_functions.contains(&f.name))
    {
        if let Some(digest) = &function.latest.digest {
            pins.entry(digest.clone())
                .or_default()
                .push(format!("{} $LATEST", function.name));
        }
        for version in &function.versions {
            let gone = deleted_versions.contains(&(function.name.clone(), version.version.clone()));
            if let (false, Some(digest)) = (gone, &version.digest) {
                let aliases: Vec<&str> = function
                    .aliases
                    .iter()
                    .filter(|a| a.version == version.version)
                    .map(|a| a.name.as_str())
                    .collect();
                let who = if aliases.is_empty() {
                    format!("{} version {}", function.name, version.version)
                } else {
                    format!(
                        "{} version {} (alias {})",
                        function.name,
                        version.version,
                        aliases.join(", ")
                    )
                };
                pins.entry(digest.clone()).or_default().push(who);
            }
        }
    }
    pins
}

/// jot's role goes with the last function that uses it.
fn plan_role(functions: &[FunctionListing], deleted: &BTreeSet<String>, plan: &mut Plan) {
    let uses_role = |f: &&FunctionListing| f.role.rsplit('/').next() == Some(ROLE_NAME);
    let freed = functions
        .iter()
        .filter(uses_role)
        .any(|f| deleted.contains(&f.name));
    if !freed {
        return;
    }
    let users: Vec<&str> = functions
        .iter()
        .filter(uses_role)
        .filter(|f| !deleted.contains(&f.name))
        .map(|f| f.name.as_str())
        .collect();
    if users.is_empty() {
        plan.steps.push(Action::DeleteRole {
            role: ROLE_NAME.to_string(),
        });
    } else {
        plan.kept.push(Kept {
            what: format!("IAM role {ROLE_NAME}"),
            reason: format!(
                "{} other function{} use it",
                users.len(),
                if users.len() == 1 { "" } else { "s" }
            ),
        });
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
