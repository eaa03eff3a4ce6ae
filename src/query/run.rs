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

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use crate::model::{ActivityInstance, Status, StatusFilter, Timestamp};
use crate::segments::columns::{ActivityColumns, Column, ColumnId, UNSET};
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;
use crate::segments::record::StoredValue;
use crate::segments::stored_columns::{ColumnRef, Directory};

use super::aggregate::{Aggregate, AggregateRun, Groups};
use super::expr::Knowledge;
use super::field::{Field, ValueRef};
use super::filter::Filter;
use super::order::{cmp_keys, Key};
use super::search::{Search, SearchPage};
use super::selection::Selection;

/// What a query reads of the store's state.
pub(crate) trait Source {
    /// The visible instances of `activity` held in memory (active ones, and
    /// completed ones not yet in a file) that `status` admits.
    /// With `first = (selection, n)`, the active ones may be only the
    /// first `n` in id order that `selection` selects (enough for a search
    /// of active instances with a limit: they sort by id). An error names
    /// an active run that could not be read.
    fn instances_in_memory(
        &self,
        activity: &str,
        status: StatusFilter,
        first: Option<(&Selection, usize)>,
    ) -> Result<Vec<ActivityInstance>, ImportFileError>;

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
    let mut wanted: Vec<ColumnId<'_>> = Vec::new();
    for id in selection
        .filters
        .iter()
        .flat_map(Filter::fields)
        .filter_map(column_id)
    {
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    if selection.since.is_some() || selection.until.is_some() {
        wanted.push(ColumnId::LastModified);
    }
    wanted
}

/// What a query reads of one file.
#[derive(Debug, PartialEq)]
enum FileScan {
    /// Nothing: the file holds no row the query selects.
    Skip,
    /// Every row of the activity.
    All,
    /// These runs of rows (ascending, disjoint): the blocks whose value
    /// ranges could not rule the query out (files of version 4).
    Rows(Vec<Range<usize>>),
}

impl FileScan {
    /// The runs to evaluate, `None` for every row.
    fn runs(&self) -> Option<&[Range<usize>]> {
        match self {
            FileScan::Rows(runs) => Some(runs),
            FileScan::Skip | FileScan::All => None,
        }
    }
}

/// What a column directory says about a field's values over some rows.
enum Known<'a> {
    /// Nothing (no range kept, or `id` and `status`).
    Nothing,
    /// No row sets it.
    Unset,
    /// The smallest and largest set value.
    Range(&'a StoredValue, &'a StoredValue),
}

fn value(v: &StoredValue) -> ValueRef<'_> {
    match v {
        StoredValue::Text(s) => ValueRef::Text(s),
        StoredValue::Int(i) => ValueRef::Int(*i),
        StoredValue::Float(f) => ValueRef::Float(*f),
        StoredValue::Bool(b) => ValueRef::Bool(*b),
        StoredValue::Timestamp(t) => ValueRef::Timestamp(Timestamp::from_micros(*t)),
    }
}

/// Whether no row that `known` describes can be selected: a filter that
/// rejects unset values over a field no row sets or whose range it
/// cannot match, or a time range outside `last_modified`'s.
fn excludes<'a>(selection: &Selection, known: impl Fn(&Field) -> Known<'a>) -> bool {
    let knowledge = |field: &Field| match known(field) {
        Known::Nothing => Knowledge::Nothing,
        Known::Unset => Knowledge::Unset,
        Known::Range(lo, hi) => Knowledge::Range(value(lo), value(hi)),
    };
    if selection.filters.iter().any(|f| !f.may_match(&knowledge)) {
        return true;
    }
    if selection.since.is_none() && selection.until.is_none() {
        return false;
    }
    // A time range selects only rows with a `last_modified` inside it.
    match known(&Field::LastModified) {
        Known::Nothing => false,
        Known::Unset => true,
        Known::Range(StoredValue::Timestamp(lo), StoredValue::Timestamp(hi)) => {
            let (lo, hi) = (Timestamp::from_micros(*lo), Timestamp::from_micros(*hi));
            selection.since.is_some_and(|s| hi < s) || selection.until.is_some_and(|u| lo >= u)
        }
        Known::Range(..) => false,
    }
}

/// Which rows of `file` a query must evaluate, judged from the value
/// ranges in its column directory alone (files of version 3 and later):
/// the file is skipped when its ranges rule the selection out, and in
/// files of version 4 so is each block of rows whose ranges do, without
/// decoding a column or reading a record. Older files are read whole.
fn plan_scan(file: &ImportFile, selection: &Selection) -> Result<FileScan, ImportFileError> {
    Ok(match file.column_directory()? {
        Some(dir) => plan_scan_in(&dir, selection),
        None => FileScan::All,
    })
}

/// [`plan_scan`] over a file's column directory.
fn plan_scan_in(dir: &Directory, selection: &Selection) -> FileScan {
    let Some(act) = dir.activities.iter().find(|a| a.name == selection.activity) else {
        return FileScan::Skip;
    };
    // The column a field reads: `None` for id and status, `Some(None)`
    // for an item no row sets.
    let column = |field: &Field| -> Option<Option<&ColumnRef>> {
        match field {
            Field::Begin => Some(Some(&act.begin)),
            Field::End => Some(Some(&act.end)),
            Field::LastModified => Some(Some(&act.last_modified)),
            Field::Item(name) => Some(act.items.iter().find(|(n, _)| n == name).map(|(_, c)| c)),
            Field::Id | Field::Status => None,
        }
    };
    let whole = |field: &Field| match column(field) {
        None => Known::Nothing,
        Some(None) => Known::Unset,
        Some(Some(c)) => match &c.range {
            Some((lo, hi)) => Known::Range(lo, hi),
            None => Known::Nothing,
        },
    };
    if excludes(selection, whole) {
        return FileScan::Skip;
    }
    let block_rows = dir.block_rows as usize;
    if block_rows == 0
        || (selection.filters.is_empty() && selection.since.is_none() && selection.until.is_none())
    {
        return FileScan::All;
    }
    let rows = usize::try_from(act.rows).unwrap_or(usize::MAX);
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (block, start) in (0..rows).step_by(block_rows).enumerate() {
        let of_block = |field: &Field| match column(field) {
            None => Known::Nothing,
            Some(None) => Known::Unset,
            Some(Some(c)) => match c.blocks.get(block) {
                Some(Some((lo, hi))) => Known::Range(lo, hi),
                Some(None) => Known::Unset,
                // No block ranges kept for this column.
                None => Known::Nothing,
            },
        };
        if excludes(selection, of_block) {
            continue;
        }
        let end = start.saturating_add(block_rows).min(rows);
        match runs.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => runs.push(start..end),
        }
    }
    match runs.as_slice() {
        [] => FileScan::Skip,
        [only] if only.start == 0 && only.end == rows => FileScan::All,
        _ => FileScan::Rows(runs),
    }
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
    /// Splits it into `n` (at least 1) snapshots that together hold what
    /// it held, each thing once: the instances held in memory go to the
    /// first, the files are dealt round robin. For reading one snapshot's
    /// instances on several threads ([`Scan`] over each).
    pub(crate) fn split(self, n: usize) -> Vec<Snapshot> {
        let n = n.max(1);
        let mut parts: Vec<Snapshot> = (0..n)
            .map(|_| Snapshot {
                in_memory: Vec::new(),
                files: Vec::new(),
            })
            .collect();
        parts[0].in_memory = self.in_memory;
        for (i, file) in self.files.into_iter().enumerate() {
            parts[i % n].files.push(file);
        }
        parts
    }

    /// Takes it; the caller holds the state's read lock only for this.
    pub(crate) fn take(
        source: &dyn Source,
        activity: &str,
        status: StatusFilter,
    ) -> Result<Snapshot, ImportFileError> {
        Snapshot::take_first(source, activity, status, None)
    }

    /// [`Snapshot::take`] for a search: one ordered by `end` alone, with
    /// no cursor, that can return `n` rows (offset, limit and one more)
    /// reads only the first `n` active instances it selects (active
    /// instances have no end, so they sort by id, the order a scan of them
    /// reads, and after every completed one: no more than `n` of them can
    /// be returned).
    pub(crate) fn for_search(
        source: &dyn Source,
        search: &Search,
    ) -> Result<Snapshot, ImportFileError> {
        let first = match (search.status, search.depth()) {
            (StatusFilter::Active | StatusFilter::All, Some(n))
                if search.order().is_by_end() && search.after.is_none() =>
            {
                Some((&search.selection, n))
            }
            _ => None,
        };
        Snapshot::take_first(source, &search.activity, search.status, first)
    }

    /// Adds instances read elsewhere (the archive) to those the query
    /// reads row by row.
    pub(crate) fn add_instances(&mut self, more: Vec<ActivityInstance>) {
        self.in_memory.extend(more);
    }

    fn take_first(
        source: &dyn Source,
        activity: &str,
        status: StatusFilter,
        first: Option<(&Selection, usize)>,
    ) -> Result<Snapshot, ImportFileError> {
        Ok(Snapshot {
            in_memory: source.instances_in_memory(activity, status, first)?,
            files: if status.admits(Status::Completed) {
                source
                    .import_files()
                    .iter()
                    .map(|file| (file.clone(), source.superseded_in(file, activity)))
                    .collect()
            } else {
                Vec::new()
            },
        })
    }
}

/// The file's instances of `activity`, without the superseded ones, read
/// record by record: every one, or those of the rows `scan` keeps (their
/// offsets from `cols`), so that skipped blocks' records are not read.
fn current_instances(
    file: &ImportFile,
    cols: &ActivityColumns,
    scan: &FileScan,
    activity: &str,
    superseded: &BTreeSet<String>,
) -> Result<Vec<ActivityInstance>, ImportFileError> {
    let mut all = match scan.runs() {
        None => file.instances_of(activity)?,
        Some(runs) => {
            let mut out = Vec::new();
            for row in runs.iter().flat_map(|r| r.clone()) {
                let rec = file.record(cols.offsets.get(row).unwrap_or(0))?;
                if rec.activity == activity {
                    out.push(rec.into_instance());
                }
            }
            file.release_pages();
            out
        }
    };
    if !superseded.is_empty() {
        all.retain(|i| !superseded.contains(&i.id));
    }
    Ok(all)
}

/// Runs `search` over the snapshot; an error names a file that could not
/// be read.
///
/// With a limit, the rows a file's projection selects are not all read:
/// only the first `offset + limit + 1` rows of the order can be returned
/// (the one more tells whether a next page exists), so only the rows whose
/// first order key is at or before the one at that depth among every
/// file's selected rows after the cursor can be (the ties at that key are
/// all kept, for the later keys and the id to decide). With a cursor, rows
/// whose first key is before the cursor's are left out, and those whose
/// first key equals it are all read. Those records are read, the rest
/// never are. A first key that is no column (`id`, `status`), or a text
/// column with too many distinct values to project, reads every selected
/// record.
pub(crate) fn search(snapshot: &Snapshot, search: &Search) -> Result<SearchPage, ImportFileError> {
    Ok(search_reporting(snapshot, search)?.0)
}

/// [`search`], and whether some file's selected records were all read
/// (no column told the first order key, or the projection could not
/// select), or more rows than the page tied with the cursor's first key:
/// a caller paging through the snapshot then does better to read the rest
/// in one page than to read them again for every page.
pub(crate) fn search_reporting(
    snapshot: &Snapshot,
    search: &Search,
) -> Result<(SearchPage, bool), ImportFileError> {
    let mut read_whole = false;
    let order = search.order();
    let (first_field, descending) = order.first();
    let first_column = column_id(first_field);
    let depth = search.depth();
    let mut candidates: Vec<Cow<'_, ActivityInstance>> =
        snapshot.in_memory.iter().map(Cow::Borrowed).collect();
    // The files whose selected rows a limited search judges by their
    // first order key: (snapshot index, columns, selected rows).
    let mut judged: Vec<(usize, ActivityColumns, Vec<u32>)> = Vec::new();
    let mut wanted = selection_columns(search);
    if let (Some(_), Some(id)) = (depth, first_column) {
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    for (index, (file, superseded)) in snapshot.files.iter().enumerate() {
        let scan = plan_scan(file, search)?;
        if scan == FileScan::Skip {
            continue;
        }
        let Some(cols) = file.activity_columns(&search.activity, &wanted, scan.runs())? else {
            continue;
        };
        // The column projection has no ids to skip superseded records by:
        // a file that holds some is read record by record.
        let selected = if superseded.is_empty() {
            search.select_columns(&cols, scan.runs())
        } else {
            None
        };
        let keyed =
            depth.is_some() && first_column.is_some_and(|id| order_column(&cols, id).is_some());
        match selected {
            Some(rows) if keyed => judged.push((index, cols, rows)),
            Some(rows) => {
                read_whole = true;
                for row in rows {
                    let offset = cols.offsets.get(row as usize).unwrap_or(0);
                    let rec = file.record(offset)?;
                    candidates.push(Cow::Owned(rec.into_instance()));
                }
                // The pages of the selected records stay mapped: the
                // next search would fault them in again, and they are
                // few (a full scan of the records releases its pages).
            }
            None => {
                read_whole = true;
                candidates.extend(
                    current_instances(file, &cols, &scan, &search.activity, superseded)?
                        .into_iter()
                        .map(Cow::Owned),
                );
            }
        }
    }
    if let (Some(n), Some(id)) = (depth, first_column) {
        // (first key, index into `judged`, row); the rows whose first key
        // equals the cursor's may lie on either side of it (the later
        // keys and the id decide): they are all read, and do not count
        // towards the depth.
        let mut keyed: Vec<(Option<Key<'_>>, usize, u32)> = Vec::new();
        let mut at_cursor: Vec<(Option<Key<'_>>, usize, u32)> = Vec::new();
        for (j, (_, cols, rows)) in judged.iter().enumerate() {
            let column = order_column(cols, id).flatten();
            for &row in rows {
                let key = column.and_then(|c| key_at(c, row as usize));
                match search.after.as_ref().map(|c| order.against_cursor(key, c)) {
                    Some(std::cmp::Ordering::Less) => {}
                    Some(std::cmp::Ordering::Equal) => at_cursor.push((key, j, row)),
                    _ => keyed.push((key, j, row)),
                }
            }
        }
        // Many rows tied with the cursor (a long run of one value, or of
        // unset ones) are read again for every page after it: a caller
        // paging through is told to read the rest at once.
        if at_cursor.len() > n {
            read_whole = true;
        }
        keep_first_keys(&mut keyed, n, descending);
        keyed.append(&mut at_cursor);
        // Read in file order, each file front to back.
        keyed.sort_unstable_by_key(|&(_, j, row)| (j, row));
        for (_, j, row) in keyed {
            let Some((index, cols, _)) = judged.get(j) else {
                continue;
            };
            let Some((file, _)) = snapshot.files.get(*index) else {
                continue;
            };
            let rec = file.record(cols.offsets.get(row as usize).unwrap_or(0))?;
            candidates.push(Cow::Owned(rec.into_instance()));
        }
    }
    Ok((search.page_of(candidates), read_whole))
}

/// The column of `id` in `cols` that order keys can be read from:
/// `Some(None)` for an item no row sets (every key unset), `None` when
/// the column is not projected (mixed types, or too many distinct texts).
fn order_column<'c>(cols: &'c ActivityColumns, id: ColumnId<'_>) -> Option<Option<&'c Column>> {
    let column = match id {
        ColumnId::Begin => Some(&*cols.begin),
        ColumnId::End => Some(&*cols.end),
        ColumnId::LastModified => Some(&*cols.last_modified),
        ColumnId::Item(name) => cols.items.get(name).map(|c| &**c),
    };
    match column {
        Some(Column::Unavailable) => None,
        other => Some(other),
    }
}

/// Row `row`'s value in `column` as an order key; `None` where unset.
fn key_at(column: &Column, row: usize) -> Option<Key<'_>> {
    let set = |set: &[bool]| set.get(row).copied().unwrap_or(false);
    match column {
        Column::Int { values, set: s } if set(s) => values.get(row).map(|&v| Key::Int(v)),
        Column::Float { values, set: s } if set(s) => values.get(row).map(|&v| Key::Float(v)),
        Column::Bool { values, set: s } if set(s) => values.get(row).map(|&v| Key::Bool(v)),
        Column::Timestamp { values, set: s } if set(s) => values.get(row).map(|&v| Key::Time(v)),
        Column::Text { codes, dict } => codes
            .get(row)
            .filter(|&&code| code != UNSET)
            .and_then(|&code| dict.get(code as usize))
            .map(|s| Key::Text(s)),
        _ => None,
    }
}

/// Keeps the rows whose first key is at or before the `n`th in the order
/// (all of them when there are at most `n`; none when `n` is 0).
fn keep_first_keys(rows: &mut Vec<(Option<Key<'_>>, usize, u32)>, n: usize, descending: bool) {
    if n == 0 {
        rows.clear();
        return;
    }
    if rows.len() <= n {
        return;
    }
    let (_, nth, _) = rows.select_nth_unstable_by(n - 1, |a, b| cmp_keys(a.0, b.0, descending));
    let last = nth.0;
    rows.retain(|r| cmp_keys(r.0, last, descending) != std::cmp::Ordering::Greater);
}

/// A file an aggregation reads record by record: its index in the
/// snapshot, its columns (for the record offsets) and the rows to read.
type ByRecords = (usize, ActivityColumns, FileScan);

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
    // the files it could not answer from columns (with their columns and
    // the rows to read).
    let scan = |worker: usize| -> Result<(Groups, Vec<ByRecords>), ImportFileError> {
        let mut groups = Groups::new();
        let mut by_records = Vec::new();
        for (i, (file, superseded)) in snapshot.files.iter().enumerate() {
            if i % threads != worker {
                continue;
            }
            let scan = plan_scan(file, agg)?;
            if scan == FileScan::Skip {
                continue;
            }
            let Some(cols) = file.activity_columns(&agg.activity, &wanted, scan.runs())? else {
                continue;
            };
            if !superseded.is_empty() || !run.add_columns_to(&cols, scan.runs(), &mut groups) {
                by_records.push((i, cols, scan));
            }
        }
        Ok((groups, by_records))
    };
    let results: Vec<Result<(Groups, Vec<ByRecords>), ImportFileError>> = if threads == 1 {
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
    by_records.sort_unstable_by_key(|(i, ..)| *i);
    for (i, cols, scan) in by_records {
        if let Some((file, superseded)) = snapshot.files.get(i) {
            run.add_rows(current_instances(
                file,
                &cols,
                &scan,
                &agg.activity,
                superseded,
            )?);
        }
    }
    Ok(run)
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;

/// A search's selected instances in storage order (the instances held in
/// memory, then file by file), read at most `chunk` at a time: no order
/// keys are judged, and only one chunk of instances is held at once
/// (besides a file that holds old versions of amended instances, read
/// whole). What `SearchStream::unordered` reads.
pub(crate) struct Scan {
    /// The next file to read.
    file: usize,
    /// The rows of the current file still to read, with its columns.
    rows: std::vec::IntoIter<u32>,
    cols: Option<ActivityColumns>,
    in_memory_done: bool,
}

impl Scan {
    pub(crate) fn new() -> Scan {
        Scan {
            file: 0,
            rows: Vec::new().into_iter(),
            cols: None,
            in_memory_done: false,
        }
    }

    /// The next instances the search selects (at most `chunk`, at least
    /// one unless the scan is over); empty when done.
    pub(crate) fn next_chunk(
        &mut self,
        snapshot: &mut Snapshot,
        search: &Search,
        chunk: usize,
    ) -> Result<Vec<ActivityInstance>, ImportFileError> {
        let chunk = chunk.max(1);
        if !self.in_memory_done {
            self.in_memory_done = true;
            let mut held = std::mem::take(&mut snapshot.in_memory);
            held.retain(|i| search.selection.selects(i));
            if !held.is_empty() {
                return Ok(held);
            }
        }
        loop {
            if let Some(cols) = &self.cols {
                let (file, _) = &snapshot.files[self.file - 1];
                let mut out = Vec::new();
                for row in self.rows.by_ref().take(chunk) {
                    let rec = file.record(cols.offsets.get(row as usize).unwrap_or(0))?;
                    let inst = rec.into_instance();
                    if search.selection.selects(&inst) {
                        out.push(inst);
                    }
                }
                if self.rows.len() == 0 {
                    self.cols = None;
                    file.release_pages();
                }
                if !out.is_empty() {
                    return Ok(out);
                }
                continue;
            }
            let Some((file, superseded)) = snapshot.files.get(self.file) else {
                return Ok(Vec::new());
            };
            self.file += 1;
            let scan = plan_scan(file, search)?;
            if scan == FileScan::Skip {
                continue;
            }
            let wanted = selection_columns(search);
            let Some(cols) = file.activity_columns(&search.activity, &wanted, scan.runs())? else {
                continue;
            };
            let selected = if superseded.is_empty() {
                search.select_columns(&cols, scan.runs())
            } else {
                None
            };
            match selected {
                Some(rows) => {
                    self.rows = rows.into_iter();
                    self.cols = Some(cols);
                }
                None => {
                    let mut all =
                        current_instances(file, &cols, &scan, &search.activity, superseded)?;
                    all.retain(|i| search.selection.selects(i));
                    if !all.is_empty() {
                        return Ok(all);
                    }
                }
            }
        }
    }
}
