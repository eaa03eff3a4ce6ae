//! A producer process's own message box: an application that does not
//! host the store commits its events here, with the same
//! [`BufferedEventStream`] API, and a bus process (`bamdb bus`, or
//! [`crate::Store::import_boxes`]) copies them into the store.
//!
//! A flush returns once its frame is durable in the box; the producer needs
//! no definitions and never waits for the bus, except when the box reaches
//! its quota ([`BoxOptions::quota_bytes`]): then a flush waits up to
//! [`BoxOptions::quota_wait`] for the bus to import enough to make room,
//! and fails with [`StoreError::BoxFull`] (nothing written) if it does not.
//!
//! A box is a directory (see `docs/FORMAT.md`, "Producer message boxes"):
//! `BOX` (its identity), `LOCK` (held by its one producer), `log/` (a
//! message box log like the store's own), `SYNCED` (how far the log is
//! durable, written by the producer) and `APPLIED` (how far the bus has
//! imported it, written by the bus). The bus imports every box in the
//! store's `boxes/` directory ([`MessageBox::open_in_store`]); a box
//! elsewhere is named to the bus by the operator (`bamdb bus --box DIR`).
//!
//! ```
//! use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreOptions};
//!
//! let dir = tempfile::tempdir()?;
//! // The producer process: no store handle, no definitions.
//! let outbox = MessageBox::open_in_store(dir.path(), "orders-app", BoxOptions::default())?;
//! let mut stream = outbox.buffered_stream();
//! stream.begin("Order", "O-1")?;
//! stream.end("Order", "O-1")?;
//! stream.flush()?; // durable in the box
//!
//! // The bus process.
//! let store = Store::open(dir.path(), StoreOptions::default())?;
//! store.deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#)?)?;
//! let copied = store.import_boxes(&[])?;
//! assert_eq!(copied.frames, 1);
//! assert!(store.sync(std::time::Duration::from_secs(10)));
//! assert!(store.get("Order", "O-1")?.is_some());
//! store.import_boxes(&[])?; // tells the box what was imported
//! assert_eq!(outbox.stats()?.applied_lsn, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod identity;
mod log;
pub(crate) mod tail;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use identity::read_identity;
pub(crate) use tail::BoxTail;

use crate::error::StoreError;
use crate::model::Limits;
use crate::storage::{FsStorage, Storage};
use crate::stream::BufferedEventStream;
use crate::wal::{Lsn, MarkWriter, Wal, WalOptions};
use log::BoxLog;

/// The folder of a store that holds its producers' message boxes.
pub const BOXES_DIR: &str = "boxes";
/// The folder of a box that holds its log.
pub(crate) const LOG_DIR: &str = "log";
/// The mark of how far a box's log is durable (written by its producer).
pub(crate) const SYNCED_FILE: &str = "SYNCED";
/// The mark of how far the bus has imported a box (written by the bus).
pub(crate) const APPLIED_FILE: &str = "APPLIED";
const LOCK_FILE: &str = "LOCK";
/// How long opening a box waits for its lock before [`StoreError::BoxLocked`].
const LOCK_WAIT: Duration = Duration::from_secs(1);
/// How often it tries again meanwhile (a lock's release is not announced
/// to other processes).
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// Options for [`MessageBox::open`].
#[derive(Debug, Clone)]
pub struct BoxOptions {
    /// The producer id written in every batch: the tie-break between
    /// events with equal timestamps, and the key of sequenced flushes.
    /// `None`: one chosen when the box is made (at or above 2^31) and kept
    /// in the box. A box reopened with another id is refused.
    pub producer_id: Option<u32>,
    /// Bytes the box's log may hold; `None`: no limit. At least two
    /// segments (`wal.segment_size`), as a segment leaves only once all of
    /// it was imported.
    pub quota_bytes: Option<u64>,
    /// How long a flush over the quota waits for the bus before it fails
    /// with [`StoreError::BoxFull`]. Default 10 s.
    pub quota_wait: Duration,
    /// The structural limits events are checked against. Keep them within
    /// the store's ([`crate::StoreOptions::limits`]): the bus quarantines
    /// a batch beyond its own limits.
    pub limits: Limits,
    /// The log's options. Default: segments of 8 MiB, frames (one flush)
    /// of at most 4 MiB. Keep `max_frame_size` below the store's, less 17
    /// bytes: the bus copies each frame into the store's log with a header.
    pub wal: WalOptions,
    /// Create the box if the directory holds none. Default true.
    pub create_if_missing: bool,
}

impl Default for BoxOptions {
    fn default() -> Self {
        BoxOptions {
            producer_id: None,
            quota_bytes: None,
            quota_wait: Duration::from_secs(10),
            limits: Limits::default(),
            wal: WalOptions {
                segment_size: 8 << 20,
                max_frame_size: 4 << 20,
                ..WalOptions::default()
            },
            create_if_missing: true,
        }
    }
}

/// What [`MessageBox::stats`] tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxStats {
    /// The box's id (fixed when it was made).
    pub box_id: u64,
    /// The producer id in its batches.
    pub producer_id: u32,
    /// The last LSN committed to the box.
    pub committed_lsn: Lsn,
    /// The last LSN the bus has imported (0: none yet, or no bus).
    pub applied_lsn: Lsn,
    /// Bytes its log holds.
    pub bytes: u64,
    /// Segment files of its log.
    pub segments: usize,
}

/// A producer's own message box, open for committing. Holding it (or any
/// stream made from it) keeps the box locked against other producers.
pub struct MessageBox {
    log: Arc<BoxLog>,
    producer_id: u32,
}

impl MessageBox {
    /// Opens the box in `dir`, creating it if needed; takes its lock
    /// ([`StoreError::BoxLocked`] if another producer holds it for more
    /// than a second).
    pub fn open(dir: impl AsRef<Path>, options: BoxOptions) -> Result<MessageBox, StoreError> {
        MessageBox::open_with_storage(FsStorage::shared(), dir, options)
    }

    /// Opens the box `name` in the store directory `store_dir` (its
    /// `boxes/` folder), where the bus process finds it. The store need
    /// not exist yet.
    pub fn open_in_store(
        store_dir: impl AsRef<Path>,
        name: &str,
        options: BoxOptions,
    ) -> Result<MessageBox, StoreError> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.');
        if !valid {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "message box name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
                ),
            });
        }
        MessageBox::open(store_dir.as_ref().join(BOXES_DIR).join(name), options)
    }

    /// [`MessageBox::open`] on any [`Storage`].
    pub fn open_with_storage(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: BoxOptions,
    ) -> Result<MessageBox, StoreError> {
        MessageBox::open_waiting(storage, dir.as_ref(), options, LOCK_WAIT)
    }

    /// Opens the box only if no producer holds it now
    /// ([`StoreError::BoxLocked`] at once otherwise): the bus adopting a
    /// box must not wait for a producer that is alive.
    pub(crate) fn open_if_free(
        storage: Arc<dyn Storage>,
        dir: &Path,
        options: BoxOptions,
    ) -> Result<MessageBox, StoreError> {
        MessageBox::open_waiting(storage, dir, options, Duration::ZERO)
    }

    fn open_waiting(
        storage: Arc<dyn Storage>,
        dir: &Path,
        options: BoxOptions,
        lock_wait: Duration,
    ) -> Result<MessageBox, StoreError> {
        let dir = dir.to_path_buf();
        check_options(&options)?;
        let io = |op: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { op, path, source }
        };
        if options.create_if_missing {
            storage
                .create_dir_all(&dir)
                .map_err(io("create message box directory", &dir))?;
            if let Some(parent) = dir.parent() {
                storage
                    .sync_dir(parent)
                    .map_err(io("fsync directory", parent))?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        // The bus holds a box's lock for a moment when it adopts it (see
        // `Store::import_abandoned_boxes`): a producer starting then waits.
        let deadline = std::time::Instant::now() + lock_wait;
        let lock = loop {
            match storage.try_lock(&lock_path) {
                Ok(Some(lock)) => break lock,
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(LOCK_RETRY);
                }
                Ok(None) => return Err(StoreError::BoxLocked { dir }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(not_a_box(&dir, "the directory does not exist"))
                }
                Err(e) => return Err(io("lock", &lock_path)(e)),
            }
        };
        let identity = match read_identity(storage.as_ref(), &dir)? {
            Some(found) => found,
            None if options.create_if_missing => {
                identity::create_identity(storage.as_ref(), &dir, options.producer_id)?
            }
            None => return Err(not_a_box(&dir, "it has no BOX identity file")),
        };
        if let Some(wanted) = options.producer_id {
            if wanted != identity.producer_id {
                return Err(StoreError::InvalidInput {
                    reason: format!(
                        "message box {} belongs to producer id {}, not {wanted}",
                        dir.display(),
                        identity.producer_id
                    ),
                });
            }
        }
        let wal = Wal::open_with_storage(storage.clone(), dir.join(LOG_DIR), options.wal.clone())?;
        let synced = MarkWriter::open(storage.as_ref(), &dir.join(SYNCED_FILE), identity.box_id)?;
        let log = BoxLog::new(storage, &dir, identity.box_id, wal, synced, options, lock);
        // Recovery synced what it found: all of it is durable now.
        log.mark_synced()?;
        log.trim()?;
        Ok(MessageBox {
            log: Arc::new(log),
            producer_id: identity.producer_id,
        })
    }

    /// A buffered stream that commits to this box; `flush` returns once
    /// the batch is durable here.
    pub fn buffered_stream(&self) -> BufferedEventStream {
        self.buffered_stream_with_threshold(0)
    }

    /// [`MessageBox::buffered_stream`] that also commits by itself once
    /// `threshold` events are buffered (0: only on `flush`).
    pub fn buffered_stream_with_threshold(&self, threshold: usize) -> BufferedEventStream {
        BufferedEventStream::new(self.log.clone(), self.producer_id, threshold)
    }

    /// The box's directory.
    pub fn dir(&self) -> &Path {
        &self.log.dir
    }

    /// The producer id in the box's batches.
    pub fn producer_id(&self) -> u32 {
        self.producer_id
    }

    /// How far the box is committed and imported, and its size.
    pub fn stats(&self) -> Result<BoxStats, StoreError> {
        let wal = self.log.wal.stats();
        Ok(BoxStats {
            box_id: self.log.box_id,
            producer_id: self.producer_id,
            committed_lsn: wal.committed_lsn,
            applied_lsn: self.log.applied()?,
            bytes: wal.bytes,
            segments: wal.segments,
        })
    }

    /// Deletes the segments the bus has imported now (flushes do it from
    /// time to time by themselves); how many.
    pub fn trim(&self) -> Result<usize, StoreError> {
        self.log.trim()
    }
}

fn check_options(options: &BoxOptions) -> Result<(), StoreError> {
    if let Some(quota) = options.quota_bytes {
        let least = options.wal.segment_size.saturating_mul(2);
        if quota < least {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "message box quota {quota} bytes: at least two segments ({least} bytes) are needed, as a segment is deleted only once all of it was imported"
                ),
            });
        }
    }
    Ok(())
}

fn not_a_box(dir: &Path, why: &str) -> StoreError {
    StoreError::InvalidInput {
        reason: format!("{} is not a message box: {why}", dir.display()),
    }
}

/// The box directories a store's bus imports: those in its `boxes/`
/// folder (following links), then `extra`; each once.
pub(crate) fn box_dirs(
    storage: &dyn Storage,
    store_dir: &Path,
    extra: &[PathBuf],
) -> Result<Vec<PathBuf>, StoreError> {
    let folder = store_dir.join(BOXES_DIR);
    let names = match storage.list_subdirs(&folder) {
        Ok(names) => names,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(StoreError::Io {
                op: "list message boxes",
                path: folder,
                source,
            })
        }
    };
    let mut dirs: Vec<PathBuf> = names
        .into_iter()
        .filter(|n| !n.starts_with('.'))
        .map(|n| folder.join(n))
        .collect();
    for dir in extra {
        if !dirs.contains(dir) {
            dirs.push(dir.clone());
        }
    }
    Ok(dirs)
}
