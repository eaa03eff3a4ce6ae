//! The quarantine: an append-only, checksummed, fsynced log of what could
//! not be imported (damaged regions of the message box, frames that do not
//! decode, frames that fail validation), each with where it came from, the
//! reasons and the time, and of what happened to them later (imported by a
//! replay, a replay that failed again, or dropped by the operator). Nothing
//! in it is ever deleted.
//!
//! It is stored as a message box of its own (`<store>/quarantine/`), so it
//! has the same torn-tail recovery, corruption reporting and fsync
//! discipline; the entry id is the LSN of its record there (which is why
//! entry ids have gaps: see `docs/FORMAT.md`, "Quarantine log").

mod entry;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

pub use crate::model::Source;
pub use entry::{EntryState, QuarantineCounts, QuarantineEntry};

use crate::storage::{read_exact_at, OpenMode, Storage};
use crate::wal::{Frame, Lsn, ReadItem, Wal, WalError, WalOptions, FRAME_HEADER_LEN};

const RECORD_VERSION: u8 = 1;

/// What a quarantine record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Record {
    /// Something set aside.
    Entry {
        source: Source,
        reasons: Vec<String>,
        time: i64,
        events: u64,
        payload: Vec<u8>,
    },
    /// Entry `entry` was imported by the replay frame at `lsn`.
    Resolved { entry: u64, lsn: Lsn, time: i64 },
    /// A replay of entry `entry` (frame `lsn`) failed again.
    ReplayFailed {
        entry: u64,
        lsn: Lsn,
        time: i64,
        reasons: Vec<String>,
    },
    /// The operator dropped entries `entries` for `reason` at `time`: they
    /// stay listed but are never replayed. One record for the whole
    /// decision, so a crash leaves all of them dropped or none.
    Dropped {
        entries: Vec<u64>,
        reason: String,
        time: i64,
    },
}

/// A record id and the record, or why it could not be read.
pub(crate) type IdRecord = (u64, Result<Record, String>);

/// The quarantine log.
pub(crate) struct Quarantine {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    /// `None` after a failure until it is reopened.
    wal: Mutex<Option<Wal>>,
    /// After a failed append: the id it would have had. The record may have
    /// reached the file anyway (a failed sync leaves it in the page cache,
    /// and reopening makes it durable), so the retry looks for it first.
    failed_at: Mutex<Option<u64>>,
    /// Held across each append, so records reach `tally` in id order.
    appending: Mutex<()>,
    /// The counts by state, read from the log on first use and kept up to
    /// date by `append`.
    tally: Mutex<Option<entry::Tally>>,
    /// Held by a replay (until the bus has applied it) and by a drop, so an
    /// entry is never both dropped and imported by the same store handle.
    deciding: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn options() -> WalOptions {
    WalOptions {
        segment_size: 64 << 20,
        max_frame_size: 32 << 20,
        preallocate: false,
    }
}

impl Quarantine {
    pub fn open(storage: Arc<dyn Storage>, dir: &Path) -> Result<Quarantine, WalError> {
        let wal = Wal::open_with_storage(storage.clone(), dir, options())?;
        Ok(Quarantine {
            storage,
            dir: dir.to_path_buf(),
            wal: Mutex::new(Some(wal)),
            failed_at: Mutex::new(None),
            appending: Mutex::new(()),
            tally: Mutex::new(None),
            deciding: Mutex::new(()),
        })
    }

    /// The open log, reopening it (with recovery) after a failure.
    fn wal(&self) -> Result<Wal, WalError> {
        let mut slot = lock(&self.wal);
        if let Some(wal) = slot.as_ref() {
            return Ok(wal.clone());
        }
        let wal = Wal::open_with_storage(self.storage.clone(), &self.dir, options())?;
        *slot = Some(wal.clone());
        Ok(wal)
    }

    /// Appends a record durably; returns its id. After a failure the log
    /// is reopened (recovery decides what became durable), so the caller can
    /// retry.
    pub fn append(&self, record: &Record) -> Result<u64, WalError> {
        let _serial = lock(&self.appending);
        let id = self.append_once(record)?;
        if let Some(tally) = lock(&self.tally).as_mut() {
            // A record the first count read already is not counted twice.
            if id >= tally.end {
                tally.add(id, Ok(record));
            }
        }
        Ok(id)
    }

    fn append_once(&self, record: &Record) -> Result<u64, WalError> {
        let mut bytes = vec![RECORD_VERSION];
        bytes.extend(
            postcard::to_allocvec(record).map_err(|e| WalError::Corrupt {
                location: crate::wal::Location {
                    segment: self.dir.clone(),
                    offset: 0,
                },
                reason: format!("cannot encode a quarantine record: {e}"),
            })?,
        );
        let wal = self.wal()?;
        let retry_from = *lock(&self.failed_at);
        if let Some(from) = retry_from {
            // A retry: if the failed attempt's record can be read back, it
            // is the answer (appending again would quarantine the frame
            // twice), once it is made durable: readable is not durable
            // after a failed fsync.
            for item in wal.reader(from) {
                let ReadItem::Frame(frame) = item? else {
                    continue;
                };
                if decode_record(&frame.payload).as_ref() == Ok(record) {
                    self.write_again(&frame)?;
                    *lock(&self.failed_at) = None;
                    return Ok(frame.lsn);
                }
            }
        }
        let next = wal.stats().next_lsn;
        let result = wal.append(&bytes);
        let mut failed_at = lock(&self.failed_at);
        if result.is_err() {
            // Drop every handle so the next call reopens the log and lets
            // recovery decide what became durable; never retry on a writer
            // that failed.
            drop(wal);
            lock(&self.wal).take();
            failed_at.get_or_insert(next);
        } else {
            *failed_at = None;
        }
        result
    }

    /// Writes `frame`'s bytes again where they are, then syncs the file. A
    /// failed fsync drops the writes it covered from durability for good
    /// (Linux marks the pages clean), while they stay readable; a sync of
    /// the reopened log has nothing dirty to write. Writing the same bytes
    /// makes them dirty again, so this sync makes them durable.
    fn write_again(&self, frame: &Frame) -> Result<(), WalError> {
        let path = &frame.location.segment;
        let io = |op: &'static str| move |e| WalError::io(op, path, e);
        let file = self
            .storage
            .open_file(path, OpenMode::ReadWrite)
            .map_err(io("open segment"))?;
        let mut bytes = vec![0u8; FRAME_HEADER_LEN + frame.payload.len()];
        read_exact_at(file.as_ref(), &mut bytes, frame.location.offset)
            .map_err(io("read segment"))?;
        file.write_all_at(&bytes, frame.location.offset)
            .map_err(io("write segment"))?;
        file.sync_all().map_err(io("fsync segment"))?;
        let dir = path.parent().unwrap_or(&self.dir);
        self.storage
            .sync_dir(dir)
            .map_err(|e| WalError::io("fsync directory", dir, e))
    }

    /// How many entries are unresolved, resolved and dropped. The first
    /// call reads the whole log; later ones are free.
    pub fn counts(&self) -> Result<QuarantineCounts, WalError> {
        let mut slot = lock(&self.tally);
        if let Some(tally) = slot.as_ref() {
            return Ok(tally.counts());
        }
        // Records appended while this runs wait for the `tally` lock and
        // are counted by `append` if they are past `end`.
        let end = self.next_id()?;
        let mut tally = entry::Tally::default();
        self.for_each_record(1, |id, rec| {
            if id < end {
                tally.add(id, rec.as_ref().map_err(|_| ()));
            }
        })?;
        tally.end = tally.end.max(end);
        let counts = tally.counts();
        *slot = Some(tally);
        Ok(counts)
    }

    /// Serialises replays and drops (see the field `deciding`).
    pub fn deciding(&self) -> MutexGuard<'_, ()> {
        lock(&self.deciding)
    }

    /// The id the next record gets.
    pub fn next_id(&self) -> Result<u64, WalError> {
        Ok(self.wal()?.stats().next_lsn)
    }

    /// Every record from `from` on, with its id; damaged records are
    /// returned as errors with their location.
    pub fn records(&self, from: u64) -> Result<Vec<IdRecord>, WalError> {
        let mut out = Vec::new();
        self.for_each_record(from, |id, rec| out.push((id, rec)))?;
        Ok(out)
    }

    /// Hands every record from `from` on to `f`, one at a time (memory:
    /// one record, not the log).
    fn for_each_record(
        &self,
        from: u64,
        mut f: impl FnMut(u64, Result<Record, String>),
    ) -> Result<(), WalError> {
        for item in self.wal()?.reader(from) {
            match item? {
                ReadItem::Frame(frame) => f(frame.lsn, decode_record(&frame.payload)),
                ReadItem::Corrupt(c) => f(
                    c.lsns.0,
                    Err(format!(
                        "damaged quarantine record at {}: {}",
                        c.location, c.reason
                    )),
                ),
            }
        }
        Ok(())
    }

    /// All entries with their history, oldest first, and damaged records.
    pub fn entries(&self) -> Result<(Vec<QuarantineEntry>, Vec<String>), WalError> {
        Ok(entries_of(self.records(1)?))
    }
}

/// The entries described by `records` (every record of the log, in id
/// order), and the records that could not be read.
pub(crate) fn entries_of(records: Vec<IdRecord>) -> (Vec<QuarantineEntry>, Vec<String>) {
    entry::build(records)
}

/// A record as stored in a quarantine log frame.
fn decode_record(payload: &[u8]) -> Result<Record, String> {
    match payload.split_first() {
        Some((&RECORD_VERSION, body)) => postcard::from_bytes(body).map_err(|e| e.to_string()),
        _ => Err("unknown quarantine record version".to_string()),
    }
}
