//! An invoke session: several payloads, each repeated, against one function,
//! with the responses on stdout, the verdict as an exit code and, on request,
//! timings. The invoker is a closure so local and remote functions share it.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{Value, json};

use crate::check;
use crate::invocation::{Invocation, Outcome};

/// What to send and what to check, from the command line.
#[derive(Debug, Clone)]
pub struct InvokePlan {
    pub payloads: Vec<Bytes>,
    pub repeat: u32,
    pub expect: Option<Value>,
}

/// Timings of a session, for `--json` and benchmarks.
#[derive(Debug, Default, Clone)]
pub struct SessionReport {
    pub target: String,
    /// Sandbox creation to the runtime's first `GET /next` (local only).
    pub init: Option<Duration>,
    /// Sandbox creation (or the first call, remotely) to the first answer.
    pub first_response: Option<Duration>,
    /// Durations of the warm invocations.
    pub warm: Vec<Duration>,
    pub errors: usize,
    pub mismatches: usize,
    /// The first invocation's cold start, phase by phase (local only).
    pub cold_start: Vec<(&'static str, Duration)>,
    /// Bytes the first sandbox read from storage during its init (local only).
    pub init_bytes_read: Option<u64>,
}

impl SessionReport {
    /// The `--json` report line.
    pub fn to_json(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let mut warm: Vec<Duration> = self.warm.clone();
        warm.sort();
        let quantile = |q: f64| -> Option<f64> {
            (!warm.is_empty()).then(|| ms(warm[((warm.len() - 1) as f64 * q).round() as usize]))
        };
        json!({
            "target": self.target,
            "init_ms": self.init.map(ms),
            "first_response_ms": self.first_response.map(ms),
            "warm": {
                "count": warm.len(),
                "p50_ms": quantile(0.50),
                "p99_ms": quantile(0.99),
                "mean_ms": (!warm.is_empty()).then(|| ms(warm.iter().sum::<Duration>() / warm.len() as u32)),
            },
            "errors": self.errors,
            "mismatches": self.mismatches,
            "init_bytes_read": self.init_bytes_read,
            "cold_start": (!self.cold_start.is_empty()).then(|| {
                self.cold_start
                    .iter()
                    .map(|(phase, d)| (format!("{phase}_ms"), Value::from(ms(*d))))
                    .collect::<serde_json::Map<_, _>>()
            }),
        })
    }
}

/// Something that runs one invocation: a local sandbox or a Lambda function.
pub trait Invoker {
    fn invoke_once(&mut self, payload: Bytes) -> impl Future<Output = crate::Result<Invocation>>;
}

/// Runs the plan: each payload `repeat` times, writing each outcome to
/// `out` (the binary's stdout). Returns the report and the error that decides the exit code
/// (a function error outranks an `--expect` mismatch).
pub async fn run(
    target: &str,
    plan: &InvokePlan,
    started: Instant,
    invoker: &mut impl Invoker,
    out: &mut impl std::io::Write,
) -> (SessionReport, crate::Result<()>) {
    let mut report = SessionReport {
        target: target.to_string(),
        ..Default::default()
    };
    let mut verdict: crate::Result<()> = Ok(());
    for payload in &plan.payloads {
        for _ in 0..plan.repeat.max(1) {
            let invocation = match invoker.invoke_once(payload.clone()).await {
                Ok(invocation) => invocation,
                Err(e) => return (report, Err(e)),
            };
            if report.first_response.is_none() {
                report.first_response = Some(started.elapsed());
            } else if !invocation.cold {
                report.warm.push(invocation.duration);
            }
            if let Err(e) = check::print_outcome(out, &invocation.outcome) {
                return (report, Err(e));
            }
            if let Err(e) = check::verdict(&invocation, plan.expect.as_ref()) {
                match &invocation.outcome {
                    Outcome::FunctionError { .. } => report.errors += 1,
                    Outcome::Response(_) => report.mismatches += 1,
                }
                check::fold_verdict(&mut verdict, e);
            }
        }
    }
    (report, verdict)
}
