//! Admission as Lambda does it: a function's reserved concurrency bounds the
//! invocations running at once across all its versions; a synchronous request
//! beyond it is throttled at once (429) unless the developer allowed a bounded
//! wait (`--queue N`). Asynchronous (Event) invocations wait their turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Too many invocations at once: Lambda's TooManyRequestsException.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled;

pub struct Admission {
    slots: Arc<Semaphore>,
    limit: usize,
    /// Synchronous requests waiting for a slot, and how many may.
    waiting: AtomicUsize,
    queue: usize,
    pub throttled: AtomicU64,
}

/// Decrements a counter when dropped (a waiter that gave up or got in).
struct CountGuard<'a>(&'a AtomicUsize);

impl Drop for CountGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Admission {
    pub fn new(limit: usize, queue: usize) -> Self {
        Admission {
            slots: Arc::new(Semaphore::new(limit.max(1))),
            limit: limit.max(1),
            waiting: AtomicUsize::new(0),
            queue,
            throttled: AtomicU64::new(0),
        }
    }

    /// A slot for a synchronous invocation: at once, after a bounded wait, or throttled.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, Throttled> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            self.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(Throttled);
        }
        let _waiting = CountGuard(&self.waiting);
        self.slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Throttled)
    }

    /// A slot for an asynchronous invocation: waits as long as it takes.
    pub async fn admit_waiting(&self) -> Result<OwnedSemaphorePermit, Throttled> {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Throttled)
    }

    /// (running, waiting) invocations now.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.limit - self.slots.available_permits(),
            self.waiting.load(Ordering::Relaxed),
        )
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Counts work in flight (requests being answered, events being run) so a
/// graceful stop can wait for it to finish.
#[derive(Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One unit of work in flight; done when dropped.
pub struct Working(Arc<InFlight>);

impl Drop for Working {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    pub fn enter(self: &Arc<Self>) -> Working {
        self.count.fetch_add(1, Ordering::AcqRel);
        Working(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Waits until nothing is in flight or `limit` passed; true if all finished.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_the_limit_is_throttled_at_once_unless_a_queue_allows_waiting() {
        let admission = Admission::new(2, 0);
        let a = admission.admit().await.unwrap();
        let _b = admission.admit().await.unwrap();
        assert_eq!(admission.admit().await.unwrap_err(), Throttled);
        drop(a);
        assert!(admission.admit().await.is_ok());

        let queued = Arc::new(Admission::new(1, 1));
        let held = queued.admit().await.unwrap();
        let waiter = tokio::spawn({
            let queued = queued.clone();
            async move { queued.admit().await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(queued.counts(), (1, 1));
        assert_eq!(
            queued.admit().await.unwrap_err(),
            Throttled,
            "the queue is full"
        );
        drop(held);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn in_flight_work_is_waited_for() {
        let in_flight = Arc::new(InFlight::default());
        let working = in_flight.enter();
        assert!(!in_flight.wait_idle(Duration::from_millis(20)).await);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(working);
        });
        assert!(in_flight.wait_idle(Duration::from_secs(5)).await);
    }
}
