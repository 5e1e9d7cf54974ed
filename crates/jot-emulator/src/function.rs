//! A function run locally: invocations go to a warm sandbox, and a sandbox
//! that timed out or died is replaced on the next invocation (a new cold
//! start), as Lambda does.

use std::time::Duration;

use bytes::Bytes;
use jot_docker::Docker;

use crate::{ColdStart, EmulatorError, Instance, InstanceConfig, Invocation};

pub struct LocalFunction {
    docker: Docker,
    config: InstanceConfig,
    instance: Option<Instance>,
    /// Logs of sandboxes already replaced, kept for `--logs`.
    retired_logs: String,
    /// Init phase of the first sandbox: creation to its first `GET /next`.
    first_init: Option<Duration>,
    /// The first sandbox's cold start, split.
    first_cold_start: Option<ColdStart>,
    /// Lambda's REPORT line of every invocation, for `--logs`.
    reports: String,
}

impl LocalFunction {
    pub fn new(docker: &Docker, config: InstanceConfig) -> Self {
        LocalFunction {
            docker: docker.clone(),
            config,
            instance: None,
            retired_logs: String::new(),
            first_init: None,
            first_cold_start: None,
            reports: String::new(),
        }
    }

    pub fn config(&self) -> &InstanceConfig {
        &self.config
    }

    /// The current sandbox, starting one if there is none or the last one failed.
    pub async fn instance(&mut self) -> Result<&Instance, EmulatorError> {
        if let Some(instance) = self.instance.take_if(|i| !i.is_healthy()) {
            instance.halt().await;
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
        let instance = self.instance.as_ref().expect("the instance just answered");
        let cold_start = invocation
            .cold
            .then(|| instance.cold_start(invocation.duration))
            .flatten();
        if self.first_init.is_none() {
            self.first_init = instance.init_done().map(|at| at - instance.timings.created);
            self.first_cold_start = cold_start.clone();
        }
        self.reports.push_str(&report_line(
            &invocation,
            self.config.memory_mb,
            cold_start.as_ref(),
        ));
        Ok(invocation)
    }

    /// The first sandbox's cold start split into its phases, once known.
    pub fn first_cold_start(&self) -> Option<&ColdStart> {
        self.first_cold_start.as_ref()
    }

    /// How long the first sandbox took to initialise, once known.
    pub fn first_init(&self) -> Option<Duration> {
        self.first_init
    }

    /// Ends the function and returns the logs of every sandbox it ran,
    /// oldest first, then Lambda's REPORT line of each invocation. The
    /// sandbox is halted before its log is read, so the log is complete.
    pub async fn shutdown_with_logs(mut self) -> String {
        let mut text = std::mem::take(&mut self.retired_logs);
        if let Some(instance) = self.instance.take() {
            instance.halt().await;
            text.push_str(&instance.logs().await);
            instance.stop().await;
        }
        text.push_str(&self.reports);
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

/// Lambda's REPORT line: `Init Duration` on a cold start, `Restore Duration`
/// instead for a SnapStart restore, as Lambda writes them.
pub fn report_line(invocation: &Invocation, memory_mb: u32, cold: Option<&ColdStart>) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let duration = ms(invocation.duration);
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {duration:.2} ms\tBilled Duration: {} ms\tMemory Size: {memory_mb} MB",
        invocation.request_id,
        duration.ceil().max(1.0) as u64,
    );
    match cold {
        Some(ColdStart {
            restore: Some(restore),
            ..
        }) => line.push_str(&format!("\tRestore Duration: {:.2} ms", ms(*restore))),
        Some(cold) => line.push_str(&format!("\tInit Duration: {:.2} ms", ms(cold.init))),
        None => {}
    }
    line.push('\n');
    line
}
