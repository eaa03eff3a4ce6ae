//! [`Store::verify`]: read every checksum of a closed store and report each
//! problem with its location (the `bamdb verify` command).
//!
//! What is read (layouts in `docs/FORMAT.md`):
//! - every frame of the message box (`<store>/wal`), from the oldest
//!   segment kept to the durable end;
//! - every record of the quarantine log (`<store>/quarantine`), frames and
//!   record encoding;
//! - the manifest (`<store>/segments/MANIFEST`);
//! - every import file the manifest names: header, footer, index, and every
//!   record's checksum;
//! - the checkpoint the manifest names, decoded, and its LSN checked
//!   against the manifest's.
//!
//! It takes the store's lock the way [`Store::open`] does, so it fails with
//! [`StoreError::Locked`] while another handle has the store open, and it
//! neither imports nor checkpoints. Opening the two logs runs their crash
//! recovery, which may cut a torn (never acknowledged) tail, exactly as the
//! next [`Store::open`] would; that is reported as a note, not a problem.
//!
//! Damage that was handled is a note, not a problem: a damaged message box
//! region that the bus set aside as a quarantine entry (such an entry holds
//! no batch, so it can never be replayed; the operator drops it once the
//! loss is accounted for). Every such entry and every dropped entry is
//! named in the notes with its state. Damage that no quarantine entry
//! accounts for (a damaged frame the bus has not reached, or one that went
//! bad after it was imported, a damaged quarantine record, import file,
//! manifest or checkpoint) is a problem.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::{Store, StoreError, StoreOptions};
use crate::bus::nodes::Census;
use crate::bus::quarantine::{
    entries_of, EntryState, Quarantine, QuarantineCounts, QuarantineEntry,
};
use crate::bus::{census_of_runs, read_checkpoint};
use crate::segments::active_run::ActiveRun;
use crate::segments::file::ImportFile;
use crate::segments::manifest::{Manifest, MANIFEST};
use crate::storage::{FsStorage, Storage};
use crate::wal::{ReadItem, Wal};

/// One thing wrong with a store: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file (and byte offset, where known) that is damaged.
    pub location: String,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// What [`Store::verify`] read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Every damaged place found; empty when the store is sound.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not unhandled damage: a torn tail cut
    /// by recovery, files an interrupted checkpoint left behind, damaged
    /// message box regions set aside in quarantine, dropped quarantine
    /// entries (with the reason and the time).
    pub notes: Vec<String>,
    /// Message box frames whose checksums verified.
    pub wal_frames: u64,
    /// Quarantine records that verified and decoded.
    pub quarantine_records: u64,
    /// Quarantine entries by state, as the records read say.
    pub quarantine_entries: QuarantineCounts,
    /// Import files named by the manifest.
    pub import_files: usize,
    /// Records read (and verified) in those import files.
    pub import_records: u64,
    /// Whether the manifest names a checkpoint (read and verified).
    pub checkpoint: bool,
    /// Active runs named by the manifest (read and verified).
    pub active_runs: usize,
    /// Nodes of active and pending instances in them (tombstones and
    /// older versions not counted).
    pub active_nodes: u64,
}

impl VerifyReport {
    /// True when no problem was found.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, location: impl fmt::Display, reason: impl Into<String>) {
        self.problems.push(Problem {
            location: location.to_string(),
            reason: reason.into(),
        });
    }
}

impl Store {
    /// Reads every checksum of the store in `dir` (see the module docs of
    /// `store::verify` for the list) and reports each problem with its
    /// location. The store must not be open elsewhere: the directory lock
    /// is taken as by [`Store::open`] and released on return. `options`
    /// gives the message box's frame size limit.
    ///
    /// Errors only when the check cannot run at all (the directory holds no
    /// store, [`StoreError::NotAStore`], or is locked). Damage is a
    /// [`Problem`] in the report, unless it was handled: a damaged message
    /// box region that the bus set aside in quarantine is a note (see the
    /// module docs).
    pub fn verify(
        dir: impl AsRef<Path>,
        options: &StoreOptions,
    ) -> Result<VerifyReport, StoreError> {
        let dir = dir.as_ref();
        let storage = FsStorage::shared();
        // Checking must not create a store (nor its LOCK) where there is none.
        super::check_is_store(storage.as_ref(), dir)?;
        let lock_path = dir.join("LOCK");
        let _guard = storage
            .try_lock(&lock_path)
            .map_err(|source| StoreError::Io {
                op: "lock",
                path: lock_path.clone(),
                source,
            })?
            .ok_or_else(|| StoreError::Locked {
                dir: dir.to_path_buf(),
            })?;
        let mut report = VerifyReport::default();
        let entries = verify_quarantine(&storage, &dir.join("quarantine"), &mut report);
        verify_wal(&storage, &dir.join("wal"), options, &entries, &mut report);
        verify_segments(storage.as_ref(), &dir.join("segments"), &mut report);
        Ok(report)
    }
}

/// Every frame of the message box, from the oldest kept segment on.
fn verify_wal(
    storage: &Arc<dyn Storage>,
    dir: &Path,
    options: &StoreOptions,
    quarantined: &[QuarantineEntry],
    report: &mut VerifyReport,
) {
    if !dir.is_dir() {
        report.notes.push(format!(
            "{}: no message box yet (nothing was ever committed)",
            dir.display()
        ));
        return;
    }
    let wal = match Wal::open_with_full_recovery(storage.clone(), dir, options.wal.clone()) {
        Ok(w) => w,
        Err(e) => return report.problem(dir.display(), format!("cannot open: {e}")),
    };
    let recovery = wal.recovery_report();
    if let Some(at) = &recovery.truncated_at {
        report.notes.push(format!(
            "message box: recovery cut a torn tail of {} bytes at {at} (never acknowledged)",
            recovery.truncated_bytes
        ));
    }
    for loc in &recovery.removed_incomplete_segments {
        report.notes.push(format!(
            "message box: recovery removed an incomplete segment {}",
            loc.segment.display()
        ));
    }
    for item in wal.reader(1) {
        match item {
            Ok(ReadItem::Frame(_)) => report.wal_frames += 1,
            Ok(ReadItem::Corrupt(c)) => {
                let what = format!(
                    "damaged message box frame(s), LSN {}..={}: {}",
                    c.lsns.0, c.lsns.1, c.reason
                );
                // Handled if the bus set this very region aside.
                let handled = quarantined.iter().find(|e| {
                    e.is_damaged_region()
                        && e.source.lsns.0 <= c.lsns.0
                        && c.lsns.1 <= e.source.lsns.1
                });
                match handled {
                    Some(e) => report.notes.push(format!(
                        "{}: {what}; handled: set aside as quarantine entry {}",
                        c.location, e.id
                    )),
                    None => report.problem(
                        &c.location,
                        format!("{what}; not accounted for by a quarantine entry"),
                    ),
                }
            }
            Err(e) => {
                report.problem(dir.display(), format!("cannot read the message box: {e}"));
                break;
            }
        }
    }
}

/// Every record of the quarantine log: frame checksums and encoding. Notes
/// the entries an operator should know of; returns the entries.
fn verify_quarantine(
    storage: &Arc<dyn Storage>,
    dir: &Path,
    report: &mut VerifyReport,
) -> Vec<QuarantineEntry> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let quarantine = match Quarantine::open(storage.clone(), dir) {
        Ok(q) => q,
        Err(e) => {
            report.problem(dir.display(), format!("cannot open: {e}"));
            return Vec::new();
        }
    };
    let records = match quarantine.records(1) {
        Ok(records) => records,
        Err(e) => {
            report.problem(dir.display(), format!("cannot read the quarantine: {e}"));
            return Vec::new();
        }
    };
    for (id, rec) in &records {
        match rec {
            Ok(_) => report.quarantine_records += 1,
            Err(reason) => {
                report.quarantine_entries.damaged_records += 1;
                report.problem(dir.display(), format!("quarantine record {id}: {reason}"));
            }
        }
    }
    let (mut entries, _) = entries_of(records);
    for e in &mut entries {
        // Only the descriptions are needed from here on.
        e.payload = Vec::new();
        let counts = &mut report.quarantine_entries;
        match &e.state {
            EntryState::Unresolved => counts.unresolved += 1,
            EntryState::Resolved { .. } => counts.resolved += 1,
            EntryState::Dropped { .. } => counts.dropped += 1,
        }
        if let Some(note) = entry_note(e) {
            report.notes.push(note);
        }
    }
    entries
}

/// What verify says of a quarantine entry: damaged regions (never
/// replayable) and dropped entries; nothing for the others.
fn entry_note(e: &QuarantineEntry) -> Option<String> {
    let what = if e.is_damaged_region() {
        format!(
            "damaged message box region, LSN {}..={} ({} at byte {}), not replayable",
            e.source.lsns.0, e.source.lsns.1, e.source.segment, e.source.offset
        )
    } else {
        format!(
            "frame at LSN {} ({})",
            e.source.lsns.0,
            e.reasons.join("; ")
        )
    };
    let state = match &e.state {
        EntryState::Dropped {
            drop_reason,
            dropped_at,
        } => format!("dropped at {dropped_at}: {drop_reason}"),
        EntryState::Unresolved if e.is_damaged_region() => format!(
            "unresolved; once the loss is accounted for: bamdb quarantine drop {} --reason TEXT",
            e.id
        ),
        _ => return None,
    };
    Some(format!("quarantine entry {}: {what}; {state}", e.id))
}

/// The manifest, every import file it names (every record), and the
/// checkpoint.
fn verify_segments(storage: &dyn Storage, dir: &Path, report: &mut VerifyReport) {
    if !dir.is_dir() {
        return;
    }
    let manifest_path = dir.join(MANIFEST);
    let manifest = match Manifest::load(storage, dir) {
        Ok(Some(m)) => m,
        Ok(None) => {
            if let Ok(names) = storage.list_dir(dir) {
                let data: Vec<&String> = names
                    .iter()
                    .filter(|n| n.ends_with(".seg") || n.ends_with(".ckpt"))
                    .collect();
                if !data.is_empty() {
                    report.problem(
                        manifest_path.display(),
                        format!(
                            "missing, but {} import or checkpoint file(s) are present",
                            data.len()
                        ),
                    );
                }
            }
            return;
        }
        Err(e) => return report.problem(e.location(), e.reason()),
    };
    let archive = crate::bus::archive_dir(dir);
    let files = manifest
        .files
        .iter()
        .map(|n| (dir.to_path_buf(), n))
        .chain(manifest.archives.iter().map(|n| (archive.clone(), n)));
    for (dir, name) in files {
        let dir = dir.as_path();
        report.import_files += 1;
        let path = dir.join(name);
        let file = match ImportFile::open(storage, dir, name) {
            Ok(f) => f,
            Err(e) => {
                report.problem(e.location(), format!("import file: {}", e.reason()));
                continue;
            }
        };
        let mut read = 0u64;
        let mut damaged = false;
        for rec in file.records() {
            let checked = match rec {
                Ok(rec) => {
                    crate::bus::check_parts(&rec).map_err(|r| (path.display().to_string(), r))
                }
                Err(e) => Err((e.location(), e.reason())),
            };
            match checked {
                Ok(()) => read += 1,
                Err((location, reason)) => {
                    report.problem(location, format!("import file: {reason}"));
                    damaged = true;
                    break;
                }
            }
        }
        report.import_records += read;
        if !damaged {
            if let Err(e) = file.verify_sections() {
                report.problem(e.location(), format!("import file: {}", e.reason()));
                damaged = true;
            }
        }
        if !damaged && read != file.record_count {
            report.problem(
                path.display(),
                format!(
                    "import file: {read} records readable, the footer says {}",
                    file.record_count
                ),
            );
        }
    }
    let mut census = None;
    if let Some(name) = &manifest.checkpoint {
        report.checkpoint = true;
        let path = dir.join(name);
        census = verify_checkpoint(storage, &path, manifest.applied_lsn, report);
    }
    verify_active_runs(storage, dir, &manifest, census, report);
    if let Ok(names) = storage.list_dir(dir) {
        let stray: Vec<&String> = names
            .iter()
            .filter(|n| {
                n.as_str() != MANIFEST
                    && n.as_str() != "LOCK"
                    && !manifest.files.contains(n)
                    && manifest.checkpoint.as_ref() != Some(n)
                    && !manifest.active_runs.contains(n)
            })
            .collect();
        for n in stray {
            report.notes.push(format!(
                "{}: not named by the manifest (left by an interrupted checkpoint; removed when the store opens)",
                dir.join(n).display()
            ));
        }
    }
}

/// Checks the checkpoint; returns the census of the active runs it
/// records (version 3), if it read.
fn verify_checkpoint(
    storage: &dyn Storage,
    path: &Path,
    manifest_lsn: u64,
    report: &mut VerifyReport,
) -> Option<Census> {
    match read_checkpoint(storage, path) {
        Ok(snapshot) if snapshot.image.applied_lsn != manifest_lsn => {
            report.problem(
                path.display(),
                format!(
                    "checkpoint holds LSN {} but the manifest says {manifest_lsn}",
                    snapshot.image.applied_lsn
                ),
            );
            None
        }
        Ok(snapshot) if snapshot.legacy_nodes.is_empty() => Some(snapshot.image.census),
        Ok(_) => None,
        Err(e) => {
            report.problem(e.location(), format!("checkpoint: {}", e.reason()));
            None
        }
    }
}

/// Checks every active run (every block, index and filter), then that
/// the nodes they hold, merged, are what the checkpoint counted.
fn verify_active_runs(
    storage: &dyn Storage,
    dir: &Path,
    manifest: &Manifest,
    census: Option<Census>,
    report: &mut VerifyReport,
) {
    let mut runs = Vec::new();
    for name in &manifest.active_runs {
        report.active_runs += 1;
        let run = ActiveRun::open(storage, dir, name).and_then(|run| {
            run.verify()?;
            Ok(run)
        });
        match run {
            Ok(run) => runs.push(Arc::new(run)),
            Err(e) => report.problem(e.location(), format!("active run: {}", e.reason())),
        }
    }
    if runs.len() != manifest.active_runs.len() {
        return;
    }
    match census_of_runs(&runs) {
        Err(e) => report.problem(e.location(), format!("active run: {}", e.reason())),
        Ok(found) => {
            report.active_nodes = found.nodes();
            if census.is_some_and(|c| c != found) {
                report.problem(
                    dir.display(),
                    format!("the active runs hold {found:?} but the checkpoint counted {census:?}"),
                );
            }
        }
    }
}
