//! Checkpoints: completed instances go to a new import segment file, the
//! active state to a checkpoint file, then the manifest names both with the
//! applied LSN, and only then is the message box trimmed. Every file is
//! written atomically (temp, fsync, rename, directory fsync), so a crash at
//! any step leaves the previous manifest in force, and files it does not
//! name are removed at the next open.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use super::quarantine::{Quarantine, Record};
use super::state::{BusState, Snapshot};
use super::{lock, Shared};
use crate::segments::blob::{encode_blob, read_blob, write_atomically};
use crate::segments::file::{write_import_file, ImportFile};
use crate::segments::manifest::{Manifest, MANIFEST};
use crate::storage::Storage;
use crate::wal::Lsn;

const CHECKPOINT_MAGIC: [u8; 8] = *b"BAMDBCKP";
/// 2: nodes keep every link with its stamp, and the checkpoint names the
/// superseded records of amended instances.
const CHECKPOINT_VERSION: u32 = 2;
/// A checkpoint larger than this is refused when read (memory bound).
const MAX_CHECKPOINT: u64 = 4 << 30;

/// Reads and decodes a checkpoint file: the one reader, for opening a
/// store and for `verify`.
pub(crate) fn read_checkpoint(storage: &dyn Storage, path: &Path) -> Result<Snapshot, String> {
    let (version, body) =
        read_blob(storage, path, &CHECKPOINT_MAGIC, MAX_CHECKPOINT).map_err(|e| e.reason())?;
    if version != CHECKPOINT_VERSION {
        return Err(format!("unsupported version {version}"));
    }
    postcard::from_bytes(&body).map_err(|e| format!("does not decode: {e}"))
}

/// Takes a checkpoint, retrying transient failures; false if the bus must
/// halt.
pub(crate) fn run_with_retry(shared: &Shared) -> bool {
    shared.retry("checkpoint", || take(shared)).is_some()
}

fn take(shared: &Shared) -> Result<(), String> {
    let quarantine_next = shared.quarantine.next_id().map_err(|e| e.to_string())?;
    let (snapshot, completed, applied) = {
        let st = shared.read_state();
        let body = postcard::to_allocvec(&st.snapshot(quarantine_next))
            .map_err(|e| format!("encode checkpoint: {e}"))?;
        let completed: Vec<_> = st.memtable.values().cloned().collect();
        (body, completed, st.applied_lsn)
    };
    let storage = shared.storage.as_ref();
    let dir = &shared.segments_dir;
    let old = lock(&shared.manifest).clone();
    let mut manifest = old.clone();
    let mut new_file = None;
    if !completed.is_empty() {
        let name = format!("{:012}.seg", manifest.next_file);
        manifest.next_file += 1;
        write_import_file(storage, dir, &name, &completed).map_err(|e| e.to_string())?;
        new_file = Some(Arc::new(
            ImportFile::open(storage, dir, &name).map_err(|e| e.to_string())?,
        ));
        manifest.segments.push(name);
    }
    let ckpt = format!("{:012}.ckpt", manifest.next_file);
    manifest.next_file += 1;
    write_atomically(
        storage,
        dir,
        &ckpt,
        &encode_blob(&CHECKPOINT_MAGIC, CHECKPOINT_VERSION, &snapshot),
    )
    .map_err(|e| format!("write {ckpt}: {e}"))?;
    manifest.checkpoint = Some(ckpt);
    manifest.applied_lsn = applied;
    manifest
        .store(storage, dir)
        .map_err(|e| format!("write manifest: {e}"))?;

    // The manifest is durable: publish the new file, drop what it replaced.
    {
        let mut st = shared.write_state();
        if let Some(file) = new_file {
            st.files.push(file);
        }
        for rec in &completed {
            let key = (rec.activity.clone(), rec.id.clone());
            st.memtable.remove(&key);
            for token in &rec.continuations {
                st.aliases.remove(&(rec.activity.clone(), token.clone()));
            }
        }
    }
    *lock(&shared.manifest) = manifest;
    if let Some(previous) = old.checkpoint {
        // Garbage only; a failure here is cleaned up at the next open.
        if storage.remove_file(&dir.join(previous)).is_ok() {
            let _ = storage.sync_dir(dir);
        }
    }
    if let Err(e) = shared.wal.trim(applied) {
        tracing::warn!(error = %e, "message box trim failed; retried at the next checkpoint");
    }
    merge_if_needed(shared)?;
    super::retention::apply(shared)?;
    // Published last, so a caller that waits for it knows the whole
    // checkpoint (clean-up, trim, merge) is over.
    lock(&shared.progress).checkpointed = applied;
    Ok(())
}

/// Import files allowed before some are merged.
const MAX_FILES: usize = 8;
/// How many files one merge combines.
const MERGE_FANIN: usize = 4;
/// A merge reads its sources into memory: it takes at most this many
/// records, so its memory is bounded whatever the data size. Files that
/// reached this size are left alone; beyond them the number of files grows
/// by one per this many completed instances.
const MAX_MERGE_RECORDS: u64 = 40_000;

/// Keeps the number of small import files bounded: once more than
/// `MAX_FILES` files are smaller than half of `MAX_MERGE_RECORDS`, the
/// `MERGE_FANIN` smallest are merged into one (size-tiered, so each record
/// is rewritten about log4(n) times, not at every merge). The merged file
/// is written atomically, the manifest swapped to name it instead of its
/// sources, and only then are the sources deleted.
fn merge_if_needed(shared: &Shared) -> Result<(), String> {
    let sources: Vec<Arc<ImportFile>> = {
        let st = shared.read_state();
        let mut small: Vec<Arc<ImportFile>> = st
            .files
            .iter()
            .filter(|f| f.record_count < MAX_MERGE_RECORDS / 2)
            .cloned()
            .collect();
        if small.len() <= MAX_FILES {
            return Ok(());
        }
        small.sort_by_key(|f| f.record_count);
        let mut picked = Vec::new();
        let mut total = 0;
        for f in small.into_iter().take(MERGE_FANIN) {
            if total + f.record_count > MAX_MERGE_RECORDS && picked.len() >= 2 {
                break;
            }
            total += f.record_count;
            picked.push(f);
        }
        picked
    };
    let storage = shared.storage.as_ref();
    let dir = &shared.segments_dir;
    // Superseded records (old versions of amended instances) are left
    // out. Safe: a merge runs right after a checkpoint, so the durable
    // checkpoint already names them superseded, and their instances'
    // current versions are durable too.
    let mut records = Vec::new();
    for file in &sources {
        let superseded = shared.read_state().superseded_in(file);
        for rec in file.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            if !superseded.contains(&(rec.activity.clone(), rec.id.clone())) {
                records.push(Arc::new(rec));
            }
        }
    }
    let mut manifest = lock(&shared.manifest).clone();
    let name = format!("{:012}.seg", manifest.next_file);
    manifest.next_file += 1;
    write_import_file(storage, dir, &name, &records).map_err(|e| e.to_string())?;
    let merged = Arc::new(ImportFile::open(storage, dir, &name).map_err(|e| e.to_string())?);
    let source_names: HashSet<&str> = sources.iter().map(|f| f.name.as_str()).collect();
    manifest
        .segments
        .retain(|n| !source_names.contains(n.as_str()));
    manifest.segments.push(name);
    manifest
        .store(storage, dir)
        .map_err(|e| format!("write manifest: {e}"))?;
    {
        let mut st = shared.write_state();
        st.files.retain(|f| !source_names.contains(f.name.as_str()));
        st.files.push(merged);
        st.forget_superseded(source_names.iter().copied());
    }
    *lock(&shared.manifest) = manifest;
    // Garbage only from here: a failure is cleaned up at the next open.
    for file in &sources {
        let _ = storage.remove_file(&file.path);
    }
    let _ = storage.sync_dir(dir);
    tracing::debug!(
        files = sources.len(),
        records = records.len(),
        "import files merged"
    );
    Ok(())
}

/// What a store opens with.
pub(crate) struct Opened {
    pub state: BusState,
    pub manifest: Manifest,
    /// Message box LSNs already quarantined after the checkpoint.
    pub quarantined: HashSet<Lsn>,
}

/// Loads the manifest, the import files and the checkpoint, and removes
/// files an interrupted checkpoint left behind.
pub(crate) fn open_state(
    storage: &dyn Storage,
    dir: &Path,
    quarantine: &Quarantine,
) -> Result<Opened, String> {
    let manifest = Manifest::load(storage, dir)
        .map_err(|e| e.to_string())?
        .unwrap_or(Manifest {
            next_file: 1,
            ..Manifest::default()
        });
    let mut files = Vec::with_capacity(manifest.segments.len());
    for name in &manifest.segments {
        let file = ImportFile::open(storage, dir, name).map_err(|e| format!("import file {e}"))?;
        files.push(Arc::new(file));
    }
    let snapshot: Snapshot = match &manifest.checkpoint {
        None => Snapshot::default(),
        Some(name) => {
            let path = dir.join(name);
            read_checkpoint(storage, &path)
                .map_err(|e| format!("checkpoint {}: {e}", path.display()))?
        }
    };
    if snapshot.applied_lsn != manifest.applied_lsn && manifest.checkpoint.is_some() {
        return Err(format!(
            "checkpoint holds LSN {} but the manifest says {}",
            snapshot.applied_lsn, manifest.applied_lsn
        ));
    }
    let quarantine_next = snapshot.quarantine_next.max(1);
    let state = BusState::restore(snapshot, files)?;

    // Files the manifest does not name are left from an interrupted
    // checkpoint: remove them.
    let live: HashSet<&str> = manifest
        .segments
        .iter()
        .map(String::as_str)
        .chain(manifest.checkpoint.as_deref())
        .chain([MANIFEST])
        .collect();
    let names = storage
        .list_dir(dir)
        .map_err(|e| format!("list {}: {e}", dir.display()))?;
    let mut removed = false;
    for name in names
        .iter()
        .filter(|n| !live.contains(n.as_str()) && *n != "LOCK")
    {
        storage
            .remove_file(&dir.join(name))
            .map_err(|e| format!("remove stale {name}: {e}"))?;
        removed = true;
    }
    if removed {
        storage
            .sync_dir(dir)
            .map_err(|e| format!("fsync {}: {e}", dir.display()))?;
    }

    // The same for archive files an interrupted retention pass left.
    let archive = super::retention::archive_dir(dir);
    if let Ok(names) = storage.list_dir(&archive) {
        let live: HashSet<&str> = manifest.archives.iter().map(String::as_str).collect();
        let mut removed = false;
        for name in names.iter().filter(|n| !live.contains(n.as_str())) {
            storage
                .remove_file(&archive.join(name))
                .map_err(|e| format!("remove stale archive {name}: {e}"))?;
            removed = true;
        }
        if removed {
            storage
                .sync_dir(&archive)
                .map_err(|e| format!("fsync {}: {e}", archive.display()))?;
        }
    }

    let mut sources = HashSet::new();
    let records = quarantine
        .records(quarantine_next)
        .map_err(|e| format!("quarantine: {e}"))?;
    for (_, rec) in records {
        match rec {
            Ok(Record::Entry { source, .. }) => {
                sources.insert(source.lsns.0);
            }
            Ok(Record::Resolved { lsn, .. }) | Ok(Record::ReplayFailed { lsn, .. }) => {
                sources.insert(lsn);
            }
            // A drop comes from the operator, not from a message box frame.
            Ok(Record::Dropped { .. }) | Err(_) => {}
        }
    }
    Ok(Opened {
        state,
        manifest,
        quarantined: sources,
    })
}
