//! Lambda's REPORT line, the one the platform writes after each invocation:
//! duration, billed duration, memory, and on the first invocation of an
//! execution environment its `Init Duration` (a cold start) or, with
//! SnapStart, its `Restore Duration`. Both of Lambda's log formats are read:
//! the text line and the JSON `platform.report` record.

use serde_json::Value;

/// The figures of one REPORT line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: Option<f64>,
    pub billed_ms: Option<f64>,
    pub memory_mb: Option<u64>,
    pub max_memory_mb: Option<u64>,
    /// Set only on a cold start: the time the execution environment took to start.
    pub init_ms: Option<f64>,
    /// Set only on a SnapStart restore.
    pub restore_ms: Option<f64>,
}

impl Report {
    /// The report in `message`, if it is a REPORT line (text or JSON format).
    pub fn parse(message: &str) -> Option<Report> {
        let message = message.trim();
        if let Some(rest) = message.strip_prefix("REPORT RequestId:") {
            return Some(Report::from_text(rest));
        }
        if message.starts_with('{') {
            return Report::from_json(message);
        }
        None
    }

    /// True when the invocation started a new execution environment.
    pub fn cold_start(&self) -> bool {
        self.init_ms.is_some() || self.restore_ms.is_some()
    }

    /// `REPORT RequestId: ID\tDuration: 2.50 ms\tBilled Duration: 3 ms\t…`
    fn from_text(rest: &str) -> Report {
        let mut parts = rest.split('\t');
        let mut report = Report {
            request_id: parts.next().unwrap_or_default().trim().to_string(),
            ..Report::default()
        };
        for part in parts {
            let Some((key, value)) = part.trim().split_once(':') else {
                continue;
            };
            let value = value.trim();
            let ms = || value.strip_suffix("ms")?.trim().parse::<f64>().ok();
            let mb = || value.strip_suffix("MB")?.trim().parse::<u64>().ok();
            match key.trim() {
                "Duration" => report.duration_ms = ms(),
                "Billed Duration" => report.billed_ms = ms(),
                "Memory Size" => report.memory_mb = mb(),
                "Max Memory Used" => report.max_memory_mb = mb(),
                "Init Duration" => report.init_ms = ms(),
                "Restore Duration" => report.restore_ms = ms(),
                _ => {}
            }
        }
        report
    }

    /// `{"type":"platform.report","record":{"requestId":…,"metrics":{…}}}`
    fn from_json(message: &str) -> Option<Report> {
        let value: Value = serde_json::from_str(message).ok()?;
        if value["type"] != "platform.report" {
            return None;
        }
        let record = &value["record"];
        let metrics = &record["metrics"];
        Some(Report {
            request_id: record["requestId"].as_str().unwrap_or_default().to_string(),
            duration_ms: metrics["durationMs"].as_f64(),
            billed_ms: metrics["billedDurationMs"].as_f64(),
            memory_mb: metrics["memorySizeMB"].as_u64(),
            max_memory_mb: metrics["maxMemoryUsedMB"].as_u64(),
            init_ms: metrics["initDurationMs"].as_f64(),
            restore_ms: metrics["restoreDurationMs"].as_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A REPORT line as Lambda writes it (trailing tab included).
    const COLD: &str = "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 60 MB\tInit Duration: 312.25 ms\t\n";

    #[test]
    fn a_cold_report_line_gives_every_figure() {
        let report = Report::parse(COLD).unwrap();
        assert_eq!(report.request_id, "3604209a-e9a3-11e6-939a-754dd98c7be3");
        assert_eq!(report.duration_ms, Some(2.5));
        assert_eq!(report.billed_ms, Some(3.0));
        assert_eq!(report.memory_mb, Some(1024));
        assert_eq!(report.max_memory_mb, Some(60));
        assert_eq!(report.init_ms, Some(312.25));
        assert!(report.cold_start());
    }

    #[test]
    fn warm_snapstart_and_json_reports() {
        let warm = Report::parse("REPORT RequestId: b\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 0 MB").unwrap();
        assert!(!warm.cold_start());
        let snap = Report::parse("REPORT RequestId: c\tDuration: 1.00 ms\tRestore Duration: 474.16 ms\tBilled Restore Duration: 190 ms").unwrap();
        assert_eq!(snap.restore_ms, Some(474.16));
        assert!(snap.cold_start());
        let json = r#"{"time":"2024-01-01T00:00:00.000Z","type":"platform.report","record":{"requestId":"d","metrics":{"durationMs":2.5,"billedDurationMs":3,"memorySizeMB":512,"maxMemoryUsedMB":70,"initDurationMs":800.5},"status":"success"}}"#;
        let report = Report::parse(json).unwrap();
        assert_eq!(
            (report.request_id.as_str(), report.init_ms),
            ("d", Some(800.5))
        );
        assert!(Report::parse("START RequestId: e Version: $LATEST").is_none());
        assert!(Report::parse(r#"{"type":"platform.start"}"#).is_none());
        assert!(Report::parse("a REPORT RequestId: in the middle").is_none());
    }
}
