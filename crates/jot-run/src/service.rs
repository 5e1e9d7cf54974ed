//! The run service: the functions it serves, their Event queues and
//! background work (idle stop, rollouts), the HTTP server, and a shutdown
//! that stops accepting, lets in-flight work finish within its timeout,
//! records the Events still queued and removes every sandbox it started.

use jot_core::names::LATEST;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hyper::StatusCode;
use jot_core::descriptor::ResponderInfo;
use jot_docker::Docker;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc, watch};

use crate::events::{ATTEMPTS, DeadLetter, Failure, QueuedEvent, retry_delay};
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
}

pub(crate) struct Entry {
    pub function: Arc<Function>,
    pub events: mpsc::Sender<QueuedEvent>,
    /// Held by the worker; closed and drained at shutdown.
    receiver: Mutex<Option<mpsc::Receiver<QueuedEvent>>>,
}

pub struct Service {
    pub(crate) docker: Docker,
    pub(crate) entries: BTreeMap<String, Entry>,
    pub(crate) options: Options,
    pub(crate) in_flight: Arc<InFlight>,
    pub(crate) dead_letter: DeadLetter,
    pub(crate) stopping: watch::Sender<bool>,
    pub(crate) started: SystemTime,
    /// Serialises rollouts per service, so two never race for one version number.
    rollout: Mutex<()>,
}

/// What a shutdown did, for the binary to report.
#[derive(Debug, Default)]
pub struct Shutdown {
    /// Work still running when the grace time ran out (0 on a clean stop).
    pub unfinished: usize,
    pub events_recorded: usize,
    pub containers_removed: usize,
}

impl Service {
    /// Creates version 1 of each function, starts its provisioned sandboxes
    /// (before any traffic), and its Event worker.
    pub async fn start(
        docker: &Docker,
        served: Vec<Served>,
        options: Options,
    ) -> jot_core::Result<Arc<Service>> {
        let mut entries = BTreeMap::new();
        for mut s in served {
            let (events, receiver) = mpsc::channel(s.settings.event_queue.max(1));
            s.settings.labels.push((
                crate::owner::OWNER_LABEL.to_string(),
                crate::owner::current(),
            ));
            let function = Arc::new(Function::new(
                docker,
                s.name.clone(),
                s.responder,
                s.base_image,
                s.settings,
            ));
            let pool = Arc::new(function.pool_for(&s.image));
            function.roll_out(Version {
                number: 1,
                image: s.image,
                image_id: s.image_id,
                description: String::new(),
                created: SystemTime::now(),
                pool,
            });
            entries.insert(
                s.name,
                Entry {
                    function,
                    events,
                    receiver: Mutex::new(Some(receiver)),
                },
            );
        }
        let service = Arc::new(Service {
            docker: docker.clone(),
            dead_letter: DeadLetter::open(options.dead_letter.clone())?,
            entries,
            options,
            in_flight: Arc::default(),
            stopping: watch::Sender::new(false),
            started: SystemTime::now(),
            rollout: Mutex::new(()),
        });
        for entry in service.entries.values() {
            let function = &entry.function;
            let wanted = function.settings.min_instances;
            if wanted > 0
                && let Err(e) = function.latest().pool.provision(wanted).await
            {
                service.remove_all().await;
                return Err(e.into());
            }
        }
        for (name, entry) in &service.entries {
            let receiver = entry.receiver.lock().await.take();
            if let Some(receiver) = receiver {
                tokio::spawn(service.clone().run_events(name.clone(), receiver));
            }
        }
        tokio::spawn(service.clone().stop_idle_sandboxes());
        if service.options.watch {
            tokio::spawn(crate::watch::watch(service.clone()));
        }
        Ok(service)
    }

    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.entries.get(name).map(|e| &e.function)
    }

    pub fn functions(&self) -> impl Iterator<Item = &Arc<Function>> {
        self.entries.values().map(|e| &e.function)
    }

    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.options.region, self.options.account_id
        )
    }

    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Serves the Lambda API on `listener` until [`Service::stop`]; returns
    /// once every open connection has had its answer.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let stop = self.stopping.subscribe();
        let service = self.clone();
        jot_emulator::http::serve_until(
            listener,
            move |request| crate::router::handle(service.clone(), request),
            stop,
        )
        .await
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

    /// Takes Events off a function's queue and runs each (concurrently, within
    /// the function's reserved concurrency) until shutdown.
    async fn run_events(self: Arc<Self>, name: String, mut receiver: mpsc::Receiver<QueuedEvent>) {
        let mut stopping = self.stopping.subscribe();
        loop {
            let event = tokio::select! {
                biased;
                _ = stopping.wait_for(|s| *s) => break,
                event = receiver.recv() => event,
            };
            let Some(event) = event else { break };
            let working = self.in_flight.enter();
            let service = self.clone();
            let name = name.clone();
            tokio::spawn(async move {
                service.run_event(&name, event).await;
                drop(working);
            });
        }
        // Shutdown: what never started is recorded, never dropped silently.
        receiver.close();
        let arn = self.function_arn(&name);
        while let Ok(event) = receiver.try_recv() {
            let failure = Failure {
                attempts: 0,
                condition: "ShutdownBeforeInvocation",
                executed_version: LATEST.into(),
                function_error: None,
                response: None,
            };
            self.dead_letter.record(&arn, &event, &failure);
        }
    }

    async fn run_event(&self, name: &str, event: QueuedEvent) {
        let Some(function) = self.function(name) else {
            return;
        };
        let mut failure: Option<Failure> = None;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                // Shutdown during the wait: the event is recorded, not cut.
                let mut stopping = self.stopping.subscribe();
                let delay = retry_delay(self.options.event_retry_delay, attempt - 1);
                let stopped = tokio::select! {
                    _ = stopping.wait_for(|s| *s) => true,
                    _ = tokio::time::sleep(delay) => false,
                };
                if stopped {
                    if let Some(failure) = failure.as_mut() {
                        failure.condition = "ShutdownBeforeRetry";
                    }
                    break;
                }
            }
            let Ok(_slot) = function.admission.admit_waiting().await else {
                break;
            };
            let Some(target) = function.resolve(event.qualifier.as_deref()) else {
                break;
            };
            let result = target
                .version
                .pool
                .invoke(event.payload.clone(), false, &target.executed)
                .await;
            let (error, response) = match result {
                Ok(ran) => {
                    crate::invoke::log_report(function, &target.executed, &ran);
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
                condition: "RetriesExhausted",
                executed_version: target.executed,
                function_error: Some(error),
                response,
            });
        }
        let failure = failure.unwrap_or(Failure {
            attempts: 0,
            condition: "ShutdownBeforeInvocation",
            executed_version: LATEST.into(),
            function_error: None,
            response: None,
        });
        self.dead_letter
            .record(&self.function_arn(name), &event, &failure);
    }

    /// Stops sandboxes idle longer than each function's idle timeout (keeping
    /// its provisioned ones), as Lambda reclaims idle sandboxes.
    async fn stop_idle_sandboxes(self: Arc<Self>) {
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
    /// work (within the longest timeout), then removes every sandbox.
    pub async fn shutdown(&self) -> Shutdown {
        self.stop();
        let finished = self.in_flight.wait_idle(self.grace()).await;
        let unfinished = if finished { 0 } else { self.in_flight.count() };
        let containers_removed = self.remove_all().await;
        Shutdown {
            unfinished,
            events_recorded: 0,
            containers_removed,
        }
    }

    /// Stops at once (a second Ctrl-C): work in flight is cut, every sandbox removed.
    pub async fn abort(&self) -> usize {
        self.stop();
        self.remove_all().await
    }

    async fn remove_all(&self) -> usize {
        for function in self.functions() {
            for version in function.versions() {
                version.pool.shutdown().await;
            }
        }
        // Sandboxes of unfinished work (and any a dropped lease is removing).
        crate::owner::remove_own(&self.docker).await
    }
}

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
