//! The quarantine: an append-only, checksummed, fsynced log of what could
//! not be imported (damaged regions of the message box, frames that do not
//! decode, frames that fail validation), each with where it came from, the
//! reasons and the time, and of what happened to them later (imported by a
//! replay, or a replay that failed again). Nothing in it is ever deleted.
//!
//! It is stored as a message box of its own (`<store>/quarantine/`), so it
//! has the same torn-tail recovery, corruption reporting and fsync
//! discipline; the entry id is the LSN of its record there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;
use crate::storage::Storage;
use crate::wal::{Lsn, ReadItem, Wal, WalError, WalOptions};

const RECORD_VERSION: u8 = 1;

/// Where a quarantined frame came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The message box LSNs it held (one for a frame; a range for a
    /// damaged region).
    pub lsns: (Lsn, Lsn),
    /// The message box segment file.
    pub segment: String,
    /// Byte offset in that file.
    pub offset: u64,
}

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
}

/// One quarantined item, with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarantineEntry {
    /// Its id (stable; used by show and replay).
    pub id: u64,
    /// Where it came from.
    pub source: Source,
    /// Why it could not be imported.
    pub reasons: Vec<String>,
    /// When it was quarantined.
    pub time: Timestamp,
    /// Events in it, as far as they decoded.
    pub events: u64,
    /// The original bytes (for a damaged region: what could be read).
    #[serde(skip)]
    pub payload: Vec<u8>,
    /// Bytes of payload kept.
    pub payload_len: usize,
    /// Whether a replay imported it.
    pub resolved: bool,
    /// Reasons of replays that failed again, oldest first.
    pub failed_replays: Vec<Vec<String>>,
}

impl QuarantineEntry {
    /// The events it holds, decoded, or why they cannot be: a damaged
    /// region, or a payload that is not an event batch (a deployment, an
    /// operator action) or does not decode within `limits`.
    ///
    /// ```
    /// # use bamdb::{QuarantineEntry, Source};
    /// # use bamdb::model::{Limits, Timestamp};
    /// let entry = QuarantineEntry {
    ///     id: 1,
    ///     source: Source { lsns: (1, 1), segment: "x".into(), offset: 0 },
    ///     reasons: vec!["damaged".into()],
    ///     time: Timestamp::from_micros(0),
    ///     events: 0,
    ///     payload: vec![0xFF],
    ///     payload_len: 1,
    ///     resolved: false,
    ///     failed_replays: vec![],
    /// };
    /// assert!(entry.decode_events(&Limits::default()).is_err());
    /// ```
    pub fn decode_events(
        &self,
        limits: &crate::model::Limits,
    ) -> Result<Vec<crate::model::Event>, String> {
        let batch = match super::envelope::parse(&self.payload) {
            super::envelope::Payload::Batch(b) => b,
            super::envelope::Payload::Replay { batch, .. } => batch,
            super::envelope::Payload::Deploy(_) => {
                return Err("a definition deployment, not events".into())
            }
            super::envelope::Payload::Admin(_) => {
                return Err("an operator action, not events".into())
            }
            super::envelope::Payload::Unknown(Some(b)) => {
                return Err(format!("unknown payload kind 0x{b:02X}"))
            }
            super::envelope::Payload::Unknown(None) => return Err("empty payload".into()),
        };
        crate::model::decode_batch(batch, limits)
            .map(|b| b.events)
            .map_err(|e| e.to_string())
    }
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
        })
    }

    /// The open log, reopening it (with recovery) after a failure.
    fn wal(&self) -> Result<Wal, WalError> {
        let mut slot = self.wal.lock().unwrap_or_else(|e| e.into_inner());
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
        let retry_from = *self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(from) = retry_from {
            // A retry: if the failed attempt's record survived, it is the
            // answer; appending again would quarantine the frame twice.
            for (id, rec) in self.records(from)? {
                if rec.as_ref() == Ok(record) {
                    *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    return Ok(id);
                }
            }
        }
        let next = wal.stats().next_lsn;
        let result = wal.append(&bytes);
        let mut failed_at = self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
        if result.is_err() {
            // Drop every handle so the next call reopens the log and lets
            // recovery decide what became durable; never retry on a writer
            // that failed.
            drop(wal);
            self.wal.lock().unwrap_or_else(|p| p.into_inner()).take();
            failed_at.get_or_insert(next);
        } else {
            *failed_at = None;
        }
        result
    }

    /// The id the next record gets.
    pub fn next_id(&self) -> Result<u64, WalError> {
        Ok(self.wal()?.stats().next_lsn)
    }

    /// Every record from `from` on, with its id; damaged records are
    /// returned as errors with their location.
    pub fn records(&self, from: u64) -> Result<Vec<IdRecord>, WalError> {
        let mut out = Vec::new();
        for item in self.wal()?.reader(from) {
            match item? {
                ReadItem::Frame(f) => {
                    let rec = match f.payload.split_first() {
                        Some((&RECORD_VERSION, body)) => {
                            postcard::from_bytes(body).map_err(|e| e.to_string())
                        }
                        _ => Err("unknown quarantine record version".to_string()),
                    };
                    out.push((f.lsn, rec));
                }
                ReadItem::Corrupt(c) => out.push((
                    c.lsns.0,
                    Err(format!(
                        "damaged quarantine record at {}: {}",
                        c.location, c.reason
                    )),
                )),
            }
        }
        Ok(out)
    }

    /// All entries with their history, oldest first, and damaged records.
    pub fn entries(&self) -> Result<(Vec<QuarantineEntry>, Vec<String>), WalError> {
        let mut entries: BTreeMap<u64, QuarantineEntry> = BTreeMap::new();
        let mut damaged = Vec::new();
        for (id, rec) in self.records(1)? {
            match rec {
                Ok(Record::Entry {
                    source,
                    reasons,
                    time,
                    events,
                    payload,
                }) => {
                    entries.insert(
                        id,
                        QuarantineEntry {
                            id,
                            source,
                            reasons,
                            time: Timestamp::from_micros(time),
                            events,
                            payload_len: payload.len(),
                            payload,
                            resolved: false,
                            failed_replays: Vec::new(),
                        },
                    );
                }
                Ok(Record::Resolved { entry, .. }) => {
                    if let Some(e) = entries.get_mut(&entry) {
                        e.resolved = true;
                    }
                }
                Ok(Record::ReplayFailed { entry, reasons, .. }) => {
                    if let Some(e) = entries.get_mut(&entry) {
                        e.failed_replays.push(reasons);
                    }
                }
                Err(reason) => damaged.push(format!("record {id}: {reason}")),
            }
        }
        Ok((entries.into_values().collect(), damaged))
    }
}
