//! The bus's side of producers' message boxes: copying each box's durable
//! frames into the store's own message box, in LSN order per box, and
//! telling each box how far the bus has imported it.
//!
//! Exactly once per (box, LSN): each copied frame carries its box id and
//! LSN (`Boxed` payload), and the bus's state keeps the highest LSN
//! imported per box, checkpointed with the rest. After a crash of the bus
//! process the store's own log is recovered and imported first, and
//! copying resumes after the highest LSN imported per box; a frame copied
//! twice is skipped by that mark. Only frames at or below a box's `SYNCED`
//! mark are copied: a frame a power loss could still take from the box
//! (and whose LSN the producer would then reuse) is never imported.
//!
//! The `APPLIED` mark a box gets is the highest of its LSNs whose copy is
//! imported; as the copy is in the store's fsynced log, the import of it
//! survives any crash, so the producer may delete the box's segments up to
//! there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Store;
use crate::bus::boxed_payload;
use crate::error::StoreError;
use crate::producer::{self, read_identity, BoxTail, APPLIED_FILE};
use crate::wal::{Lsn, MarkWriter, TailPosition};

/// Payload bytes copied from one box in one go, at most (about).
const COPY_CHUNK: u64 = 4 << 20;
/// How long the first copy waits for the store's own log to be imported.
const CATCH_UP: Duration = Duration::from_secs(600);
/// The header a copied frame gets (`Boxed`: kind, box id, LSN).
pub(crate) const BOXED_HEADER: usize = 17;

/// What one [`Store::import_boxes`] pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoxImport {
    /// Message boxes looked at.
    pub boxes: usize,
    /// Frames copied into the store's message box.
    pub frames: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Boxes that could not be read this time, and why (the others were
    /// copied all the same).
    pub problems: Vec<String>,
}

/// How far one box is copied.
#[derive(Debug)]
struct Cursor {
    /// How far the box is read.
    tail: BoxTail,
    /// Store LSN of a copy, and the box LSN it ends with, not yet known to
    /// be imported.
    in_flight: Vec<(Lsn, Lsn)>,
    applied: Option<MarkWriter>,
}

/// The copying state of a store's bus: one cursor per box directory.
#[derive(Debug, Default)]
pub(super) struct BoxPump {
    caught_up: bool,
    cursors: BTreeMap<PathBuf, Cursor>,
    /// Per box shipped from elsewhere (`Store::append_shipped`), the
    /// highest of its LSNs appended to the store's log.
    pub(super) shipped: BTreeMap<u64, Lsn>,
}

impl Store {
    /// One pass of the bus process over the producers' message boxes: the
    /// boxes in the store's `boxes/` folder and `extra` boxes elsewhere.
    /// Copies each box's durable frames that were not imported yet into
    /// the store's message box (the bus imports them in the background, as
    /// any frame), and records in each box how far its frames are imported.
    /// `bamdb bus` calls it in a loop; call it again when it copied
    /// nothing after a short pause. One pass at a time (they queue).
    ///
    /// The first pass of a store handle waits until the store's own log is
    /// imported, so it knows what each box already gave.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bamdb::{BoxOptions, EventStream, MessageBox, Store, StoreOptions};
    ///
    /// let dir = tempfile::tempdir()?;
    /// // A producer's box outside the store: the bus is told where it is.
    /// let outbox = MessageBox::open(dir.path().join("outbox"), BoxOptions::default())?;
    /// let mut stream = outbox.buffered_stream();
    /// stream.begin("Order", "O-1")?;
    /// stream.flush()?;
    ///
    /// let store = Store::open(dir.path().join("store"), StoreOptions::default())?;
    /// store.deploy(serde_json::from_str(r#"{"name":"Order","items":[]}"#)?)?;
    /// let boxes = [outbox.dir().to_path_buf()];
    /// let pass = store.import_boxes(&boxes)?;
    /// assert_eq!((pass.boxes, pass.frames), (1, 1));
    /// assert!(store.sync(Duration::from_secs(10)));
    /// assert!(store.get("Order", "O-1")?.is_some());
    /// // Again: nothing new to copy.
    /// assert_eq!(store.import_boxes(&boxes)?.frames, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn import_boxes(&self, extra: &[PathBuf]) -> Result<BoxImport, StoreError> {
        self.box_pass(extra, false)
    }

    /// [`Store::import_boxes`], adopting at once every box no producer has
    /// open: its log is recovered and synced and its `SYNCED` mark set, so
    /// frames a producer wrote before it stopped are copied even if it never
    /// comes back, and even if a power loss took its mark. (A normal pass
    /// does this for a box whose mark has not moved for a few seconds.)
    /// `bamdb bus --drain` ends with it.
    pub fn import_abandoned_boxes(&self, extra: &[PathBuf]) -> Result<BoxImport, StoreError> {
        self.box_pass(extra, true)
    }

    fn box_pass(&self, extra: &[PathBuf], adopt_now: bool) -> Result<BoxImport, StoreError> {
        let mut pump = crate::bus::lock(&self.pump);
        self.catch_up(&mut pump)?;
        let storage = self.bus.storage().clone();
        let dirs = producer::box_dirs(storage.as_ref(), &self.dir, extra)?;
        let mut report = BoxImport {
            boxes: dirs.len(),
            ..BoxImport::default()
        };
        let mut copies = Vec::new();
        for dir in &dirs {
            match self.read_box(&mut pump, dir, adopt_now) {
                Ok(Some(copy)) => copies.push(copy),
                Ok(None) => {}
                Err(e) => report
                    .problems
                    .push(format!("message box {}: {e}", dir.display())),
            }
        }
        self.append_copies(&mut pump, copies, &mut report)?;
        let applied = self.bus.progress().applied;
        for (dir, cursor) in pump.cursors.iter_mut() {
            if let Err(e) = mark_applied(self, dir, cursor, applied) {
                report
                    .problems
                    .push(format!("message box {}: {e}", dir.display()));
            }
        }
        // Forget boxes that are gone once nothing of theirs is in flight.
        pump.cursors
            .retain(|dir, cursor| dirs.contains(dir) || !cursor.in_flight.is_empty());
        Ok(report)
    }

    /// Reads what `dir`'s box holds beyond its cursor, up to its synced
    /// mark and about [`COPY_CHUNK`] bytes, as the payloads of its copies.
    fn read_box(
        &self,
        pump: &mut BoxPump,
        dir: &Path,
        adopt_now: bool,
    ) -> Result<Option<Copy>, StoreError> {
        let storage = self.bus.storage().clone();
        let Some(identity) = read_identity(storage.as_ref(), dir)? else {
            return Ok(None); // being made, or not a box (yet)
        };
        let known = pump.cursors.get(dir).map(|c| c.tail.box_id);
        if known != Some(identity.box_id) {
            let imported = self.imported_of_box(identity.box_id);
            pump.cursors.insert(
                dir.to_path_buf(),
                Cursor {
                    tail: BoxTail::new(identity.box_id, imported + 1),
                    // What earlier runs imported: the mark may lag it.
                    in_flight: if imported > 0 {
                        vec![(0, imported)]
                    } else {
                        Vec::new()
                    },
                    applied: None,
                },
            );
        }
        let Some(cursor) = pump.cursors.get_mut(dir) else {
            return Ok(None);
        };
        let max_frame_size = self.max_boxed_frame();
        let Some(read) = cursor
            .tail
            .read(&storage, dir, max_frame_size, COPY_CHUNK, adopt_now)?
        else {
            return Ok(None);
        };
        let box_id = cursor.tail.box_id;
        Ok(Some(Copy {
            dir: dir.to_path_buf(),
            payloads: read
                .frames
                .iter()
                .map(|f| boxed_payload(box_id, f.lsn, &f.payload))
                .collect(),
            bytes: read.frames.iter().map(|f| f.payload.len() as u64).sum(),
            last_box_lsn: read.last_lsn(),
            end: read.end,
        }))
    }

    /// Waits, the first time, until the store's own log is imported, so
    /// that the bus's state tells what each box already gave.
    pub(super) fn catch_up(&self, pump: &mut BoxPump) -> Result<(), StoreError> {
        if !pump.caught_up {
            if !self.sync(CATCH_UP) {
                return Err(StoreError::Timeout {
                    what:
                        "the import of the store's own message box before copying producers' boxes"
                            .into(),
                });
            }
            pump.caught_up = true;
        }
        Ok(())
    }

    /// The highest LSN of box `box_id` the bus has imported (0: none).
    pub(super) fn imported_of_box(&self, box_id: u64) -> Lsn {
        self.bus
            .read_state()
            .sequences
            .boxes
            .get(&box_id)
            .copied()
            .unwrap_or(0)
    }

    /// The largest box frame the store's log can take as a copy.
    pub(super) fn max_boxed_frame(&self) -> u32 {
        let store_limit = self.bus.wal().options().max_frame_size;
        store_limit.saturating_sub(BOXED_HEADER as u32)
    }

    /// Appends the copies of every box read in this pass to the store's
    /// message box with one sync, then moves each box's cursor past them.
    /// On an error no cursor moves: frames that were written anyway are
    /// skipped as copies when they are copied again.
    fn append_copies(
        &self,
        pump: &mut BoxPump,
        copies: Vec<Copy>,
        report: &mut BoxImport,
    ) -> Result<(), StoreError> {
        if copies.is_empty() {
            return Ok(());
        }
        let payloads: Vec<&[u8]> = copies
            .iter()
            .flat_map(|c| c.payloads.iter().map(Vec::as_slice))
            .collect();
        self.bus.throttle();
        let lsns = self.bus.wal().append_all(&payloads)?;
        let mut lsns = lsns.into_iter();
        for copy in copies {
            let n = copy.payloads.len();
            let Some(store_lsn) = lsns.by_ref().take(n).last() else {
                continue;
            };
            if let Some(cursor) = pump.cursors.get_mut(&copy.dir) {
                cursor.in_flight.push((store_lsn, copy.last_box_lsn));
                cursor.tail.advance(copy.last_box_lsn, copy.end);
            }
            report.frames += n as u64;
            report.bytes += copy.bytes;
        }
        Ok(())
    }
}

/// What one pass copies from one box.
struct Copy {
    dir: PathBuf,
    /// The `Boxed` payloads, in the box's LSN order.
    payloads: Vec<Vec<u8>>,
    /// The box's payload bytes they carry.
    bytes: u64,
    /// The box LSN of the last.
    last_box_lsn: Lsn,
    /// Where the box's read stopped.
    end: Option<TailPosition>,
}

/// Advances `dir`'s `APPLIED` mark over the copies the bus has imported
/// (store LSN at most `applied`).
fn mark_applied(
    store: &Store,
    dir: &Path,
    cursor: &mut Cursor,
    applied: Lsn,
) -> Result<(), StoreError> {
    let done = cursor
        .in_flight
        .iter()
        .take_while(|(store_lsn, _)| *store_lsn <= applied)
        .count();
    let Some(&(_, box_lsn)) = done.checked_sub(1).and_then(|i| cursor.in_flight.get(i)) else {
        return Ok(());
    };
    cursor.in_flight.drain(..done);
    let mark = match &mut cursor.applied {
        Some(mark) => mark,
        empty => empty.insert(MarkWriter::open(
            store.bus.storage().as_ref(),
            &dir.join(APPLIED_FILE),
            cursor.tail.box_id,
        )?),
    };
    Ok(mark.advance(box_lsn)?)
}

#[cfg(test)]
#[path = "boxes_tests.rs"]
pub(super) mod tests;
