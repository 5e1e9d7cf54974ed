//! A function run locally: invocations go to a warm sandbox, and a sandbox
//! that timed out or died is replaced on the next invocation (a new cold
//! start), as Lambda does.

use std::time::Duration;

use bollard::Docker;
use bytes::Bytes;

use crate::{EmulatorError, Instance, InstanceConfig, Invocation};

pub struct LocalFunction {
    docker: Docker,
    config: InstanceConfig,
    instance: Option<Instance>,
    /// Logs of sandboxes already replaced, kept for `--logs`.
    retired_logs: String,
    /// Init phase of the first sandbox: creation to its first `GET /next`.
    first_init: Option<Duration>,
}

impl LocalFunction {
    pub fn new(docker: &Docker, config: InstanceConfig) -> Self {
        LocalFunction {
            docker: docker.clone(),
            config,
            instance: None,
            retired_logs: String::new(),
            first_init: None,
        }
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    /// The current sandbox, starting one if there is none or the last one failed.
    pub async fn instance(&mut self) -> Result<&Instance, EmulatorError> {
        if let Some(instance) = self.instance.take_if(|i| !i.is_healthy()) {
            self.retired_logs.push_str(&instance.logs().await);
            instance.stop().await;
        }
        if self.instance.is_none() {
            self.instance = Some(Instance::start(&self.docker, self.config.clone()).await?);
        }
        Ok(self
            .instance
            .as_ref()
            .expect("an instance was just started"))
    }

    /// Invokes the function once with `payload`.
    pub async fn invoke(&mut self, payload: Bytes) -> Result<Invocation, EmulatorError> {
        let instance = self.instance().await?;
        let invocation = instance.invoke(payload).await?;
        if self.first_init.is_none() {
            let instance = self.instance.as_ref().expect("the instance just answered");
            self.first_init = instance.init_done().map(|at| at - instance.timings.created);
        }
        Ok(invocation)
    }

    /// How long the first sandbox took to initialise, once known.
    pub fn first_init(&self) -> Option<Duration> {
        self.first_init
    }

    /// Logs of every sandbox this function ran, oldest first.
    pub async fn logs(&self) -> String {
        let mut text = self.retired_logs.clone();
        if let Some(instance) = &self.instance {
            text.push_str(&instance.logs().await);
        }
        text
    }

    /// Removes the current sandbox.
    pub async fn shutdown(mut self) {
        if let Some(instance) = self.instance.take() {
            instance.stop().await;
        }
    }
}

impl jot_core::session::Invoker for LocalFunction {
    async fn invoke_once(&mut self, payload: Bytes) -> jot_core::Result<Invocation> {
        self.invoke(payload).await.map_err(Into::into)
    }
}
