//! `jot-logs`'s work apart from its command line: reading `--since`, which
//! functions the names or descriptors mean, and each event as a line of
//! text or an NDJSON record.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jot_aws::logs::{LogEvent, Report};
use jot_core::descriptor::Descriptor;
use jot_core::{Error, Result, output};
use serde_json::{Value, json};

/// `--since`: a span back from `now` (`30s`, `10m`, `1h`, `2d`) or a time
/// (`2026-12-06T00:00:00Z`, `2026-12-06 00:00:00`), as milliseconds since the epoch.
pub fn parse_since(text: &str, now: SystemTime) -> Result<i64> {
    let bad = || {
        Error::InvalidInput(format!(
            "--since {text:?} is neither a span such as 10m, 1h or 2d nor a time such as 2026-12-06T00:00:00Z"
        ))
    };
    let text = text.trim();
    let at = if text.starts_with(|c: char| c.is_ascii_digit()) && !text.contains(['-', ':']) {
        let span = humantime::parse_duration(text).map_err(|_| bad())?;
        now.checked_sub(span).ok_or_else(bad)?
    } else {
        let weak = text.trim_end_matches('Z');
        humantime::parse_rfc3339_weak(weak).map_err(|_| bad())?
    };
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_millis();
    i64::try_from(ms).map_err(|_| bad())
}

/// The functions the descriptors on stdin describe (their deployed name,
/// else the jot's), each once, in order.
pub fn functions_of(descriptors: &[Descriptor]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for d in descriptors {
        let name = d.function.as_ref().map_or(&d.name, |f| &f.name);
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// An event's time as RFC 3339 with milliseconds.
pub fn time_of(event: &LogEvent) -> String {
    let ms = u64::try_from(event.timestamp_ms).unwrap_or_default();
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "?".into(), |v| format!("{v:.2} ms"))
}

/// A REPORT line in a few words; a cold start stands out.
pub fn summary(report: &Report) -> String {
    let mut text = format!("duration {}", ms(report.duration_ms));
    if let Some(billed) = report.billed_ms {
        text.push_str(&format!(", billed {billed:.0} ms"));
    }
    if let (Some(used), Some(size)) = (report.max_memory_mb, report.memory_mb) {
        text.push_str(&format!(", memory {used}/{size} MB"));
    }
    if let Some(init) = report.init_ms {
        let cold = format!("COLD START, init {init:.2} ms");
        text.push_str(&format!(", {}", output::paint(&cold, "33")));
    }
    if let Some(restore) = report.restore_ms {
        let cold = format!("COLD START (SnapStart restore {restore:.2} ms)");
        text.push_str(&format!(", {}", output::paint(&cold, "33")));
    }
    format!("{text} (request {})", report.request_id)
}

/// One event as a line of text: time, function, version, then what it
/// printed, or its REPORT summarised.
pub fn text_line(event: &LogEvent) -> String {
    let version = event.version.as_deref().unwrap_or("?");
    let body = match &event.report {
        Some(report) => format!("REPORT {}", summary(report)),
        None => event.message.trim_end_matches(['\n', '\r']).to_string(),
    };
    format!(
        "{} {} [{version}] {body}",
        output::paint(&time_of(event), "2"),
        event.function
    )
}

/// One event as an NDJSON record.
pub fn json_record(event: &LogEvent) -> Value {
    let mut record = json!({
        "function": event.function,
        "version": event.version,
        "stream": event.stream,
        "time": time_of(event),
        "timestamp": event.timestamp_ms,
        "message": event.message.trim_end_matches(['\n', '\r']),
    });
    if let Some(r) = &event.report {
        record["report"] = json!({
            "request_id": r.request_id,
            "duration_ms": r.duration_ms,
            "billed_ms": r.billed_ms,
            "memory_mb": r.memory_mb,
            "max_memory_used_mb": r.max_memory_mb,
            "init_ms": r.init_ms,
            "restore_ms": r.restore_ms,
            "cold_start": r.cold_start(),
        });
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_spans_and_times() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        assert_eq!(parse_since("10m", now).unwrap(), (10_000 - 600) * 1000);
        assert_eq!(parse_since("1h", now).unwrap(), (10_000 - 3600) * 1000);
        assert_eq!(
            parse_since("2026-12-06T00:00:00Z", now).unwrap(),
            1_796_515_200_000
        );
        assert_eq!(
            parse_since("2026-12-06T00:00:00.5", now).unwrap(),
            1_796_515_200_500
        );
        for bad in [
            "",
            "ten minutes",
            "10x",
            "-5m",
            "2026-13-01T00:00:00Z",
            "99999999h",
        ] {
            let e = parse_since(bad, now).unwrap_err();
            assert_eq!(e.exit_code(), 5, "{bad}");
        }
    }

    #[test]
    fn a_report_is_summarised_and_a_cold_start_marked() {
        let report = Report::parse("REPORT RequestId: r1\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 60 MB\tInit Duration: 312.25 ms").unwrap();
        assert_eq!(
            summary(&report),
            "duration 2.50 ms, billed 3 ms, memory 60/1024 MB, COLD START, init 312.25 ms (request r1)"
        );
        let warm = Report::parse("REPORT RequestId: r2\tDuration: 1 ms").unwrap();
        assert_eq!(summary(&warm), "duration 1.00 ms (request r2)");
    }
}
