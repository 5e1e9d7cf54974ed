//! Where a cold start's time goes: the emulator's own clock (container create
//! and start, the runtime's first `GET /next`, the answer) joined with the
//! timestamps the runtime reports of its init (`Jot-Init-Phases`, epoch ms, on
//! its first `GET /next`), and SnapStart's `GET /runtime/restore/next`.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::header::HeaderMap;

const PHASES_HEADER: &str = "jot-init-phases";

/// The runtime's init timestamps (epoch times from the container's clock,
/// which is the host's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimePhases {
    /// Julia is up and starts loading the runtime.
    pub runtime_begin: SystemTime,
    /// The runtime is loaded (its `main` runs).
    pub runtime: SystemTime,
    /// The responder is loaded.
    pub responder: SystemTime,
    /// Warm-up (and the build's self-test) done.
    pub warmup: SystemTime,
}

impl RuntimePhases {
    /// Parses `runtime_begin=MS;runtime=MS;responder=MS;warmup=MS`.
    pub fn parse(value: &str) -> Option<RuntimePhases> {
        let mut stamps = [None; 4];
        for part in value.split(';') {
            let (key, ms) = part.trim().split_once('=')?;
            let at = UNIX_EPOCH + Duration::from_millis(ms.parse().ok()?);
            let slot = ["runtime_begin", "runtime", "responder", "warmup"]
                .iter()
                .position(|k| *k == key)?;
            stamps[slot] = Some(at);
        }
        Some(RuntimePhases {
            runtime_begin: stamps[0]?,
            runtime: stamps[1]?,
            responder: stamps[2]?,
            warmup: stamps[3]?,
        })
    }
}

/// Keeps the first phases header the runtime sends.
pub(crate) fn record(cell: &OnceLock<RuntimePhases>, headers: &HeaderMap) {
    if let Some(phases) = headers
        .get(PHASES_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RuntimePhases::parse)
    {
        let _ = cell.set(phases);
    }
}

/// One sandbox's first invocation, split, in order. Phases the runtime did
/// not report (an image from an older jot) are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColdStart {
    pub phases: Vec<(&'static str, Duration)>,
    /// Init as Lambda's REPORT line counts it: container start to the first `GET /next`.
    pub init: Duration,
    /// SnapStart only: from `GET /runtime/restore/next` to the first `GET /next`
    /// (the after-restore hooks), Lambda's Restore Duration.
    pub restore: Option<Duration>,
    /// Bytes the sandbox read from storage (its cgroup's I/O statistics) up
    /// to its first `GET /next`: what a lazily loaded image fetches at a cold
    /// start. Reads served from the host's page cache are not counted (an
    /// image started before is mostly there): a cold-cache figure.
    pub bytes_read: Option<u64>,
}

/// The instants the emulator saw for one sandbox.
pub(crate) struct Seen {
    pub created: Instant,
    pub created_at: SystemTime,
    pub started: Instant,
    pub first_next: Instant,
    pub restore_next: Option<Instant>,
    /// Handing the first event over to its answer.
    pub first_response: Duration,
}

impl ColdStart {
    pub(crate) fn split(seen: &Seen, runtime: Option<&RuntimePhases>) -> ColdStart {
        let container = seen.started.saturating_duration_since(seen.created);
        // Runtime stamps as offsets from container creation.
        let since_created = |at: SystemTime| at.duration_since(seen.created_at).unwrap_or_default();
        let first_next = seen.first_next.saturating_duration_since(seen.created);
        let mut phases = vec![("container_create_start", container)];
        if let Some(r) = runtime {
            let (begin, loaded, responder, warm) = (
                since_created(r.runtime_begin),
                since_created(r.runtime),
                since_created(r.responder),
                since_created(r.warmup),
            );
            phases.extend([
                ("julia_start", begin.saturating_sub(container)),
                ("runtime_load", loaded.saturating_sub(begin)),
                ("responder_load", responder.saturating_sub(loaded)),
                ("warm_up", warm.saturating_sub(responder)),
            ]);
            let label = if seen.restore_next.is_some() {
                "snapshot_restore"
            } else {
                "to_first_next"
            };
            phases.push((label, first_next.saturating_sub(warm)));
        } else {
            phases.push(("runtime_init", first_next.saturating_sub(container)));
        }
        phases.push(("first_response", seen.first_response));
        ColdStart {
            phases,
            init: first_next.saturating_sub(container),
            restore: seen
                .restore_next
                .map(|at| seen.first_next.saturating_duration_since(at)),
            bytes_read: None,
        }
    }
}

/// Bytes a container has read from block devices so far, from its cgroup:
/// `rbytes=` of `io.stat` (v2) or the `Read` lines of
/// `blkio.throttle.io_service_bytes` (v1). `None` where neither is readable.
pub(crate) fn bytes_read(container_id: &str) -> Option<u64> {
    let v2 = [
        format!("/sys/fs/cgroup/system.slice/docker-{container_id}.scope/io.stat"),
        format!("/sys/fs/cgroup/docker/{container_id}/io.stat"),
    ];
    if let Some(text) = v2.iter().find_map(|p| std::fs::read_to_string(p).ok()) {
        return Some(sum_io_stat(&text));
    }
    let v1 = format!("/sys/fs/cgroup/blkio/docker/{container_id}/blkio.throttle.io_service_bytes");
    std::fs::read_to_string(v1).ok().map(|t| sum_blkio(&t))
}

/// The sum of `rbytes=N` over the devices of a v2 `io.stat`.
fn sum_io_stat(text: &str) -> u64 {
    text.split_whitespace()
        .filter_map(|f| f.strip_prefix("rbytes="))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

/// The sum of the `MAJ:MIN Read N` lines of a v1 `blkio.throttle.io_service_bytes`.
fn sum_blkio(text: &str) -> u64 {
    text.lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [_, "Read", n] => n.parse::<u64>().ok(),
                _ => None,
            },
        )
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_bytes_read_of_every_device_in_both_cgroup_formats() {
        let v2 =
            "8:0 rbytes=4096 wbytes=10 rios=1 wios=1 dbytes=0 dios=0\n259:0 rbytes=1000 wbytes=0\n";
        assert_eq!(sum_io_stat(v2), 5096);
        let v1 = "8:0 Read 8192\n8:0 Write 77\n8:0 Sync 1\n8:16 Read 100\nTotal 8369\n";
        assert_eq!(sum_blkio(v1), 8292);
        assert_eq!(sum_blkio("Total 0\n"), 0);
    }

    #[test]
    fn parses_the_runtime_header_and_refuses_anything_else() {
        let phases =
            RuntimePhases::parse("runtime_begin=1000;runtime=1010;responder=1300;warmup=1500")
                .unwrap();
        assert_eq!(phases.responder, UNIX_EPOCH + Duration::from_millis(1300));
        assert_eq!(RuntimePhases::parse("runtime_begin=1;runtime=2"), None);
        assert_eq!(
            RuntimePhases::parse("runtime_begin=x;runtime=2;responder=3;warmup=4"),
            None
        );
    }

    #[test]
    fn splits_a_cold_start_in_order() {
        let created = Instant::now();
        let created_at = UNIX_EPOCH + Duration::from_secs(1_000);
        let ms = Duration::from_millis;
        let seen = Seen {
            created,
            created_at,
            started: created + ms(50),
            first_next: created + ms(700),
            restore_next: Some(created + ms(650)),
            first_response: ms(2),
        };
        let runtime = RuntimePhases {
            runtime_begin: created_at + ms(150),
            runtime: created_at + ms(160),
            responder: created_at + ms(400),
            warmup: created_at + ms(600),
        };
        let split = ColdStart::split(&seen, Some(&runtime));
        assert_eq!(
            split.phases,
            vec![
                ("container_create_start", ms(50)),
                ("julia_start", ms(100)),
                ("runtime_load", ms(10)),
                ("responder_load", ms(240)),
                ("warm_up", ms(200)),
                ("snapshot_restore", ms(100)),
                ("first_response", ms(2)),
            ]
        );
        assert_eq!(split.init, ms(650));
        assert_eq!(split.restore, Some(ms(50)));
        let bare = ColdStart::split(&seen, None);
        assert_eq!(bare.phases[1], ("runtime_init", ms(650)));
    }
}
