//! A service's start: version 1 of each function, its provisioned sandboxes
//! before any traffic, its Event worker, the idle sweep and (`--watch`) the
//! watcher of the responders' files.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use jot_docker::Docker;
use tokio::sync::{Mutex, Semaphore, mpsc, watch};

use crate::events::DeadLetter;
use crate::registry::{Function, Version};
use crate::service::{Entry, Options, Served, Service};

impl Service {
    /// Creates version 1 of each function, starts its provisioned sandboxes
    /// (before any traffic), and its Event worker; the server will listen
    /// on `address`.
    pub async fn start(
        docker: &Docker,
        served: Vec<Served>,
        options: Options,
        address: std::net::SocketAddr,
    ) -> jot_core::Result<Arc<Service>> {
        let mut entries = BTreeMap::new();
        let sandbox_environment = sandbox_environment(&options.keys, address);
        for mut s in served {
            s.settings.sandbox_environment = sandbox_environment.clone();
            let places = s.settings.event_queue.max(1);
            let (events, receiver) = mpsc::channel(places);
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
                    places: Arc::new(Semaphore::new(places)),
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
            address,
            rollout: Mutex::new(()),
            workers: Mutex::new(Vec::new()),
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
                let worker = tokio::spawn(service.clone().run_events(name.clone(), receiver));
                service.workers.lock().await.push(worker);
            }
        }
        tokio::spawn(service.clone().stop_idle_sandboxes());
        if service.options.watch {
            tokio::spawn(crate::watch::watch(service.clone()));
        }
        Ok(service)
    }
}

/// What every sandbox gets from jot-serve: Invoke-only credentials and the
/// endpoint, so a function's AWS SDK calls other functions here (as a
/// function on Lambda calls Lambda with its role's credentials).
fn sandbox_environment(
    keys: &crate::auth::Keys,
    address: std::net::SocketAddr,
) -> Vec<(String, String)> {
    let host = if address.ip().is_unspecified() {
        std::net::SocketAddr::from(([127, 0, 0, 1], address.port()))
    } else {
        address
    };
    vec![
        (
            "AWS_ACCESS_KEY_ID".into(),
            keys.sandbox.access_key_id.clone(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".into(),
            keys.sandbox.secret_access_key.expose().to_string(),
        ),
        ("AWS_ENDPOINT_URL_LAMBDA".into(), format!("http://{host}")),
    ]
}
