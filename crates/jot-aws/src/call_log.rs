//! `-v`: one line on stderr per AWS call, `aws: SERVICE OPERATION: STATUS`
//! (the HTTP status of its last attempt, or "no answer"), from an interceptor
//! on every client jot makes, so a person sees which calls a tool made.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use jot_core::output::{self, Verbosity};

/// The interceptor: reads the operation's metadata and final response only.
#[derive(Debug, Default)]
pub(crate) struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "jot call log"
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if output::verbosity() >= Verbosity::Verbose {
            let status = context.response().map(|r| r.status().as_u16());
            output::detail(line(cfg.load::<Metadata>(), status));
        }
        Ok(())
    }
}

/// The line for one call.
fn line(metadata: Option<&Metadata>, status: Option<u16>) -> String {
    let (service, operation) = metadata.map_or(("?", "?"), |m| (m.service(), m.name()));
    match status {
        Some(status) => format!("aws: {service} {operation}: {status}"),
        None => format!("aws: {service} {operation}: no answer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_its_service_operation_and_status() {
        let metadata = Metadata::new("GetFunction", "Lambda");
        assert_eq!(
            line(Some(&metadata), Some(404)),
            "aws: Lambda GetFunction: 404"
        );
        assert_eq!(line(None, None), "aws: ? ?: no answer");
    }
}
