//! The run service: the functions it serves, their Event queues and
//! background work (idle stop, rollouts), and a shutdown
//! that stops accepting, lets in-flight work finish within its timeout,
//! records the Events still queued and removes every sandbox it started.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use jot_core::descriptor::ResponderInfo;
use jot_docker::Docker;
use tokio::sync::{Mutex, Semaphore, mpsc, watch};

use crate::events::{ATTEMPTS, Condition, DeadLetter, Failure, QueuedEvent, retry_delay};
use crate::registry::{Function, Settings, Version};
use crate::scheduler::InFlight;

/// One function to serve and the image of its first version.
pub struct Served {
    pub name: String,
    pub responder: ResponderInfo,
    pub image: String,
    pub image_id: String,
    pub base_image: String,
    pub settings: Settings,
    /// The descriptor's own `settings` (the binary layers them under its
    /// flags and over `jot.toml` into `settings`).
    pub requested: jot_core::descriptor::RunSettings,
}

pub struct Options {
    pub account_id: String,
    pub region: String,
    /// HTTP status of a function error (200 as Lambda; other for status-only proxies).
    pub function_error_status: StatusCode,
    pub dead_letter: Option<PathBuf>,
    /// Pause before the first Event retry (doubles for the second).
    pub event_retry_delay: Duration,
    /// The shared secret of the webhook (`X-Hub-Signature-256`); None: no webhook.
    pub webhook_secret: Option<jot_core::image_ref::Secret>,
    /// Rebuild and roll out functions whose source changed.
    pub watch: bool,
    /// The user's credentials (the control plane) and the sandboxes' (Invoke only).
    pub keys: crate::auth::Keys,
}

pub(crate) struct Entry {
    pub function: Arc<Function>,
    pub events: mpsc::Sender<QueuedEvent>,
    /// The function's `--event-queue` places: an accepted Event holds one
    /// until it is done (see [`crate::events`]); none free → 429.
    pub places: Arc<Semaphore>,
    /// Held by the worker; closed and drained at shutdown.
    pub(crate) receiver: Mutex<Option<mpsc::Receiver<QueuedEvent>>>,
}

impl Entry {
    /// (Events accepted and not yet done, the most there may be).
    pub fn queue(&self) -> (usize, usize) {
        let capacity = self.events.max_capacity();
        (capacity - self.places.available_permits(), capacity)
    }
}

pub struct Service {
    pub(crate) docker: Docker,
    pub(crate) entries: BTreeMap<String, Entry>,
    pub(crate) options: Options,
    pub(crate) in_flight: Arc<InFlight>,
    pub(crate) dead_letter: DeadLetter,
    pub(crate) stopping: watch::Sender<bool>,
    pub(crate) started: SystemTime,
    /// Where the server listens: the only `Host` it answers, and the
    /// endpoint sandboxes are given.
    pub(crate) address: std::net::SocketAddr,
    /// Serialises rollouts per service, so two never race for one version
    /// number (and a shutdown waits for the one under way).
    pub(crate) rollout: Mutex<()>,
    /// The Event workers, awaited at shutdown (they record what never ran).
    pub(crate) workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What a shutdown did, for the binary to report.
#[derive(Debug, Default)]
pub struct Shutdown {
    /// Work still running when the grace time ran out (0 on a clean stop).
    pub unfinished: usize,
    pub containers_removed: usize,
}

impl Service {
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.entries.get(name).map(|e| &e.function)
    }

    pub fn functions(&self) -> impl Iterator<Item = &Arc<Function>> {
        self.entries.values().map(|e| &e.function)
    }

    pub fn function_arn(&self, name: &str) -> String {
        jot_core::names::function_arn(&self.options.region, &self.options.account_id, name)
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Records written to the dead-letter file so far.
    pub fn dead_letter_count(&self) -> usize {
        self.dead_letter.count()
    }

    /// Where Event records go (`--dead-letter`, or jot-serve's own file).
    pub fn dead_letter_path(&self) -> &std::path::Path {
        self.dead_letter.path()
    }

    /// Stops accepting connections and Event invocations.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Rolls a new image out as the function's newest version: one sandbox of
    /// it is started and initialised first, then new requests go to it while
    /// requests in flight finish on theirs, and the old pool drains.
    pub async fn roll_out(
        &self,
        name: &str,
        image: String,
        image_id: String,
    ) -> jot_core::Result<u64> {
        let function = self.function(name).ok_or_else(|| {
            jot_core::Error::InvalidInput(format!("no function named {name} is served"))
        })?;
        let _one_at_a_time = self.rollout.lock().await;
        if self.is_stopping() {
            return Err(jot_core::Error::InvalidInput(
                "jot-serve is shutting down: no rollout".into(),
            ));
        }
        let latest = function.latest();
        if latest.image_id == image_id {
            return Ok(latest.number);
        }
        let number = function.next_number();
        let pool = Arc::new(function.pool_for(&image));
        pool.provision(function.settings.min_instances.max(1))
            .await?;
        let previous = function.roll_out(Version {
            number,
            image,
            image_id,
            description: String::new(),
            created: SystemTime::now(),
            pool,
        });
        if let Some(previous) = previous {
            previous.pool.drain().await;
        }
        Ok(number)
    }

    /// Takes Events off a function's queue, one at a time as a concurrency
    /// slot frees, and runs each in a task of its own, until shutdown. An
    /// Event stays in the queue (holding its place) until it has a slot, so
    /// `--event-queue` bounds what waits.
    pub(crate) async fn run_events(
        self: Arc<Self>,
        name: String,
        mut receiver: mpsc::Receiver<QueuedEvent>,
    ) {
        let mut stopping = self.stopping.subscribe();
        let Some(function) = self.function(&name).cloned() else {
            return;
        };
        let arn = self.function_arn(&name);
        loop {
            let event = tokio::select! {
                biased;
                _ = stopping.wait_for(|s| *s) => break,
                event = receiver.recv() => event,
            };
            let Some(event) = event else { break };
            let slot = tokio::select! {
                biased;
                _ = stopping.wait_for(|s| *s) => None,
                slot = function.admission.admit_waiting() => slot.ok(),
            };
            let Some(slot) = slot else {
                self.dead_letter.record(&arn, &event, &Failure::never_ran());
                break;
            };
            let working = self.in_flight.enter();
            let service = self.clone();
            let name = name.clone();
            tokio::spawn(async move {
                service.run_event(&name, event, slot).await;
                drop(working);
            });
        }
        // Shutdown: what never started is recorded, never dropped silently.
        receiver.close();
        while let Ok(event) = receiver.try_recv() {
            self.dead_letter.record(&arn, &event, &Failure::never_ran());
        }
    }

    /// Runs `event` on `slot`, retrying twice after an error; a failure (or
    /// a shutdown before a retry) is recorded in the dead-letter file.
    async fn run_event(
        &self,
        name: &str,
        event: QueuedEvent,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) {
        let Some(function) = self.function(name) else {
            return;
        };
        let mut failure: Option<Failure> = None;
        let mut slot = Some(slot);
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                // Shutdown during the wait: the event is recorded, not cut.
                let mut stopping = self.stopping.subscribe();
                let delay = retry_delay(self.options.event_retry_delay, attempt - 1);
                let admitted = tokio::select! {
                    biased;
                    _ = stopping.wait_for(|s| *s) => None,
                    admitted = async {
                        tokio::time::sleep(delay).await;
                        function.admission.admit_waiting().await.ok()
                    } => admitted,
                };
                slot = admitted;
            }
            let (Some(_slot), Some(target)) =
                (slot.take(), function.resolve(event.qualifier.as_deref()))
            else {
                if let Some(failure) = failure.as_mut() {
                    failure.condition = Condition::ShutdownBeforeRetry;
                }
                break;
            };
            let result = target
                .version
                .pool
                .invoke(event.payload.clone(), false, &target.executed)
                .await;
            let (error, response) = match result {
                Ok(ran) => {
                    crate::report::log_report(function, &target.executed, &ran);
                    match ran.invocation.outcome {
                        jot_core::invocation::Outcome::Response(_) => return,
                        jot_core::invocation::Outcome::FunctionError { body, .. } => {
                            ("Unhandled".to_string(), Some(body))
                        }
                    }
                }
                Err(e) => (
                    "Unhandled".to_string(),
                    Some(bytes::Bytes::from(e.to_string())),
                ),
            };
            failure = Some(Failure {
                attempts: attempt,
                condition: Condition::RetriesExhausted,
                executed_version: target.executed,
                function_error: Some(error),
                response,
            });
        }
        let failure = failure.unwrap_or_else(Failure::never_ran);
        self.dead_letter
            .record(&self.function_arn(name), &event, &failure);
    }

    /// Stops sandboxes idle longer than each function's idle timeout (keeping
    /// its provisioned ones), as Lambda reclaims idle sandboxes.
    pub(crate) async fn stop_idle_sandboxes(self: Arc<Self>) {
        let mut stopping = self.stopping.subscribe();
        let period = self
            .functions()
            .map(|f| f.settings.idle_timeout)
            .min()
            .unwrap_or(Duration::from_secs(60))
            .clamp(Duration::from_millis(100), Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = stopping.wait_for(|s| *s) => return,
                _ = tokio::time::sleep(period) => {}
            }
            for function in self.functions() {
                let settings = &function.settings;
                for version in function.versions() {
                    let keep = if Arc::ptr_eq(&version, &function.latest()) {
                        settings.min_instances
                    } else {
                        0
                    };
                    version.pool.stop_idle(settings.idle_timeout, keep).await;
                }
            }
        }
    }

    /// The longest any in-flight invocation may still take.
    fn grace(&self) -> Duration {
        let timeout = self
            .functions()
            .map(|f| f.settings.timeout)
            .max()
            .unwrap_or_default();
        timeout + jot_emulator::INIT_BUDGET + Duration::from_secs(2)
    }

    /// After [`Service::stop`] and the server's return: waits for in-flight
    /// work (within the longest timeout), records the Events that never ran,
    /// then removes every sandbox.
    pub async fn shutdown(&self) -> Shutdown {
        self.stop();
        let finished = self.in_flight.wait_idle(self.grace()).await;
        let unfinished = if finished { 0 } else { self.in_flight.count() };
        let containers_removed = self.remove_all().await;
        Shutdown {
            unfinished,
            containers_removed,
        }
    }

    /// Stops at once (a second Ctrl-C): work in flight is cut, every sandbox
    /// removed, queued Events recorded.
    pub async fn abort(&self) -> usize {
        self.stop();
        self.remove_all().await
    }

    /// Closes every pool (no sandbox starts any more), lets the Event
    /// workers record what never ran and the work cut by the removal end,
    /// then sweeps every container this process owns.
    pub(crate) async fn remove_all(&self) -> usize {
        // A rollout under way finishes registering its version first (or
        // sees the stop and starts nothing).
        let _no_rollout = self.rollout.lock().await;
        for function in self.functions() {
            for version in function.versions() {
                version.pool.close().await;
            }
        }
        for worker in std::mem::take(&mut *self.workers.lock().await) {
            let _ = worker.await;
        }
        let removed = crate::owner::remove_own(&self.docker).await;
        // Work cut by the removal ends at once (its sandbox is gone) and
        // records its Event; then a last sweep for any sandbox it returned.
        self.in_flight.wait_idle(CUT_GRACE).await;
        removed + crate::owner::remove_own(&self.docker).await
    }
}

/// How long a client may take to send a request's head, and how long an
/// idle keep-alive connection stays open.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long work cut by the sandboxes' removal may take to record itself.
const CUT_GRACE: Duration = Duration::from_secs(5);

impl Served {
    /// One function per descriptor (each needs a local image), with
    /// `settings`; two descriptors naming one function are refused.
    pub fn from_descriptors(
        descriptors: &[jot_core::descriptor::Descriptor],
        settings: &Settings,
    ) -> jot_core::Result<Vec<Served>> {
        let mut seen = std::collections::HashSet::new();
        let mut served = Vec::new();
        for descriptor in descriptors {
            if !seen.insert(descriptor.name.as_str()) {
                return Err(jot_core::Error::InvalidInput(format!(
                    "two descriptors name the function {}; serve each name once",
                    descriptor.name
                )));
            }
            let local = descriptor.require_local_image()?;
            served.push(Served {
                name: descriptor.name.clone(),
                responder: descriptor.responder.clone(),
                image: local.image.clone(),
                image_id: local.id.clone(),
                base_image: local
                    .base_image
                    .clone()
                    .unwrap_or_else(|| jot_image::choose_base_image(None, None)),
                settings: settings.clone(),
                requested: descriptor.settings.clone().unwrap_or_default(),
            });
        }
        Ok(served)
    }
}
