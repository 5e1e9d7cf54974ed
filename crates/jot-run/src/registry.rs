//! Functions, their versions and aliases, as Lambda keeps them: every new
//! image is a new numbered version with a pool of its own; `$LATEST` is the
//! newest; an alias points at a version and may send a weighted share of its
//! traffic to one more (`RoutingConfig.AdditionalVersionWeights`).

use jot_core::names::LATEST;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use jot_core::descriptor::ResponderInfo;
use jot_docker::Docker;
use jot_emulator::InstanceConfig;

use crate::error::ApiError;
use crate::pool::Pool;
use crate::scheduler::Admission;

/// Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU.
pub const MB_PER_VCPU: f64 = 1769.0;

/// One function's configuration, from flags (and later descriptors).
#[derive(Debug, Clone)]
pub struct Settings {
    pub memory_mb: u32,
    pub timeout: Duration,
    pub environment: Vec<(String, String)>,
    /// Reserved concurrency: invocations running at once across versions.
    pub max_concurrency: usize,
    /// Synchronous requests that may wait for a slot instead of a 429.
    pub queue: usize,
    /// Provisioned concurrency: sandboxes initialised before any traffic.
    pub min_instances: usize,
    /// Idle sandboxes beyond `min_instances` are stopped after this long.
    pub idle_timeout: Duration,
    /// CPUs per sandbox; None: in proportion to memory, as Lambda.
    pub cpus: Option<f64>,
    pub pids_limit: Option<i64>,
    /// Event invocations that may wait; beyond it Event gets 429.
    pub event_queue: usize,
    /// Extra container labels (the owner).
    pub labels: Vec<(String, String)>,
    /// What jot-serve itself gives every sandbox (its Invoke-only
    /// credentials, its endpoint): never shown by GetFunction.
    pub sandbox_environment: Vec<(String, String)>,
}

impl Settings {
    /// The CPUs a sandbox gets: the setting, or memory / 1,769 MB; 0 means no limit.
    pub fn cpus(&self) -> Option<f64> {
        match self.cpus {
            Some(cpus) if cpus <= 0.0 => None,
            Some(cpus) => Some(cpus),
            None => Some(f64::from(self.memory_mb) / MB_PER_VCPU),
        }
    }
}

pub struct Version {
    pub number: u64,
    pub image: String,
    /// The image id (`sha256:…`), Lambda's CodeSha256 here.
    pub image_id: String,
    pub description: String,
    pub created: SystemTime,
    pub pool: Arc<Pool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    pub function_version: String,
    /// At most one other version and the share of traffic it gets (0–1).
    pub weights: BTreeMap<String, f64>,
    pub description: String,
    pub revision_id: String,
}

#[derive(Default)]
struct Catalog {
    versions: BTreeMap<u64, Arc<Version>>,
    aliases: BTreeMap<String, Alias>,
}

/// Invocation counts and recent durations for the status endpoint.
#[derive(Default)]
pub struct Stats {
    pub invocations: AtomicU64,
    pub errors: AtomicU64,
    /// The last durations in ms (a ring of [`Stats::WINDOW`]).
    pub durations: Mutex<std::collections::VecDeque<f64>>,
}

impl Stats {
    pub const WINDOW: usize = 2048;

    pub fn record(&self, ms: f64) {
        let mut durations = self.durations.lock().unwrap_or_else(|p| p.into_inner());
        if durations.len() == Self::WINDOW {
            durations.pop_front();
        }
        durations.push_back(ms);
    }

    /// (p50, p99) of the recent durations in ms.
    pub fn percentiles(&self) -> Option<(f64, f64)> {
        let mut sorted: Vec<f64> = self
            .durations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Some((at(0.5), at(0.99)))
    }
}

pub struct Function {
    pub name: String,
    pub settings: Settings,
    pub admission: Admission,
    pub responder: ResponderInfo,
    /// The base image new builds (watch, webhook) use.
    pub base_image: String,
    pub stats: Stats,
    docker: Docker,
    catalog: RwLock<Catalog>,
}

/// The version an invocation runs on and what `X-Amz-Executed-Version` says.
pub struct Target {
    pub version: Arc<Version>,
    pub executed: String,
}

impl Function {
    pub fn new(
        docker: &Docker,
        name: String,
        responder: ResponderInfo,
        base_image: String,
        settings: Settings,
    ) -> Self {
        Function {
            base_image,
            admission: Admission::new(settings.max_concurrency, settings.queue),
            name,
            settings,
            responder,
            stats: Stats::default(),
            docker: docker.clone(),
            catalog: RwLock::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.catalog.write().unwrap_or_else(|p| p.into_inner())
    }

    /// A pool for a new image, configured as this function's sandboxes are.
    pub fn pool_for(&self, image: &str) -> Pool {
        let mut config = InstanceConfig::new(image, self.name.clone());
        config.memory_mb = self.settings.memory_mb;
        config.timeout = self.settings.timeout;
        config.environment = [
            self.settings.sandbox_environment.as_slice(),
            &self.settings.environment,
        ]
        .concat();
        config.cpus = self.settings.cpus();
        config.pids_limit = self.settings.pids_limit;
        config.labels = self.settings.labels.clone();
        // Each sandbox's AWS_LAMBDA_FUNCTION_VERSION is set when the pool
        // starts it, for the qualifier it serves (`Pool::invoke`).
        Pool::new(&self.docker, config)
    }

    /// The number the next version gets.
    pub fn next_number(&self) -> u64 {
        self.read().versions.keys().next_back().map_or(1, |n| n + 1)
    }

    /// Makes `version` the newest: new requests go to it; returns the one it replaced.
    pub fn roll_out(&self, version: Version) -> Option<Arc<Version>> {
        let mut catalog = self.write();
        let previous = catalog.versions.values().next_back().cloned();
        catalog.versions.insert(version.number, Arc::new(version));
        previous
    }

    pub fn latest(&self) -> Arc<Version> {
        self.read()
            .versions
            .values()
            .next_back()
            .cloned()
            .expect("a function always has a version")
    }

    pub fn versions(&self) -> Vec<Arc<Version>> {
        self.read().versions.values().cloned().collect()
    }

    pub fn version(&self, number: &str) -> Option<Arc<Version>> {
        let number: u64 = number.parse().ok()?;
        self.read().versions.get(&number).cloned()
    }

    pub fn aliases(&self) -> Vec<Alias> {
        self.read().aliases.values().cloned().collect()
    }

    pub fn alias(&self, name: &str) -> Option<Alias> {
        self.read().aliases.get(name).cloned()
    }

    /// Resolves a qualifier (none, `$LATEST`, a version, an alias) as Lambda does.
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<Target> {
        match qualifier {
            None | Some(LATEST) => Some(Target {
                version: self.latest(),
                executed: LATEST.into(),
            }),
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => {
                self.version(q).map(|version| Target {
                    executed: version.number.to_string(),
                    version,
                })
            }
            Some(alias) => {
                let alias = self.alias(alias)?;
                let chosen = pick_weighted(&alias, random_unit());
                self.version(&chosen).map(|version| Target {
                    executed: version.number.to_string(),
                    version,
                })
            }
        }
    }

    /// Creates (`create`) or updates an alias after checking its versions exist.
    pub fn put_alias(
        &self,
        name: &str,
        create: bool,
        function_version: Option<String>,
        weights: Option<BTreeMap<String, f64>>,
        description: Option<String>,
    ) -> Result<Alias, ApiError> {
        check_alias_name(name)?;
        let mut catalog = self.write();
        let existing = catalog.aliases.get(name).cloned();
        let mut alias = match (create, existing) {
            (true, Some(_)) => {
                return Err(ApiError::conflict(format!("Alias already exists: {name}")));
            }
            (false, None) => {
                return Err(ApiError::not_found(format!(
                    "Alias not found: {}:{name}",
                    self.name
                )));
            }
            (true, None) => Alias {
                name: name.to_string(),
                function_version: function_version
                    .clone()
                    .ok_or_else(|| ApiError::invalid_parameter("FunctionVersion is required"))?,
                weights: BTreeMap::new(),
                description: String::new(),
                revision_id: String::new(),
            },
            (false, Some(alias)) => alias,
        };
        if let Some(version) = function_version {
            alias.function_version = version;
        }
        if let Some(weights) = weights {
            alias.weights = weights;
        }
        if let Some(description) = description {
            alias.description = description;
        }
        let exists = |v: &str| {
            v.parse::<u64>()
                .is_ok_and(|n| catalog.versions.contains_key(&n))
        };
        if !exists(&alias.function_version) {
            return Err(ApiError::invalid_parameter(format!(
                "FunctionVersion {} is not a published version of {} (aliases point at numbered versions)",
                alias.function_version, self.name
            )));
        }
        if alias.weights.len() > 1 {
            return Err(ApiError::invalid_parameter(
                "RoutingConfig.AdditionalVersionWeights takes at most one version",
            ));
        }
        for (version, weight) in &alias.weights {
            if !exists(version) || *version == alias.function_version {
                return Err(ApiError::invalid_parameter(format!(
                    "RoutingConfig names version {version}, which is not another published version"
                )));
            }
            if !(0.0..=1.0).contains(weight) {
                return Err(ApiError::invalid_parameter(format!(
                    "the weight of version {version} is {weight}; weights are between 0.0 and 1.0"
                )));
            }
        }
        alias.revision_id = uuid::Uuid::new_v4().to_string();
        catalog.aliases.insert(name.to_string(), alias.clone());
        Ok(alias)
    }
}

/// Lambda's alias names: `(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}`.
fn check_alias_name(name: &str) -> Result<(), ApiError> {
    let shaped = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit());
    if shaped {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter(format!(
            "alias name {name:?} must be 1-128 letters, digits, - or _, and not only digits"
        )))
    }
}

/// A uniform number in [0, 1) from the system's random source (via uuid v4;
/// the low 53 bits are random, the variant bits sit above them).
fn random_unit() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() as u64) & ((1u64 << 53) - 1);
    bits as f64 / (1u64 << 53) as f64
}

/// The version an alias sends one request to, for a uniform draw `unit`.
fn pick_weighted(alias: &Alias, unit: f64) -> String {
    let mut edge = 0.0;
    for (version, weight) in &alias.weights {
        edge += weight;
        if unit < edge {
            return version.clone();
        }
    }
    alias.function_version.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_split_traffic_and_alias_names_are_checked() {
        let alias = Alias {
            name: "live".into(),
            function_version: "1".into(),
            weights: BTreeMap::from([("2".to_string(), 0.25)]),
            description: String::new(),
            revision_id: String::new(),
        };
        assert_eq!(pick_weighted(&alias, 0.1), "2");
        assert_eq!(pick_weighted(&alias, 0.3), "1");
        let twos = (0..10_000)
            .filter(|_| pick_weighted(&alias, random_unit()) == "2")
            .count();
        assert!((2_200..2_800).contains(&twos), "{twos} of 10000");
        assert!(check_alias_name("live_2-b").is_ok());
        assert!(check_alias_name("123").is_err());
        assert!(check_alias_name("bad name").is_err());
        assert!(check_alias_name("").is_err());
    }

    #[test]
    fn cpu_is_proportional_to_memory_unless_set() {
        let mut settings = Settings {
            memory_mb: 1769,
            timeout: Duration::from_secs(3),
            environment: Vec::new(),
            max_concurrency: 1,
            queue: 0,
            min_instances: 0,
            idle_timeout: Duration::from_secs(60),
            cpus: None,
            pids_limit: None,
            event_queue: 1,
            labels: Vec::new(),
            sandbox_environment: Vec::new(),
        };
        assert_eq!(settings.cpus(), Some(1.0));
        settings.memory_mb = 3538;
        assert_eq!(settings.cpus(), Some(2.0));
        settings.cpus = Some(0.0);
        assert_eq!(settings.cpus(), None);
    }
}
