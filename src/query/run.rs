//! Running a search or an aggregation over a store: the instances held in
//! memory (active ones, and completed ones not yet in a file) row by row,
//! and each import file through its column projection, or its records
//! where the projection cannot answer.
//!
//! A query copies what it needs from the store's state (the in-memory
//! instances, and the list of files) into a [`Snapshot`] under the state's
//! read lock, then scans the files without it: files never change, and a
//! file merged or retired away meanwhile stays readable through its map
//! until the query lets go of it. So a long scan, or the first one that
//! builds the column projections, does not hold up the import.
//!
//! The state is read through [`Source`], which the store implements for
//! the bus's state: this module knows neither the bus nor the store.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::model::{ActivityInstance, Status, StatusFilter, Timestamp};
use crate::segments::columns::ColumnId;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::record::StoredValue;
use crate::segments::stored_columns::ColumnRef;

use super::aggregate::{Aggregate, AggregateRun, Groups};
use super::field::{Field, ValueRef};
use super::search::{Row, Search};
use super::selection::Selection;

/// What a query reads of the store's state.
pub(crate) trait Source {
    /// The visible instances of `activity` held in memory (active ones, and
    /// completed ones not yet in a file) that `status` admits.
    fn instances_in_memory(&self, activity: &str, status: StatusFilter) -> Vec<ActivityInstance>;

    /// The live import files, oldest first.
    fn import_files(&self) -> &[Arc<ImportFile>];

    /// The ids of the records of `activity` in `file` that are old versions
    /// of amended instances, to be skipped (usually none).
    fn superseded_in(&self, file: &ImportFile, activity: &str) -> BTreeSet<String>;
}

/// The column a field reads, if it is one (`id` and `status` are not).
fn column_id(field: &Field) -> Option<ColumnId<'_>> {
    match field {
        Field::Begin => Some(ColumnId::Begin),
        Field::End => Some(ColumnId::End),
        Field::LastModified => Some(ColumnId::LastModified),
        Field::Item(name) => Some(ColumnId::Item(name)),
        Field::Id | Field::Status => None,
    }
}

/// The columns a selection reads: its filters' fields, and
/// `last_modified` for a time range.
fn selection_columns(selection: &Selection) -> Vec<ColumnId<'_>> {
    let mut wanted: Vec<ColumnId<'_>> = selection
        .filters
        .iter()
        .filter_map(|f| column_id(f.field()))
        .collect();
    if selection.since.is_some() || selection.until.is_some() {
        wanted.push(ColumnId::LastModified);
    }
    wanted
}

/// Whether `file` holds nothing `selection` selects, judged from the value
/// ranges in its column directory alone (files of version 3): then a
/// query skips the file without decoding a column or reading a record.
fn rules_out(file: &ImportFile, selection: &Selection) -> Result<bool, ImportFileError> {
    let Some(dir) = file.column_directory()? else {
        return Ok(false);
    };
    let Some(act) = dir.activities.iter().find(|a| a.name == selection.activity) else {
        return Ok(true);
    };
    // `None`: the field has no range here (id, status); `Some(None)`: no
    // row sets it.
    let column = |field: &Field| -> Option<Option<&ColumnRef>> {
        match field {
            Field::Begin => Some(Some(&act.begin)),
            Field::End => Some(Some(&act.end)),
            Field::LastModified => Some(Some(&act.last_modified)),
            Field::Item(name) => Some(act.items.iter().find(|(n, _)| n == name).map(|(_, c)| c)),
            Field::Id | Field::Status => None,
        }
    };
    fn value(v: &StoredValue) -> ValueRef<'_> {
        match v {
            StoredValue::Text(s) => ValueRef::Text(s),
            StoredValue::Int(i) => ValueRef::Int(*i),
            StoredValue::Float(f) => ValueRef::Float(*f),
            StoredValue::Bool(b) => ValueRef::Bool(*b),
            StoredValue::Timestamp(t) => ValueRef::Timestamp(Timestamp::from_micros(*t)),
        }
    }
    for filter in &selection.filters {
        if filter.matches_value(None) {
            // Unset rows may pass: the range decides nothing.
            continue;
        }
        match column(filter.field()) {
            None => {}
            Some(None) => return Ok(true),
            Some(Some(c)) => {
                if let Some((lo, hi)) = &c.range {
                    if !filter.may_match_range(value(lo), value(hi)) {
                        return Ok(true);
                    }
                }
            }
        }
    }
    if let Some((StoredValue::Timestamp(lo), StoredValue::Timestamp(hi))) = &act.last_modified.range
    {
        let (lo, hi) = (Timestamp::from_micros(*lo), Timestamp::from_micros(*hi));
        if selection.since.is_some_and(|s| hi < s) || selection.until.is_some_and(|u| lo >= u) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a query reads, as of one moment: the matching instances held in
/// memory, and the import files.
pub(crate) struct Snapshot {
    in_memory: Vec<ActivityInstance>,
    /// Each file, with the ids of its records that are old versions of
    /// amended instances (to be skipped; usually none).
    files: Vec<(Arc<ImportFile>, BTreeSet<String>)>,
}

impl Snapshot {
    /// Takes it; the caller holds the state's read lock only for this.
    pub(crate) fn take(source: &dyn Source, activity: &str, status: StatusFilter) -> Snapshot {
        Snapshot {
            in_memory: source.instances_in_memory(activity, status),
            files: if status.admits(Status::Completed) {
                source
                    .import_files()
                    .iter()
                    .map(|file| (file.clone(), source.superseded_in(file, activity)))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// The file's instances of `activity`, without the superseded ones.
fn current_instances(
    file: &ImportFile,
    activity: &str,
    superseded: &BTreeSet<String>,
) -> Result<Vec<ActivityInstance>, ImportFileError> {
    let mut all = file.instances_of(activity)?;
    if !superseded.is_empty() {
        all.retain(|i| !superseded.contains(&i.id));
    }
    Ok(all)
}

/// Runs `search` over the snapshot; an error names a file that could not
/// be read.
pub(crate) fn search(snapshot: Snapshot, search: &Search) -> Result<Vec<Row>, ImportFileError> {
    let mut candidates = snapshot.in_memory;
    for (file, superseded) in &snapshot.files {
        if rules_out(file, search)? {
            continue;
        }
        let wanted = selection_columns(search);
        let Some(cols) = file.activity_columns(&search.activity, &wanted)? else {
            continue;
        };
        let cols = &cols;
        // The column projection has no ids to skip superseded records by:
        // a file that holds some is read record by record.
        let selected = if superseded.is_empty() {
            search.select_columns(cols)
        } else {
            None
        };
        match selected {
            Some(rows) => {
                for row in rows {
                    let offset = cols.offsets.get(row as usize).unwrap_or(0);
                    let rec = file.record(offset)?;
                    candidates.push(rec.into_instance());
                }
                // The pages of the selected records stay mapped: the
                // next search would fault them in again, and they are
                // few (a full scan of the records releases its pages).
            }
            None => candidates.extend(current_instances(file, &search.activity, superseded)?),
        }
    }
    Ok(search.run(candidates))
}

/// Below this many records in the files a query reads, one thread scans
/// them all: starting a second costs more than it saves.
const PARALLEL_MIN_RECORDS: u64 = 50_000;

/// Feeds the snapshot to an aggregation; the caller finishes it (which
/// can fail on an overflow, a query error rather than damage).
///
/// Files are read through their column projections on up to two threads
/// (each with its own groups, merged after: the accumulators merge
/// exactly, so the answer does not depend on the split); files the
/// projection cannot answer are then read record by record.
pub(crate) fn aggregate(
    snapshot: Snapshot,
    agg: &Aggregate,
) -> Result<AggregateRun<'_>, ImportFileError> {
    let mut run = agg.start();
    let fields = run.fields();
    run.add_rows(snapshot.in_memory);
    let mut wanted = selection_columns(agg);
    wanted.extend(fields.iter().filter_map(column_id));
    let records: u64 = snapshot.files.iter().map(|(f, _)| f.record_count).sum();
    let threads = if records >= PARALLEL_MIN_RECORDS {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
    } else {
        1
    };
    // Each worker takes every `threads`th file; it returns its groups and
    // the files it could not answer from columns.
    let scan = |worker: usize| -> Result<(Groups, Vec<usize>), ImportFileError> {
        let mut groups = Groups::new();
        let mut by_records = Vec::new();
        for (i, (file, superseded)) in snapshot.files.iter().enumerate() {
            if i % threads != worker || rules_out(file, agg)? {
                continue;
            }
            let Some(cols) = file.activity_columns(&agg.activity, &wanted)? else {
                continue;
            };
            if !superseded.is_empty() || !run.add_columns_to(&cols, &mut groups) {
                by_records.push(i);
            }
        }
        Ok((groups, by_records))
    };
    let results: Vec<Result<(Groups, Vec<usize>), ImportFileError>> = if threads == 1 {
        vec![scan(0)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads).map(|w| scope.spawn(move || scan(w))).collect();
            let mut results = vec![scan(0)];
            for handle in handles {
                // A worker's panic is a bug: it goes on as the caller's,
                // as it would have with one thread.
                match handle.join() {
                    Ok(result) => results.push(result),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            results
        })
    };
    let mut by_records = Vec::new();
    for result in results {
        let (groups, files) = result?;
        run.merge_groups(groups);
        by_records.extend(files);
    }
    by_records.sort_unstable();
    for i in by_records {
        if let Some((file, superseded)) = snapshot.files.get(i) {
            run.add_rows(current_instances(file, &agg.activity, superseded)?);
        }
    }
    Ok(run)
}
