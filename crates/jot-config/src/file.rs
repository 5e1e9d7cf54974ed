//! The keys of `jot.toml`, read with the line of every value so that a bad
//! one is reported as `FILE:LINE: KEY: why`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One value from the file, with where it was written.
pub type Item<T> = Option<Spanned<T>>;

/// The keys of one level of `jot.toml`: the top of the file, or a named
/// section `[env.NAME]` whose keys replace the top's. Every key is optional;
/// each tool reads the keys it has a flag for (docs/configuration.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    // jot-build
    pub function: Item<String>,
    pub arg_type: Item<String>,
    pub name: Item<String>,
    pub tag: Item<String>,
    pub base_image: Item<String>,
    pub julia_version: Item<String>,
    pub architecture: Item<String>,
    pub deps: Item<Vec<String>>,
    pub registry_urls: Item<Vec<String>>,
    pub build_args: Item<BTreeMap<String, String>>,
    pub test_payload: Item<String>,
    pub expect: Item<String>,
    pub test_timeout: Item<u64>,
    pub compile: Item<bool>,
    pub compile_tests: Item<bool>,
    pub full_sysimage: Item<bool>,
    // every tool that calls AWS
    pub profile: Item<String>,
    pub region: Item<String>,
    // jot-push
    pub registry: Item<String>,
    pub scan_on_push: Item<bool>,
    pub immutable_tags: Item<bool>,
    // jot-deploy
    pub role: Item<String>,
    pub memory: Item<u32>,
    pub timeout: Item<u32>,
    pub ephemeral_storage: Item<u32>,
    pub environment: Item<BTreeMap<String, String>>,
    pub description: Item<String>,
    pub alias: Item<String>,
    // jot-serve
    pub serve: Option<Serve>,
    /// Named sections (`[env.prod]`); only at the top of the file.
    pub env: Option<BTreeMap<String, Spanned<Section>>>,
}

/// `[serve]`: the settings of `jot-serve`, one per flag of the same name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serve {
    pub bind: Item<String>,
    pub port: Item<u16>,
    pub max_concurrency: Item<u16>,
    pub timeout: Item<u32>,
    pub memory: Item<u32>,
    pub cpus: Item<f64>,
    pub pids_limit: Item<i64>,
    pub function_error_status: Item<u16>,
    pub environment: Item<BTreeMap<String, String>>,
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The key assigned on the line of byte `offset` when the offset is in its
/// value (`key = value`), as a bad value's error names it.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = text[line_start..offset].split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty()).then(|| key.to_string())
}
