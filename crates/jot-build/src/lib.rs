//! `jot-build`'s test run: the built image invoked once through the local
//! emulator, with the runtime's self-test in its init, its sandbox removed on
//! every path (an error, Ctrl-C, SIGTERM).

pub mod settings;

use std::time::Duration;

use jot_core::cli;
use jot_core::descriptor::Descriptor;
use jot_core::{Error, Result, check, output};
use jot_docker::Docker;
use jot_emulator::{InstanceConfig, LocalFunction};
use serde_json::Value;

/// Invokes the built image with `payload`; an error or a mismatch with
/// `expect` fails the build (the function's logs go to stderr).
pub async fn test_run(
    docker: &Docker,
    built: &Descriptor,
    payload: &Value,
    expect: Option<&Value>,
    timeout: Duration,
) -> Result<()> {
    let image = built.require_local_image()?.image.clone();
    let mut config = InstanceConfig::new(&image, &built.name);
    config.timeout = timeout;
    // The build-time self-test: in this init the runtime pushes the test event
    // through conversion, the function and JSON, with deprecations as errors,
    // and fails init if any cache was rebuilt (it would be at every cold start).
    config.environment.extend([
        ("JOT_SELF_TEST".to_string(), payload.to_string()),
        ("JOT_JULIA_FLAGS".to_string(), "--depwarn=error".to_string()),
    ]);
    let mut function = LocalFunction::new(docker, config);
    let invocation = tokio::select! {
        invocation = function.invoke(bytes::Bytes::from(payload.to_string())) => Ok(invocation),
        signal = cli::stop_requested() => Err(signal),
    };
    let logs = function.shutdown_with_logs().await;
    let invocation = invocation.map_err(|signal| {
        cli::interrupted(
            signal,
            "interrupted during the test run; its sandbox was removed",
        )
    })?;
    let result = invocation
        .map_err(Error::from)
        .and_then(|invocation| check::verdict(&invocation, expect));
    if let Err(e) = result {
        eprint!("{logs}");
        output::note(format!(
            "{image} failed its test run, so no descriptor is printed"
        ));
        return Err(e);
    }
    output::note(format!("{image}: test run passed"));
    Ok(())
}
