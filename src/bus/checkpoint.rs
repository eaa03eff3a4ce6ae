//! Checkpoints, and opening the state they leave. A checkpoint writes the
//! completed instances to a new import file and the active state to a
//! checkpoint file, and the manifest names both with the applied LSN (one
//! edit of the file set, see `file_set`); only then is the message box
//! trimmed. Then the merge policy and retention run. Opening reads the
//! manifest, the import files and the checkpoint, and removes the files an
//! interrupted edit left behind.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::file_set::{checkpoint_blob, Edit, WriteRun};
use super::image::{read_checkpoint, Checkpoint};
use super::nodes::{entry, RELEASE_EVERY};
use super::quarantine::{Quarantine, Record};
use super::state::{BusState, Key};
use super::Bus;
use crate::error::StoreError;
use crate::fast_hash::FastSet;
use crate::segments::active_run::{merge_runs, write_run, ActiveRun};
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::manifest::{Manifest, MANIFEST};
use crate::segments::record::StoredInstance;
use crate::storage::Storage;
use crate::wal::Lsn;

/// Takes a checkpoint, retrying transient failures; false if the bus must
/// halt.
pub(crate) fn run_with_retry(bus: &Bus) -> bool {
    bus.retry("checkpoint", || take(bus)).is_some()
}

fn take(bus: &Bus) -> Result<(), StoreError> {
    // The checkpoint's buffers (the completed instances, the encoded dirty
    // nodes, the image) are freed when `publish` returns, before the merges
    // below read and write files of their own: their memory never adds up.
    let applied = publish(bus)?;
    if let Err(e) = bus.wal.trim(applied) {
        tracing::warn!(error = %e, "message box trim failed; retried at the next checkpoint");
    }
    merge_runs_if_needed(bus)?;
    super::merge::merge_if_needed(bus)?;
    super::retention::apply(bus)?;
    release_pages(bus);
    // Published last, so a caller that waits for it knows the whole
    // checkpoint (clean-up, trim, merge) is over.
    bus.publish_checkpointed(applied);
    Ok(())
}

/// Writes the completed instances to a new import file, the dirty nodes to
/// a new active run and the image to a checkpoint file, and publishes them
/// in one edit of the file set; returns the LSN the checkpoint covers.
fn publish(bus: &Bus) -> Result<Lsn, StoreError> {
    let quarantine_next = bus.quarantine.next_id()?;
    let encode_error = |what: &'static str, reason: String| ImportFileError::Encode {
        path: bus.files_dir.clone(),
        what,
        reason,
    };
    // Only the bus thread changes the state, and it is here: what is read
    // now is what the edit publishes.
    let (snapshot, completed, applied, dirty) = {
        let st = bus.read_state();
        let (dirty, census) = st
            .nodes
            .encode_dirty()
            .map_err(|e| encode_error("active run", e))?;
        let dirty: Vec<(Key, Option<Vec<u8>>)> =
            dirty.into_iter().map(|(k, v)| (k.clone(), v)).collect();
        let body = st
            .checkpoint_body(quarantine_next, census)
            .map_err(|e| encode_error("checkpoint", e.to_string()))?;
        let completed: Vec<_> = st.memtable.values().cloned().collect();
        (body, completed, st.applied_lsn, (dirty, census))
    };
    let (dirty, census) = dirty;
    let storage = bus.storage.as_ref();
    let dir = bus.files_dir.as_path();
    let write_run: Option<WriteRun<'_>> = if dirty.is_empty() {
        None
    } else {
        let dirty = &dirty;
        Some(Box::new(move |name: &str| {
            let entries = dirty.iter().map(|(k, v)| Ok(entry(k, v.as_deref())));
            write_run(storage, dir, name, dirty.len() as u64, entries).map(|_| ())
        }))
    };
    let edit = Edit {
        add: if completed.is_empty() {
            Vec::new()
        } else {
            vec![completed.clone()]
        },
        checkpoint: Some((checkpoint_blob(&snapshot), applied)),
        write_run,
        ..Edit::default()
    };
    // Once the manifest names the new file, its records leave the memtable;
    // once it names the new run, the dirty set is empty.
    bus.edit_files(edit, |st, run| {
        // The written records by identity: nothing changed the memtable
        // since they were read (the bus thread is here), and finding them
        // by pointer copies no key.
        let written: FastSet<*const StoredInstance> = completed.iter().map(Arc::as_ptr).collect();
        st.memtable
            .retain(|_, rec| !written.contains(&Arc::as_ptr(rec)));
        for rec in completed.iter().filter(|r| !r.continuations.is_empty()) {
            for token in &rec.continuations {
                st.aliases.remove(&(rec.activity.clone(), token.clone()));
            }
        }
        st.nodes.checkpointed(run, census);
    })?;
    Ok(applied)
}

/// Drops the pages of the active runs and import files that the frames
/// since the last checkpoint touched from the bus's resident set (the page
/// cache keeps them): lookups touch pages all over the runs, and on kernels
/// that map a file's large folios whole, the resident set would otherwise
/// grow towards the size of the runs.
fn release_pages(bus: &Bus) {
    let st = bus.read_state();
    for run in st.nodes.runs() {
        run.release_pages();
    }
    for file in &st.files {
        file.release_pages();
    }
}

/// What a store opens with.
pub(crate) struct Opened {
    pub state: BusState,
    pub manifest: Manifest,
    /// Message box LSNs already quarantined after the checkpoint.
    pub quarantined: HashSet<Lsn>,
}

/// Loads the manifest, the import files and the checkpoint, and removes
/// files an interrupted edit of the file set left behind. I/O failures are
/// [`StoreError::Io`]; damage is [`StoreError::Corrupt`], located.
pub(crate) fn open_state(
    storage: &dyn Storage,
    dir: &Path,
    quarantine: &Quarantine,
) -> Result<Opened, StoreError> {
    let Loaded {
        state,
        manifest,
        quarantine_next,
    } = load_state(storage, dir)?;
    // Files the manifest does not name are left from an interrupted edit.
    let live: HashSet<&str> = manifest
        .files
        .iter()
        .map(String::as_str)
        .chain(manifest.active_runs.iter().map(String::as_str))
        .chain(manifest.checkpoint.as_deref())
        .chain([MANIFEST, "LOCK"])
        .collect();
    let names = storage.list_dir(dir).map_err(|source| StoreError::Io {
        op: "list",
        path: dir.to_path_buf(),
        source,
    })?;
    remove_unnamed(storage, dir, &names, &live)?;
    // The same in `archive/`, if retention ever made it.
    let archive = super::retention::archive_dir(dir);
    if let Ok(names) = storage.list_dir(&archive) {
        let live: HashSet<&str> = manifest.archives.iter().map(String::as_str).collect();
        remove_unnamed(storage, &archive, &names, &live)?;
    }

    let mut sources = HashSet::new();
    for (_, rec) in quarantine.records(quarantine_next)? {
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

/// Reads the state the manifest describes (its import files, active runs
/// and checkpoint) and changes nothing on disk: a writer's open goes on
/// from it, and a read-only snapshot ([`crate::StoreReader`]) is it.
pub(crate) fn load_state(storage: &dyn Storage, dir: &Path) -> Result<Loaded, StoreError> {
    let manifest = Manifest::load(storage, dir)?.unwrap_or(Manifest {
        next_file: 1,
        ..Manifest::default()
    });
    let mut files = Vec::with_capacity(manifest.files.len());
    for name in &manifest.files {
        files.push(Arc::new(ImportFile::open(storage, dir, name)?));
    }
    let mut runs = Vec::with_capacity(manifest.active_runs.len());
    for name in &manifest.active_runs {
        runs.push(Arc::new(ActiveRun::open(storage, dir, name)?));
    }
    let (snapshot, source) = match &manifest.checkpoint {
        None => (Checkpoint::default(), dir.join(MANIFEST)),
        Some(name) => {
            let path = dir.join(name);
            (read_checkpoint(storage, &path)?, path)
        }
    };
    if snapshot.image.applied_lsn != manifest.applied_lsn && manifest.checkpoint.is_some() {
        return Err(StoreError::Corrupt {
            location: source.display().to_string(),
            reason: format!(
                "checkpoint holds LSN {} but the manifest says {}",
                snapshot.image.applied_lsn, manifest.applied_lsn
            ),
        });
    }
    let quarantine_next = snapshot.image.quarantine_next.max(1);
    let state = BusState::restore(snapshot, files, runs, &source)?;
    Ok(Loaded {
        state,
        manifest,
        quarantine_next,
    })
}

/// What [`load_state`] read.
pub(crate) struct Loaded {
    pub state: BusState,
    pub manifest: Manifest,
    /// The quarantine entry the checkpoint expects next.
    pub quarantine_next: u64,
}

/// Removes the files of `dir` (its listing: `names`) not in `live`, then
/// syncs the directory.
fn remove_unnamed(
    storage: &dyn Storage,
    dir: &Path,
    names: &[String],
    live: &HashSet<&str>,
) -> Result<(), StoreError> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| StoreError::Io { op, path, source }
    };
    let mut removed = false;
    for name in names.iter().filter(|n| !live.contains(n.as_str())) {
        let path = dir.join(name);
        storage
            .remove_file(&path)
            .map_err(io("remove stale file", &path))?;
        removed = true;
    }
    if removed {
        storage.sync_dir(dir).map_err(io("fsync directory", dir))?;
    }
    Ok(())
}

/// More runs than this are merged into one whatever their sizes: each run
/// costs a lookup a Bloom probe and a scan a merge input.
const MAX_RUNS: usize = 20;

/// How many runs of one size tier are merged into one.
const MERGE_WIDTH: usize = 4;

/// Which runs to merge, given their sizes (oldest first): the newest
/// *tier* (a stretch of runs of similar size: each at most twice the
/// largest newer one in it) that holds [`MERGE_WIDTH`] runs. Runs so grow
/// by a factor of about four per merge, and a node is rewritten about
/// log4(state / change) times: a checkpoint that changed 1% of the nodes
/// writes about that 1%, now and then a merge of runs of one tier, and
/// rarely the whole state.
pub(super) fn runs_to_merge(sizes: &[u64]) -> Option<Range<usize>> {
    let n = sizes.len();
    if n > MAX_RUNS {
        return Some(0..n);
    }
    let mut end = n;
    while end > 0 {
        let mut from = end - 1;
        let mut largest = *sizes.get(from)?;
        while let Some(&before) = from.checked_sub(1).and_then(|i| sizes.get(i)) {
            if before > largest.saturating_mul(2) {
                break;
            }
            from -= 1;
            largest = largest.max(before);
        }
        if end - from >= MERGE_WIDTH {
            return Some(from..end);
        }
        end = from;
    }
    None
}

/// Merges the newest active runs into one when [`runs_to_merge`] says so
/// (one edit of the file set: the merged run replaces them in the
/// manifest, then they are deleted). Tombstones are dropped when the
/// merge includes the oldest run: nothing older is left for them to hide.
fn merge_runs_if_needed(bus: &Bus) -> Result<(), StoreError> {
    let runs: Vec<Arc<ActiveRun>> = bus.read_state().nodes.runs().to_vec();
    let sizes: Vec<u64> = runs.iter().map(|r| r.bytes).collect();
    let entries: u64 = runs.iter().map(|r| r.entries).sum();
    let tombstones: u64 = runs.iter().map(|r| r.tombstones).sum();
    // Once a third of the entries are tombstones (instances completed),
    // every run is merged, which drops them: scans of active instances
    // would otherwise walk through them.
    let range = if runs.len() >= 2 && tombstones.saturating_mul(3) >= entries {
        Some(0..runs.len())
    } else {
        runs_to_merge(&sizes)
    };
    let Some(range) = range else {
        return Ok(());
    };
    let keep_tombstones = range.start > 0;
    let chosen: Vec<Arc<ActiveRun>> = runs.get(range).unwrap_or_default().to_vec();
    let expected: u64 = chosen.iter().map(|r| r.entries).sum();
    let storage = bus.storage.as_ref();
    let dir = bus.files_dir.as_path();
    let sources = &chosen;
    let edit = Edit {
        write_run: Some(Box::new(move |name: &str| {
            for run in sources {
                run.read_sequentially();
            }
            let mut read = 0u64;
            let entries = merge_runs(sources)
                .inspect(|_| {
                    read += 1;
                    if read % RELEASE_EVERY == 0 {
                        for run in sources {
                            run.release_pages();
                        }
                    }
                })
                .filter(|e| keep_tombstones || !matches!(e, Ok(e) if e.value.is_none()));
            let written = write_run(storage, dir, name, expected, entries).map(|_| ());
            for run in sources {
                run.release_pages();
            }
            written
        })),
        remove_runs: chosen.clone(),
        ..Edit::default()
    };
    bus.edit_files(edit, |_, _| {})?;
    tracing::debug!(runs = chosen.len(), "active runs merged");
    Ok(())
}
