//! Lambda's log lines around each invocation (START, END, REPORT) and the
//! `X-Amz-Log-Result` tail: the last 4 KB of the invocation's log, base64.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use jot_core::invocation::Outcome;

use crate::pool::{Ran, reporting};
use crate::registry::Function;

/// The largest log tail Lambda returns.
pub const TAIL_BYTES: usize = 4096;

pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}\n")
}

/// `REPORT RequestId: … Duration: … Billed Duration: … Memory Size: … Max Memory Used: … [Init Duration: …]`
pub fn report_line(ran: &Ran, memory_mb: u32) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let duration = ms(ran.invocation.duration);
    let billed = duration.ceil().max(1.0) as u64;
    let used = ran
        .max_memory_used
        .map_or(0, |bytes| bytes.div_ceil(1024 * 1024));
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {duration:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {memory_mb} MB\tMax Memory Used: {used} MB",
        ran.invocation.request_id
    );
    if let Some(init) = ran.init_duration {
        line.push_str(&format!("\tInit Duration: {:.2} ms", ms(init)));
    }
    line.push('\t');
    line
}

/// The log of one invocation as Lambda writes it.
pub fn invocation_log(ran: &Ran, version: &str, memory_mb: u32) -> String {
    let id = &ran.invocation.request_id;
    format!(
        "{}{}END RequestId: {id}\n{}\n",
        start_line(id, version),
        ran.log.as_deref().unwrap_or(""),
        report_line(ran, memory_mb)
    )
}

/// The last 4 KB of `log` (cut at a character boundary), base64-encoded.
pub fn tail(log: &str) -> String {
    let mut start = log.len().saturating_sub(TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(&log.as_bytes()[start..])
}

/// Counts the invocation and writes its REPORT line (shown with -v).
pub(crate) fn log_report(function: &Function, executed: &str, ran: &Ran) {
    function.stats.invocations.fetch_add(1, Relaxed);
    if matches!(ran.invocation.outcome, Outcome::FunctionError { .. }) {
        function.stats.errors.fetch_add(1, Relaxed);
    }
    function
        .stats
        .record(ran.invocation.duration.as_secs_f64() * 1000.0);
    // Formatted only when shown: it is on every warm call's path.
    if reporting() {
        jot_core::output::detail(format!(
            "{} [{executed}] {}",
            function.name,
            report_line(ran, function.settings.memory_mb)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_4_kb() {
        let log = format!("{}REPORT RequestId: x\n", "a".repeat(10_000));
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(tail(&log))
            .unwrap();
        assert_eq!(decoded.len(), TAIL_BYTES);
        assert!(decoded.ends_with(b"REPORT RequestId: x\n"));
    }
}
