//! A sandbox's output, read back from the engine's log. The engine copies a
//! running container's output on its own time, so a read just after an answer
//! can miss the function's last lines: a tail waits for the runtime's marks.

use std::time::{Duration, Instant, SystemTime};

use crate::instance::Instance;

/// What the runtime writes before each mark (JotRuntime's `LOG_MARK_PREFIX`).
const MARK_PREFIX: &str = "[jot-log-mark] ";

/// How long a tail waits for the marks before it makes do with what is in.
const MARK_WAIT: Duration = Duration::from_secs(1);

impl Instance {
    /// Everything the function wrote to stdout and stderr so far (all of it
    /// once [`Instance::halt`] returned).
    pub async fn logs(&self) -> String {
        without_marks(&self.read_since(SystemTime::UNIX_EPOCH).await)
    }

    /// The function's output since `since` (each line as written). With a
    /// `marker`, read again until the runtime's mark is in on both streams.
    pub(crate) async fn logs_since(&self, since: SystemTime, marker: Option<&str>) -> String {
        let started = Instant::now();
        loop {
            let text = self.read_since(since).await;
            let marked = marker.is_none_or(|m| {
                let mark = format!("{MARK_PREFIX}{m}");
                text.lines().filter(|l| *l == mark).count() >= 2
            });
            if marked || started.elapsed() >= MARK_WAIT {
                return without_marks(&text);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn read_since(&self, since: SystemTime) -> String {
        let seconds = since
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i32)
            .unwrap_or(0);
        let mut text = String::new();
        for line in jot_docker::sandbox_log(&self.docker, &self.container_id, seconds).await {
            // Each chunk starts with the engine's RFC 3339 timestamp and a space.
            let Some((stamp, rest)) = line.split_once(' ') else {
                continue;
            };
            if humantime::parse_rfc3339_weak(stamp).is_ok_and(|at| at >= since) {
                text.push_str(rest);
            }
        }
        text
    }
}

/// The log as the function wrote it: the runtime's marks taken out.
fn without_marks(text: &str) -> String {
    if !text.contains(MARK_PREFIX) {
        return text.to_string();
    }
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with(MARK_PREFIX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_taken_out_and_the_rest_kept_as_written() {
        let log = "one\n[jot-log-mark] abc\ntwo\n[jot-log-mark] abc\nlast, no newline";
        assert_eq!(without_marks(log), "one\ntwo\nlast, no newline");
        assert_eq!(without_marks("plain\n"), "plain\n");
    }
}
