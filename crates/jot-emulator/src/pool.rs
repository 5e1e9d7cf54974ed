//! Concurrent sandboxes for one function: an invocation takes an idle warm
//! sandbox or starts a new one (up to a limit), as Lambda scales out, where
//! SAM serialises and the runtime interface emulator takes one at a time.

use std::sync::Mutex;

use bollard::Docker;
use bytes::Bytes;
use tokio::sync::Semaphore;

use crate::{EmulatorError, Instance, InstanceConfig, Invocation};

pub struct FunctionPool {
    docker: Docker,
    config: InstanceConfig,
    idle: Mutex<Vec<Instance>>,
    /// Bounds the sandboxes running at once (Lambda's reserved concurrency).
    slots: Semaphore,
}

impl FunctionPool {
    pub fn new(docker: &Docker, config: InstanceConfig, max_concurrency: usize) -> Self {
        FunctionPool {
            docker: docker.clone(),
            config,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(max_concurrency.max(1)),
        }
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    fn take_idle(&self) -> Option<Instance> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Runs one invocation on a warm sandbox if one is idle, else on a new one.
    pub async fn invoke(&self, payload: Bytes) -> Result<Invocation, EmulatorError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the pool's semaphore is never closed");
        let instance = loop {
            match self.take_idle() {
                Some(instance) if instance.is_healthy() => break instance,
                Some(failed) => failed.stop().await,
                None => break Instance::start(&self.docker, self.config.clone()).await?,
            }
        };
        let result = instance.invoke(payload).await;
        if instance.is_healthy() {
            self.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(instance);
        } else {
            instance.stop().await;
        }
        result
    }

    /// Removes every sandbox.
    pub async fn shutdown(&self) {
        while let Some(instance) = self.take_idle() {
            instance.stop().await;
        }
    }
}
