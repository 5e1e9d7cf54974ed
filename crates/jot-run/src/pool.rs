//! The sandboxes of one function version: an invocation takes an idle warm
//! sandbox or starts a new one, as Lambda scales out. Every sandbox is either
//! idle here or held by a [`Lease`], whose drop removes it if the invocation
//! never finished (a dropped future), so none is ever leaked.
//!
//! As on Lambda, a sandbox serves one qualifier: those started for `$LATEST`
//! say `AWS_LAMBDA_FUNCTION_VERSION=$LATEST`, those for published version N
//! say N, and an invocation only takes an idle sandbox of its own kind.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use jot_docker::Docker;
use jot_emulator::{EmulatorError, Instance, InstanceConfig, Invocation};

/// What one run on a sandbox produced, with what a REPORT line needs.
pub struct Ran {
    pub invocation: Invocation,
    /// Init of the sandbox when this invocation was its first (a cold start).
    pub init_duration: Option<Duration>,
    pub max_memory_used: Option<u64>,
    /// The function's output during the invocation, when a tail was asked for.
    pub log: Option<String>,
}

struct Idle {
    instance: Instance,
    /// What its `AWS_LAMBDA_FUNCTION_VERSION` says (`$LATEST` or N).
    version: String,
    since: Instant,
}

/// Sandboxes of one version; counts are for the status endpoint.
pub struct Pool {
    docker: Docker,
    config: InstanceConfig,
    idle: Mutex<Vec<Idle>>,
    starting: AtomicUsize,
    busy: AtomicUsize,
    /// Set when a newer version took over: sandboxes are removed, not kept warm.
    draining: AtomicBool,
    /// Set for good when a newer version took over: `$LATEST` is no longer
    /// this version, so its `$LATEST` sandboxes are never reused.
    superseded: AtomicBool,
    /// Set for good at shutdown: no sandbox starts any more (see [`Pool::close`]).
    closed: AtomicBool,
}

/// A sandbox out of the pool. Returned with [`Lease::finish`]; dropped
/// otherwise (the invocation's future was dropped), it is removed.
struct Lease<'a> {
    pool: &'a Pool,
    instance: Option<Instance>,
    version: String,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.busy.fetch_sub(1, Ordering::Relaxed);
        if let Some(instance) = self.instance.take() {
            // An unfinished invocation: the sandbox may still be working on it.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(instance.stop());
            }
        }
    }
}

impl Lease<'_> {
    fn instance(&self) -> &Instance {
        self.instance
            .as_ref()
            .expect("a lease holds its sandbox until finished")
    }

    async fn finish(mut self) {
        let instance = self.instance.take().expect("finished once");
        let stale = self.version == LATEST && self.pool.superseded.load(Ordering::Relaxed);
        let keep = !stale && !self.pool.draining.load(Ordering::Relaxed) && !self.pool.is_closed();
        if instance.is_healthy() && keep {
            self.pool.lock_idle().push(Idle {
                instance,
                version: std::mem::take(&mut self.version),
                since: Instant::now(),
            });
        } else {
            instance.stop().await;
        }
    }
}

/// Whether REPORT lines are printed (`-v`).
pub(crate) fn reporting() -> bool {
    jot_core::output::verbosity() >= jot_core::output::Verbosity::Verbose
}

pub use jot_core::names::LATEST;

impl Pool {
    pub fn new(docker: &Docker, config: InstanceConfig) -> Self {
        Pool {
            docker: docker.clone(),
            config,
            idle: Mutex::new(Vec::new()),
            starting: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            superseded: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// (idle, busy, starting) sandboxes now.
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.lock_idle().len(),
            self.busy.load(Ordering::Relaxed),
            self.starting.load(Ordering::Relaxed),
        )
    }

    /// Starts a sandbox unless the pool is closed. `starting` is counted
    /// before `closed` is read (and [`Pool::close`] sets `closed` before it
    /// waits for `starting` to reach 0), so no container is ever created
    /// after a close returned: its last sweep sees every one.
    async fn start(&self, config: InstanceConfig) -> Result<Instance, EmulatorError> {
        self.starting.fetch_add(1, Ordering::SeqCst);
        // Counted down on every path, a dropped future's too.
        let _starting = Starting(&self.starting);
        if self.is_closed() {
            Err(closed_error())
        } else {
            match Instance::start(&self.docker, config).await {
                Ok(instance) if self.is_closed() => {
                    instance.stop().await;
                    Err(closed_error())
                }
                started => started,
            }
        }
    }

    /// A sandbox for `version` (`$LATEST` or this version's number).
    async fn lease(&self, version: &str) -> Result<Lease<'_>, EmulatorError> {
        // A new request for a drained version (a qualifier or an alias still
        // names it) keeps it warm again; the idle timeout reclaims it later.
        self.draining.store(false, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
        let mut lease = Lease {
            pool: self,
            instance: None,
            version: version.to_string(),
        };
        // Sandboxes that died while idle (killed, crashed) are removed now.
        let dead: Vec<Idle> = {
            let mut idle = self.lock_idle();
            if idle.iter().all(|i| i.instance.is_healthy()) {
                // The usual case: no allocation on the warm path.
                Vec::new()
            } else {
                let (alive, dead) = std::mem::take(&mut *idle)
                    .into_iter()
                    .partition(|i| i.instance.is_healthy());
                *idle = alive;
                dead
            }
        };
        for idle in dead {
            idle.instance.stop().await;
        }
        let taken = {
            let mut idle = self.lock_idle();
            idle.iter()
                .rposition(|i| i.version == version)
                .map(|at| idle.remove(at))
        };
        lease.instance = Some(match taken {
            Some(idle) => idle.instance,
            None => {
                let mut config = self.config.clone();
                config.version = version.to_string();
                self.start(config).await?
            }
        });
        Ok(lease)
    }

    /// Runs one invocation for `version` (`$LATEST` or this version's number,
    /// as `X-Amz-Executed-Version` says) on a warm sandbox of that version if
    /// one is idle, else on a new one.
    pub async fn invoke(
        &self,
        payload: Bytes,
        tail: bool,
        version: &str,
    ) -> Result<Ran, EmulatorError> {
        let lease = self.lease(version).await?;
        let instance = lease.instance();
        let (invocation, log) = if tail {
            let (invocation, log) = instance.invoke_with_log(payload).await?;
            (invocation, Some(log))
        } else {
            (instance.invoke(payload).await?, None)
        };
        let init_duration = invocation.cold.then(|| instance.init_duration()).flatten();
        // Read from the cgroup only when a REPORT line will show it (a tail, or -v):
        // a file read per invocation is a measurable share of a warm call.
        let max_memory_used = (tail || reporting())
            .then(|| instance.max_memory_used())
            .flatten();
        lease.finish().await;
        Ok(Ran {
            invocation,
            init_duration,
            max_memory_used,
            log,
        })
    }

    /// Starts `count` `$LATEST` sandboxes initialised before any traffic
    /// (provisioned concurrency); fails if one cannot finish its init.
    pub async fn provision(&self, count: usize) -> Result<(), EmulatorError> {
        let mut config = self.config.clone();
        config.version = LATEST.into();
        config.initialization_type = "provisioned-concurrency".into();
        let started =
            futures_util::future::join_all((0..count).map(|_| self.start(config.clone()))).await;
        let mut failure = None;
        for result in started {
            match result {
                Ok(instance) if instance.wait_ready().await => self.lock_idle().push(Idle {
                    instance,
                    version: LATEST.into(),
                    since: Instant::now(),
                }),
                Ok(instance) => {
                    instance.stop().await;
                    failure.get_or_insert(EmulatorError::Core(jot_core::Error::InvalidInput(
                        format!(
                            "a provisioned sandbox of {} failed its init",
                            self.config.function_name
                        ),
                    )));
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Removes sandboxes idle longer than `idle_for`, keeping `keep` warm.
    pub async fn stop_idle(&self, idle_for: Duration, keep: usize) {
        let expired: Vec<Idle> = {
            let mut idle = self.lock_idle();
            let mut expired = Vec::new();
            let mut index = 0;
            while index < idle.len() && idle.len() > keep {
                if idle[index].since.elapsed() >= idle_for {
                    expired.push(idle.swap_remove(index));
                } else {
                    index += 1;
                }
            }
            expired
        };
        for idle in expired {
            idle.instance.stop().await;
        }
    }

    /// A newer version took over: idle sandboxes go now, busy ones when they finish.
    pub async fn drain(&self) {
        self.superseded.store(true, Ordering::Relaxed);
        self.draining.store(true, Ordering::Relaxed);
        self.shutdown().await;
    }

    /// Shutdown: no sandbox starts from now on; waits for those starting
    /// (each removes itself), then removes every idle one. Busy ones are
    /// removed when their invocation ends (or by the owner sweep).
    pub async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        while self.starting.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.shutdown().await;
    }

    /// Removes every idle sandbox.
    pub async fn shutdown(&self) {
        let idle: Vec<Idle> = std::mem::take(&mut *self.lock_idle());
        for idle in idle {
            idle.instance.stop().await;
        }
    }
}

struct Starting<'a>(&'a AtomicUsize);

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn closed_error() -> EmulatorError {
    EmulatorError::Core(jot_core::Error::InvalidInput(
        "jot-serve is shutting down: no sandbox starts".into(),
    ))
}
