//! What an event stream needs of the bus, and nothing more: commit a batch
//! to the message box (after backpressure), check a batch against the
//! deployed definitions, and wait until a frame is imported. A stream holds
//! a [`Producer`]; holding it keeps the store directory locked, so no other
//! process can open the store while a stream can still commit.

use std::sync::Arc;

use super::Bus;
use crate::error::StoreError;
use crate::model::{Batch, Limits};
use crate::wal::{Lsn, WalError};

/// A stream's handle on the bus.
#[derive(Clone)]
pub(crate) struct Producer {
    bus: Arc<Bus>,
}

impl Producer {
    pub(crate) fn new(bus: Arc<Bus>) -> Producer {
        Producer { bus }
    }

    /// The structural limits events are checked against.
    pub(crate) fn limits(&self) -> &Limits {
        &self.bus.options.limits
    }

    /// Commits one encoded batch as one frame; returns once it is durable.
    /// Waits first while the import is too far behind (backpressure).
    pub(crate) fn commit(&self, batch: &[u8]) -> Result<Lsn, WalError> {
        self.bus.throttle();
        self.bus.wal.append(batch)
    }

    /// [`Producer::commit`] of a batch its producer numbered `seq`: the bus
    /// imports it at most once (see `idempotency`).
    pub(crate) fn commit_sequenced(&self, seq: u64, batch: &[u8]) -> Result<Lsn, WalError> {
        self.bus.throttle();
        self.bus.wal.append(&super::envelope::sequenced(seq, batch))
    }

    /// Checks a batch against the deployed definitions without applying
    /// it: the reasons it would be quarantined for, if any.
    pub(crate) fn check(&self, batch: Batch) -> Result<(), Vec<String>> {
        self.bus.read_state().validate(batch).map(|_| ())
    }

    /// Waits until the frame at `lsn` is imported; the bus's refusal if it
    /// was quarantined instead.
    pub(crate) fn wait_imported(&self, lsn: Lsn) -> Result<(), StoreError> {
        self.bus.wait(lsn)?;
        match self.bus.rejection(lsn) {
            Some(reasons) => Err(StoreError::Rejected { reasons }),
            None => Ok(()),
        }
    }
}
