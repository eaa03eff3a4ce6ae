//! Where the bus is (applied and checkpointed LSNs), whether it is
//! degraded or halted, and the waits built on that: a direct stream
//! waiting for its frame, backpressure for producers, retries of failing
//! import steps.

use std::time::{Duration, Instant};

use super::{lock, Bus, APPLY_TIMEOUT};
use crate::error::StoreError;
use crate::wal::Lsn;

/// Where the bus is.
#[derive(Debug, Default, Clone)]
pub(crate) struct Progress {
    /// Every frame up to here is applied (visible to queries).
    pub applied: Lsn,
    /// Every frame up to here is in a durable checkpoint.
    pub checkpointed: Lsn,
    /// Why import is retrying or halted, if it is.
    pub degraded: Option<String>,
    /// The bus thread has stopped (closed, or halted after retries).
    pub stopped: bool,
    /// The import stopped after its retries (`degraded` says why).
    pub halted: bool,
    /// Failed import steps that were retried, since open.
    pub retries: u64,
}

impl Progress {
    /// A bus that opened with everything up to `applied` imported and
    /// checkpointed.
    pub fn at(applied: Lsn) -> Progress {
        Progress {
            applied,
            checkpointed: applied,
            ..Progress::default()
        }
    }
}

impl Bus {
    /// A copy of where the bus is now.
    pub(crate) fn progress(&self) -> Progress {
        lock(&self.progress).clone()
    }

    /// Waits until `lsn` is applied, the timeout passes, or the bus stops.
    /// Returns whether it was applied.
    pub(crate) fn wait_applied(&self, lsn: Lsn, timeout: Duration) -> bool {
        self.wait_for(timeout, |p| p.applied >= lsn)
    }

    /// Waits until `lsn` is in a durable checkpoint (the whole checkpoint,
    /// merges included, is over), the timeout passes, or the bus stops.
    /// Returns whether it was checkpointed.
    pub(crate) fn wait_checkpointed(&self, lsn: Lsn, timeout: Duration) -> bool {
        self.wait_for(timeout, |p| p.checkpointed >= lsn)
    }

    fn wait_for(&self, timeout: Duration, done: impl Fn(&Progress) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut p = lock(&self.progress);
        while !done(&p) && !p.stopped {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            p = self
                .progress_cv
                .wait_timeout(p, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        done(&p)
    }

    /// Waits for the bus to apply `lsn`; why not, if it does not.
    pub(crate) fn wait(&self, lsn: Lsn) -> Result<(), StoreError> {
        if self.wait_applied(lsn, APPLY_TIMEOUT) {
            return Ok(());
        }
        let p = lock(&self.progress);
        match (&p.degraded, p.halted, p.stopped) {
            (Some(reason), true, _) => Err(StoreError::Halted {
                reason: reason.clone(),
            }),
            (Some(reason), false, _) => Err(StoreError::Degraded {
                reason: reason.clone(),
            }),
            (None, _, true) => Err(StoreError::Closed),
            (None, _, false) => Err(StoreError::Timeout {
                what: format!("import of LSN {lsn}"),
            }),
        }
    }

    /// Backpressure for producers: waits while too many committed frames
    /// are not imported yet (or until the bus stops).
    pub(crate) fn throttle(&self) {
        let limit = self.options.max_import_lag;
        if limit == 0 {
            return;
        }
        let mut p = lock(&self.progress);
        while self.wal.committed_lsn().saturating_sub(p.applied) > limit && !p.stopped {
            p = self
                .progress_cv
                .wait_timeout(p, Duration::from_millis(100))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    pub(super) fn set_degraded(&self, reason: Option<String>) {
        let mut p = lock(&self.progress);
        if p.degraded != reason {
            if let Some(r) = &reason {
                tracing::warn!(reason = %r, "import degraded");
            }
            p.degraded = reason;
        }
    }

    /// Makes `lsn` the applied point waiters see; the one place it is
    /// published.
    pub(super) fn publish_applied(&self, lsn: Lsn) {
        lock(&self.progress).applied = lsn;
        self.progress_cv.notify_all();
    }

    pub(super) fn publish_checkpointed(&self, lsn: Lsn) {
        lock(&self.progress).checkpointed = lsn;
        self.progress_cv.notify_all();
    }

    /// Marks the bus thread stopped and wakes every waiter.
    pub(super) fn publish_stopped(&self) {
        lock(&self.progress).stopped = true;
        self.progress_cv.notify_all();
    }

    /// Runs `step` until it succeeds, with backoff; gives up after the
    /// retry limit, leaving the store degraded and the bus halted.
    pub(super) fn retry<T, E: std::fmt::Display>(
        &self,
        what: &str,
        mut step: impl FnMut() -> Result<T, E>,
    ) -> Option<T> {
        let mut wait = self.options.retry_backoff;
        for attempt in 0..=self.options.retry_limit {
            match step() {
                Ok(v) => {
                    if attempt > 0 {
                        self.set_degraded(None);
                    }
                    return Some(v);
                }
                Err(e) => {
                    lock(&self.progress).retries += 1;
                    self.set_degraded(Some(format!(
                        "{what} failed (attempt {}): {e}",
                        attempt + 1
                    )));
                    if self.stopping() {
                        return None;
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
            }
        }
        self.halt(format!(
            "import halted: {what} kept failing after {} retries; the data is safe in the message box, reopen the store",
            self.options.retry_limit
        ));
        None
    }

    /// Records that the import stops for good (until the store is
    /// reopened), and why.
    pub(super) fn halt(&self, reason: String) {
        self.set_degraded(Some(reason));
        lock(&self.progress).halted = true;
    }
}
