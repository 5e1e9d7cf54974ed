//! One sandbox: a container of the function image, started in the engine's
//! network mode (jot-docker decides it) with the Lambda environment, talking
//! to its own Runtime API.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use jot_docker::{Docker, SandboxSpec};

use crate::phases::{ColdStart, Seen};
use crate::runtime_api::{Event, Health, Invocation, Outcome, RuntimeApi, epoch_ms, trace_id};
use crate::{EmulatorError, MAX_PAYLOAD_BYTES};

/// Lambda's init phase limit for on-demand functions: init beyond it counts
/// against the first invocation's timeout.
pub const INIT_BUDGET: Duration = Duration::from_secs(10);

/// How long a stopping sandbox's runtime gets to exit on its own, once told,
/// before it is killed. An idle one exits in well under it; 150 ms was too
/// short for Julia's exit on a loaded machine (a CI run had to kill one).
pub const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Label on every emulator container, so strays can be found and removed.
pub const EMULATOR_LABEL: &str = "dev.jot.emulator";

/// How to run a function locally, mirroring its Lambda configuration.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    pub image: String,
    pub function_name: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// The user's environment variables (Lambda's own are added).
    pub environment: Vec<(String, String)>,
    pub region: String,
    pub account_id: String,
    /// Size of the writable /tmp, as Lambda's ephemeral storage.
    pub ephemeral_storage_mb: u32,
    /// `AWS_LAMBDA_FUNCTION_VERSION`: `$LATEST` or a published version number.
    pub version: String,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand`, `provisioned-concurrency`
    /// or `snap-start` (the runtime then goes through `/runtime/restore/next`).
    pub initialization_type: String,
    /// CPUs of the sandbox once its init is done (None: no limit). Init
    /// runs unthrottled, as Lambda gives init a burst of CPU.
    pub cpus: Option<f64>,
    /// Most processes the sandbox may run (None: the engine's default).
    pub pids_limit: Option<i64>,
    /// Extra container labels (e.g. the owner, so strays can be told apart).
    pub labels: Vec<(String, String)>,
}

impl InstanceConfig {
    /// Lambda's defaults for jot functions; region from AWS_REGION, else us-east-1.
    pub fn new(image: impl Into<String>, function_name: impl Into<String>) -> Self {
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".into());
        InstanceConfig {
            image: image.into(),
            function_name: function_name.into(),
            memory_mb: jot_core::limits::DEFAULT_MEMORY_MB,
            timeout: Duration::from_secs(30),
            environment: Vec::new(),
            region,
            account_id: std::env::var("JOT_LOCAL_ACCOUNT_ID")
                .unwrap_or_else(|_| "000000000000".into()),
            ephemeral_storage_mb: 512,
            version: jot_core::names::LATEST.into(),
            initialization_type: "on-demand".into(),
            cpus: None,
            pids_limit: None,
            labels: Vec::new(),
        }
    }

    pub fn function_arn(&self) -> String {
        jot_core::names::function_arn(&self.region, &self.account_id, &self.function_name)
    }
}

/// When the sandbox reached each stage of its start.
#[derive(Debug, Clone, Copy)]
pub struct InstanceTimings {
    /// Just before the container was created.
    pub created: Instant,
    /// The same moment by the wall clock (the runtime reports epoch times).
    pub created_at: SystemTime,
    /// When the container had started.
    pub started: Instant,
}

/// A running sandbox. Dropping it does not remove the container: call [`Instance::stop`].
pub struct Instance {
    pub(crate) docker: Docker,
    pub(crate) container_id: String,
    api: Arc<RuntimeApi>,
    server: tokio::task::JoinHandle<()>,
    config: InstanceConfig,
    pub timings: InstanceTimings,
    invocations: std::sync::atomic::AtomicU64,
    /// Set once the CPU limit is in force (after init, before the first event).
    cpu_limited: tokio::sync::OnceCell<()>,
}

impl Instance {
    /// Serves a Runtime API where sandboxes reach jot (loopback with host
    /// networking) and starts a container of the image against it.
    pub async fn start(docker: &Docker, config: InstanceConfig) -> Result<Instance, EmulatorError> {
        let network = docker.network();
        let (api, addr, server) =
            RuntimeApi::serve(config.function_arn(), network.listen_address()).await?;
        let address = api.address(network.host_address(), addr.port());
        let created = Instant::now();
        let created_at = SystemTime::now();
        let container_id = match create_container(docker, &config, &address).await {
            Ok(id) => id,
            Err(e) => {
                server.abort();
                return Err(e.into());
            }
        };
        let _ = api.container_id.set(container_id.clone());
        if let Err(e) = jot_docker::start_sandbox(docker, &container_id, &config.image).await {
            server.abort();
            jot_docker::remove_container(docker, &container_id).await;
            return Err(e.into());
        }
        let started = Instant::now();
        tokio::spawn(watch_exit(
            docker.clone(),
            container_id.clone(),
            api.clone(),
        ));
        Ok(Instance {
            docker: docker.clone(),
            container_id,
            api,
            server,
            config,
            timings: InstanceTimings {
                created,
                created_at,
                started,
            },
            invocations: Default::default(),
            cpu_limited: tokio::sync::OnceCell::new(),
        })
    }

    /// When the runtime first asked for an event: the end of its init phase.
    pub fn init_done(&self) -> Option<Instant> {
        self.api.first_next.get().copied()
    }

    /// Waits until the runtime asked for its first event (init done) or the
    /// sandbox failed, within Lambda's init budget; true when it is ready
    /// (with its CPU limit in force).
    pub async fn wait_ready(&self) -> bool {
        let mut health = self.api.health.subscribe();
        let _ = tokio::time::timeout(
            INIT_BUDGET,
            health.wait_for(|health| *health != Health::Starting),
        )
        .await;
        let ready = matches!(*health.borrow(), Health::Ready);
        if ready {
            self.limit_cpu().await;
        }
        ready
    }

    /// Puts the sandbox's CPU limit in force, once: its init ran without it
    /// (Lambda's init burst; a throttled Julia start took about twice as
    /// long), every event runs within it. A failure leaves the sandbox as it
    /// is: one gone has failed anyway.
    async fn limit_cpu(&self) {
        let Some(cpus) = self.config.cpus else {
            return;
        };
        self.cpu_limited
            .get_or_init(|| async {
                let _ = jot_docker::limit_cpus(&self.docker, &self.container_id, cpus).await;
            })
            .await;
    }

    /// How long init took (container create → first `GET /next`), once done.
    pub fn init_duration(&self) -> Option<Duration> {
        self.init_done().map(|at| at - self.timings.created)
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    /// The most memory the sandbox has used, in bytes, from its cgroup (v1 or v2).
    pub fn max_memory_used(&self) -> Option<u64> {
        let id = &self.container_id;
        [
            format!("/sys/fs/cgroup/memory/docker/{id}/memory.max_usage_in_bytes"),
            format!("/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak"),
            format!("/sys/fs/cgroup/docker/{id}/memory.peak"),
        ]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| text.trim().parse().ok())
    }
    /// The split of this sandbox's cold start, once its init is done;
    /// `first_response` is its first invocation's duration.
    pub fn cold_start(&self, first_response: Duration) -> Option<ColdStart> {
        let seen = Seen {
            created: self.timings.created,
            created_at: self.timings.created_at,
            started: self.timings.started,
            first_next: self.init_done()?,
            restore_next: self.api.restore_next.get().copied(),
            first_response,
        };
        let mut cold = ColdStart::split(&seen, self.api.init_phases.get());
        cold.bytes_read = self.api.init_bytes_read.get().copied();
        Some(cold)
    }

    /// False once the sandbox failed (init error, exit, timeout): it answers no more.
    pub fn is_healthy(&self) -> bool {
        !matches!(*self.api.health.borrow(), Health::Failed(_))
    }

    /// Invocations the runtime took through jot's chain (the answer to its
    /// previous response) rather than a `GET /next`.
    pub fn chained_invocations(&self) -> u64 {
        self.api.chained.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn container_id(&self) -> &str {
        &self.container_id
    }

    /// Runs one invocation to its end: a response, a function error, or a timeout
    /// (which kills the sandbox, as Lambda does).
    pub async fn invoke(&self, payload: Bytes) -> Result<Invocation, EmulatorError> {
        Ok(self.run(payload, None).await?.0)
    }

    /// [`Instance::invoke`], and what the function wrote meanwhile (all of it:
    /// the runtime marks the end of its output, and the engine's log is read
    /// until the marks are in).
    pub async fn invoke_with_log(
        &self,
        payload: Bytes,
    ) -> Result<(Invocation, String), EmulatorError> {
        let since = SystemTime::now();
        let marker = uuid::Uuid::new_v4().to_string();
        let (invocation, answered) = self.run(payload, Some(marker.clone())).await?;
        // An answer the runtime did not post (a crash, a timeout) comes with no marks.
        let marker = answered.then_some(marker.as_str());
        let log = self.logs_since(since, marker).await;
        Ok((invocation, log))
    }

    /// One invocation; also whether the runtime answered it (rather than
    /// the sandbox failing or the timeout).
    async fn run(
        &self,
        payload: Bytes,
        log_marker: Option<String>,
    ) -> Result<(Invocation, bool), EmulatorError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(EmulatorError::PayloadTooLarge {
                size: payload.len(),
            });
        }
        let cold = self
            .invocations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            == 0;
        let request_id = uuid::Uuid::new_v4();
        let mut health = self.api.health.subscribe();
        // As on Lambda, init has a budget of its own: the invocation's timeout
        // (and its deadline) start when init is done or its budget is spent.
        let _ = tokio::time::timeout(
            INIT_BUDGET,
            health.wait_for(|health| *health != Health::Starting),
        )
        .await;
        if let Health::Failed(outcome) = &*health.borrow_and_update() {
            let invocation = Invocation {
                request_id: request_id.to_string(),
                outcome: outcome.clone(),
                duration: Duration::ZERO,
                cold,
            };
            return Ok((invocation, false));
        }
        self.limit_cpu().await;
        let begun = Instant::now();
        let event = Event {
            request_id: request_id.to_string(),
            payload,
            deadline_ms: epoch_ms(SystemTime::now() + self.config.timeout),
            trace_id: trace_id(&request_id),
            log_marker,
        };
        let answer = self.api.dispatch(event);
        let request_id = request_id.to_string();
        let failed = async {
            loop {
                if let Health::Failed(outcome) = &*health.borrow_and_update() {
                    return outcome.clone();
                }
                if health.changed().await.is_err() {
                    return Outcome::error("Runtime.ExitError", "the sandbox went away");
                }
            }
        };
        let (outcome, answered) = tokio::select! {
            biased;
            answer = answer => match answer {
                Ok(outcome) => (outcome, true),
                Err(_) => (Outcome::error("Runtime.ExitError", "the sandbox went away"), false),
            },
            outcome = failed => { self.api.abandon(&request_id); (outcome, false) }
            _ = tokio::time::sleep(self.config.timeout) => {
                self.api.abandon(&request_id);
                let timed_out = Outcome::error(
                    "Sandbox.Timedout",
                    &format!("RequestId: {request_id} Error: Task timed out after {:.2} seconds", self.config.timeout.as_secs_f64()),
                );
                self.api.fail(timed_out.clone());
                self.kill().await;
                (timed_out, false)
            }
        };
        let invocation = Invocation {
            request_id,
            outcome,
            duration: begun.elapsed(),
            cold,
        };
        Ok((invocation, answered))
    }

    /// Stops the sandbox and waits until the engine reports it stopped. The
    /// engine copies a container's output into its log on its own time and
    /// marks the container stopped only once that copy is done, so a log
    /// read after this holds everything the function wrote; one read from a
    /// running sandbox can miss its last lines. A runtime waiting for an
    /// event is told the Runtime API is closing and exits on its own (the
    /// engine ends an exited container in about a third of the time a kill
    /// takes); one still busy after [`EXIT_GRACE`] is killed. True when it
    /// exited on its own.
    pub async fn halt(&self) -> bool {
        self.api.close();
        let exited = tokio::time::timeout(EXIT_GRACE, self.wait_stopped())
            .await
            .is_ok();
        if !exited {
            self.kill().await;
            self.wait_stopped().await;
        }
        exited
    }

    async fn wait_stopped(&self) {
        jot_docker::wait_stopped(&self.docker, &self.container_id).await;
    }

    async fn kill(&self) {
        jot_docker::kill_sandbox(&self.docker, &self.container_id).await;
    }

    /// Stops the sandbox and removes its container.
    pub async fn stop(self) -> bool {
        let exited = self.halt().await;
        self.server.abort();
        jot_docker::remove_container(&self.docker, &self.container_id).await;
        exited
    }
}

async fn create_container(
    docker: &Docker,
    config: &InstanceConfig,
    api: &str,
) -> Result<String, jot_core::Error> {
    let log_stream = format!(
        "{}/[{}]{}",
        humantime_date(),
        config.version,
        uuid::Uuid::new_v4().simple()
    );
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", config.function_name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", config.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            config.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", config.function_name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            config.initialization_type.clone(),
        ),
        ("AWS_REGION", config.region.clone()),
        ("AWS_DEFAULT_REGION", config.region.clone()),
        ("TZ", ":UTC".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    env.extend(config.environment.iter().cloned());
    let spec = SandboxSpec {
        name: format!(
            "jot-{}-{}",
            config.function_name,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ),
        image: config.image.clone(),
        env,
        // Lambda runs functions as an unprivileged user.
        user: "993:990".into(),
        labels: [
            (EMULATOR_LABEL.to_string(), "1".to_string()),
            (
                jot_core::labels::JOT_NAME.to_string(),
                config.function_name.clone(),
            ),
        ]
        .into_iter()
        .chain(config.labels.iter().cloned())
        .collect(),
        memory_bytes: i64::from(config.memory_mb) * 1024 * 1024,
        tmp_size_mb: config.ephemeral_storage_mb,
        // No CPU limit yet: `Instance::limit_cpu` sets it once init is done.
        pids_limit: config.pids_limit,
    };
    jot_docker::create_sandbox(docker, &spec)
        .await
        .map_err(|e| match e {
            e if e.is_not_found() => jot_core::Error::InvalidInput(format!(
                "image {} is not in the local Docker engine; build it with jot-build",
                config.image
            )),
            other => other.into(),
        })
}

/// `YYYY/MM/DD` as in Lambda's log stream names.
fn humantime_date() -> String {
    let stamp = jot_core::labels::rfc3339(SystemTime::now());
    stamp[..10].replace('-', "/")
}

/// Marks the sandbox failed when its container exits, as Lambda reports a
/// runtime that exits mid-invocation.
async fn watch_exit(docker: Docker, container_id: String, api: Arc<RuntimeApi>) {
    let exit = jot_docker::wait_sandbox(&docker, &container_id).await;
    // Lambda reports a sandbox killed for memory as Runtime.OutOfMemory, not exit 137.
    api.fail(if exit.oom_killed {
        Outcome::error(
            "Runtime.OutOfMemory",
            "Runtime exited with error: signal: killed (out of memory)",
        )
    } else {
        Outcome::error(
            "Runtime.ExitError",
            &format!("Runtime exited with error: exit status {}", exit.code),
        )
    });
}
