//! `jot-build`'s test run: the built image invoked through the local
//! emulator, with the runtime's self-test in its init, its sandbox removed on
//! every path (an error, Ctrl-C, SIGTERM); and `--compile`, whose exemplar
//! session is that test run, traced.

pub mod settings;

use std::time::Duration;

use jot_core::cli;
use jot_core::descriptor::Descriptor;
use jot_core::{Error, Result, check, output};
use jot_docker::Docker;
use jot_emulator::{INIT_BUDGET, InstanceConfig, LocalFunction};
use serde_json::Value;

/// Builds one planned image: the image, its test run, and with `--compile`
/// the exemplar session (the traced test run of the image of the code), the
/// compiled image and its own test run. Only the final image stays tagged.
pub async fn build_one(docker: &Docker, plan: &settings::Planned) -> Result<Descriptor> {
    let started = std::time::Instant::now();
    let built = jot_image::build(docker, &plan.request).await?;
    let local = built.require_local_image()?;
    output::detail(format!(
        "{}: image {} on {} in {} ms",
        local.image,
        local.id,
        local.base_image.as_deref().unwrap_or("?"),
        started.elapsed().as_millis()
    ));
    let timeout = Duration::from_secs(plan.test_timeout);
    let test = |image: Descriptor, trace: bool| async move {
        if plan.test_payloads.is_empty() {
            return Ok(Vec::new());
        }
        test_run(
            docker,
            &image,
            &plan.test_payloads,
            &plan.expects,
            timeout,
            trace,
        )
        .await
    };
    let Some(options) = &plan.request.compile else {
        test(built.clone(), false).await?;
        if plan.test_payloads.is_empty() && plan.self_test {
            load_self_test(docker, &built).await?;
        }
        return Ok(built);
    };
    let compiled = async {
        let trace = test(built.clone(), true).await?;
        let started = std::time::Instant::now();
        let compiled = jot_image::compile(docker, &plan.request, options, &built, &trace).await?;
        output::note(format!(
            "{}: compiled in {:.0} s",
            compiled.require_local_image()?.image,
            started.elapsed().as_secs_f64()
        ));
        test(compiled.clone(), false).await?;
        Ok(compiled)
    };
    let compiled = tokio::select! {
        compiled = compiled => compiled,
        signal = cli::stop_requested() => Err(cli::interrupted(
            signal,
            "interrupted while compiling; the uncompiled stage was removed",
        )),
    };
    jot_image::compile::remove_stage(docker, &built, compiled.is_err()).await?;
    compiled
}

/// Invokes the built image with each payload in turn (one sandbox); an error
/// or a mismatch with the `expect` in the same position fails the build (the
/// function's logs go to stderr). With `trace`, returns what the session
/// compiled (`--trace-compile`).
pub async fn test_run(
    docker: &Docker,
    built: &Descriptor,
    payloads: &[Value],
    expects: &[Value],
    timeout: Duration,
    trace: bool,
) -> Result<Vec<String>> {
    let image = built.require_local_image()?.image.clone();
    let mut config = InstanceConfig::new(&image, &built.name);
    config.timeout = timeout;
    // The build-time self-test: in this init the runtime pushes the test event
    // through conversion, the function and JSON, with deprecations as errors,
    // and fails init if any cache was rebuilt (it would be at every cold start).
    let mut flags = "--depwarn=error".to_string();
    if trace {
        flags.push_str(" --trace-compile=stderr");
    }
    config.environment.extend([
        ("JOT_SELF_TEST".to_string(), payloads[0].to_string()),
        ("JOT_JULIA_FLAGS".to_string(), flags),
    ]);
    let budget = init_budget_applies(docker, &image).await?;
    let session = async |function: &mut LocalFunction| {
        let mut verdict = Ok(());
        for (i, payload) in payloads.iter().enumerate() {
            let invocation = function
                .invoke(bytes::Bytes::from(payload.to_string()))
                .await
                .map_err(Error::from)?;
            if let Err(e) = check::verdict(&invocation, expects.get(i)) {
                check::fold_verdict(&mut verdict, e);
            }
        }
        if let (true, Some(init)) = (budget, function.first_init())
            && let Err(e) = within_init_budget(init)
        {
            check::fold_verdict(&mut verdict, e);
        }
        verdict
    };
    let (result, logs) = in_sandbox(docker, config, "the test run", session).await?;
    if let Err(e) = result {
        eprint!("{}", without_trace(&logs));
        output::note(format!(
            "{image} failed its test run, so no descriptor is printed"
        ));
        return Err(e);
    }
    output::note(format!("{image}: test run passed"));
    Ok(if trace {
        jot_image::compile::traced_statements(&logs)
    } else {
        Vec::new()
    })
}

/// `--self-test` without a test event: one init of the built image that loads
/// the responder and fails (`Runtime.SelfTestFailed`) if that rebuilt a cache.
/// Another init error (a responder that does not load) is the function's own,
/// reported when it is invoked; here it is a note.
pub async fn load_self_test(docker: &Docker, built: &Descriptor) -> Result<()> {
    let image = built.require_local_image()?.image.clone();
    let mut config = InstanceConfig::new(&image, &built.name);
    config
        .environment
        .push(("JOT_SELF_TEST_LOAD".to_string(), "1".to_string()));
    let budget = init_budget_applies(docker, &image).await?;
    let session = async |function: &mut LocalFunction| {
        let instance = function.instance().await?;
        // Past Lambda's budget, init is waited for (up to INIT_WAIT) to say
        // how long it took.
        let mut ready = instance.wait_ready().await;
        while !ready && instance.is_healthy() && instance.timings.created.elapsed() < INIT_WAIT {
            ready = instance.wait_ready().await;
        }
        if ready {
            return Ok(Loaded::Ready(instance.init_duration()));
        }
        if instance.is_healthy() {
            return Ok(Loaded::StillStarting);
        }
        // Never dispatched: a failed init answers at once with its error.
        Ok::<_, Error>(Loaded::Failed(instance.invoke(bytes::Bytes::new()).await?))
    };
    let (checked, logs) = in_sandbox(docker, config, "the self-test", session).await?;
    let failed = match checked? {
        Loaded::Ready(init) => {
            return match (budget, init) {
                (true, Some(init)) => within_init_budget(init).inspect_err(|_| {
                    eprint!("{}", without_trace(&logs));
                }),
                _ => Ok(()),
            };
        }
        Loaded::StillStarting if budget => {
            eprint!("{}", without_trace(&logs));
            return Err(Error::SlowInit(format!(
                "the function's init did not finish within {} s, far over Lambda's {} s init budget; {INIT_ADVICE}",
                INIT_WAIT.as_secs(),
                INIT_BUDGET.as_secs()
            )));
        }
        Loaded::StillStarting => return Ok(()),
        Loaded::Failed(failed) => failed,
    };
    let Err(error) = check::verdict(&failed, None) else {
        return Ok(());
    };
    if matches!(&failed.outcome, jot_emulator::Outcome::FunctionError { error_type, .. } if error_type == "Runtime.SelfTestFailed")
    {
        eprint!("{}", without_trace(&logs));
        output::note(format!(
            "{image} failed its self-test, so no descriptor is printed"
        ));
        return Err(error);
    }
    output::note(format!(
        "{image}: its init fails ({error}); the self-test checked nothing"
    ));
    Ok(())
}

/// How the self-test's init ended.
enum Loaded {
    /// Ready for events, after this long (container creation to the first `GET /next`).
    Ready(Option<Duration>),
    /// Still in init after [`INIT_WAIT`].
    StillStarting,
    /// It failed: its error.
    Failed(jot_emulator::Invocation),
}

/// How long the self-test waits for an init past Lambda's budget, to report
/// the time it took.
const INIT_WAIT: Duration = Duration::from_secs(120);

const INIT_ADVICE: &str = "on Lambda an on-demand init that long is stopped and run again inside the first request, against its timeout; move slow work out of the top-level code, or compile it ahead (--compile)";

/// An init within Lambda's budget passes; a longer one fails the build
/// (exit 3) with the time it took.
fn within_init_budget(init: Duration) -> Result<()> {
    if init <= INIT_BUDGET {
        return Ok(());
    }
    Err(Error::SlowInit(format!(
        "the function's init took {:.1} s, over Lambda's {} s init budget; {INIT_ADVICE}",
        init.as_secs_f64(),
        INIT_BUDGET.as_secs()
    )))
}

/// Lambda's init budget applies to every image but those of the test-only
/// package-image path on Julia < 1.9 (`JOT_PACKAGE_IMAGES=1` in the base
/// image, docs/julia.md): Julia that old writes package images without
/// native code, so their first start compiles what a real package image holds.
async fn init_budget_applies(docker: &Docker, image: &str) -> Result<bool> {
    let Some(image) = jot_docker::inspect_image(docker, image).await? else {
        return Ok(true);
    };
    let env = image.config.get("Env").and_then(|e| e.as_array());
    let test_path = env.is_some_and(|vars| {
        vars.iter()
            .any(|v| v.as_str() == Some("JOT_PACKAGE_IMAGES=1"))
    });
    Ok(!test_path)
}

/// Runs `session` on one sandbox of `config` and removes the sandbox on every
/// path, a Ctrl-C or SIGTERM included (then the error names `stage`); returns
/// what the session returned and the sandbox's logs.
async fn in_sandbox<T>(
    docker: &Docker,
    config: InstanceConfig,
    stage: &str,
    session: impl AsyncFnOnce(&mut LocalFunction) -> T,
) -> Result<(T, String)> {
    let mut function = LocalFunction::new(docker, config);
    let result = tokio::select! {
        result = session(&mut function) => Ok(result),
        signal = cli::stop_requested() => Err(signal),
    };
    let logs = function.shutdown_with_logs().await;
    let result = result.map_err(|signal| {
        cli::interrupted(
            signal,
            format!("interrupted during {stage}; its sandbox was removed"),
        )
    })?;
    Ok((result, logs))
}

/// The logs without the compile trace (which only the compiler reads).
fn without_trace(logs: &str) -> String {
    logs.lines()
        .filter(|l| !l.starts_with("precompile("))
        .map(|l| format!("{l}\n"))
        .collect()
}
