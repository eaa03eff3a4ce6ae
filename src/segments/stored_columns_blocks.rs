//! Block ranges of the column section (import files of version 4): for
//! each column that has a value range, the range of every block of
//! [`BLOCK_ROWS`] consecutive rows, so that a query skips the blocks of a
//! file its filters rule out, not only whole files. Rows are sorted by
//! (activity, id) and ids are usually assigned in time order, so the
//! system times (and items that follow them) have narrow block ranges.
//!
//! Also the version-3 form of the directory (no block ranges), still
//! decoded.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde::{Deserialize, Serialize};

use super::{ActivityRef, ColumnRef, Directory};
use crate::segments::columns::Column;
use crate::segments::record::StoredValue;

/// Rows per block. Measured (`benches/blocks.rs`, 200,000 orders): a
/// query evaluates a row of a kept column in about 4 ns and reads a
/// matching record in about 4 µs, so the at most two partly-matching
/// blocks a window overlaps per file waste some 16 µs at 2,048 rows, next
/// to 1.5 ms for reading a one-hour window's 360 records. A block's ranges
/// cost about 19 bytes per ranged column (a tag and two values) in the
/// directory, which is read and planned over once per open file and per
/// query: at 2,048 rows under 0.01 byte per row and column, against 2 to
/// 8 bytes of column data. Smaller blocks save little evaluation and
/// grow the directory; larger ones evaluate more rows per window.
pub(crate) const BLOCK_ROWS: u32 = 2048;

/// Most rows per block a directory may claim (blocks are in memory only
/// as ranges; this bounds how many rows one block's scan may cover).
const MAX_BLOCK_ROWS: u32 = 1 << 20;

/// A value range: the smallest and largest set value.
pub(crate) type Range = (StoredValue, StoredValue);

/// The range of each block of `block_rows` rows of `column` (`None` for
/// a block where no row sets it), for a column whose whole range is
/// known (numbers and timestamps; floats without NaN).
pub(super) fn block_ranges(column: &Column, rows: usize, block_rows: usize) -> Vec<Option<Range>> {
    fn blocks<T: Copy>(
        values: &[T],
        set: &[bool],
        rows: usize,
        block_rows: usize,
        min: impl Fn(T, T) -> T,
        max: impl Fn(T, T) -> T,
        wrap: impl Fn(T) -> StoredValue,
    ) -> Vec<Option<Range>> {
        let values = values.get(..rows).unwrap_or(values);
        values
            .chunks(block_rows.max(1))
            .zip(set.chunks(block_rows.max(1)))
            .map(|(v, s)| {
                let mut set_values = v.iter().zip(s).filter(|(_, &s)| s).map(|(v, _)| *v);
                let first = set_values.next()?;
                let (lo, hi) =
                    set_values.fold((first, first), |(lo, hi), v| (min(lo, v), max(hi, v)));
                Some((wrap(lo), wrap(hi)))
            })
            .collect()
    }
    match column {
        Column::Int { values, set } => blocks(
            values,
            set,
            rows,
            block_rows,
            i64::min,
            i64::max,
            StoredValue::Int,
        ),
        Column::Timestamp { values, set } => blocks(
            values,
            set,
            rows,
            block_rows,
            i64::min,
            i64::max,
            StoredValue::Timestamp,
        ),
        Column::Float { values, set } => blocks(
            values,
            set,
            rows,
            block_rows,
            f64::min,
            f64::max,
            StoredValue::Float,
        ),
        _ => Vec::new(),
    }
}

/// Checks a version-4 directory's block tables: a block size in bounds,
/// one range per block for every column with a range and none for the
/// others, each of the column's type with its smallest value first.
pub(super) fn check(dir: &Directory) -> Result<(), String> {
    let block_rows = dir.block_rows;
    if !(1..=MAX_BLOCK_ROWS).contains(&block_rows) {
        return Err(format!(
            "the column directory's block size of {block_rows} rows is not between 1 and {MAX_BLOCK_ROWS}"
        ));
    }
    for act in &dir.activities {
        let expected = act.rows.div_ceil(u64::from(block_rows));
        let columns = [
            ("offsets", &act.offsets),
            ("begin", &act.begin),
            ("end", &act.end),
            ("last_modified", &act.last_modified),
        ];
        let items = act.items.iter().map(|(n, c)| (n.as_str(), c));
        for (name, c) in columns.into_iter().chain(items) {
            let want = if c.range.is_some() { expected } else { 0 };
            if c.blocks.len() as u64 != want {
                return Err(format!(
                    "{}: column {name} has {} block ranges, {want} expected for {} rows",
                    act.name,
                    c.blocks.len(),
                    act.rows
                ));
            }
            for (i, block) in c.blocks.iter().enumerate() {
                if let Some((lo, hi)) = block {
                    if !ordered_like(c.range.as_ref(), lo, hi) {
                        return Err(format!(
                            "{}: column {name}, block {i}: the range {lo:?}..{hi:?} is not one of the column's",
                            act.name
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether `lo..hi` is of the type of `range` and in order.
fn ordered_like(range: Option<&Range>, lo: &StoredValue, hi: &StoredValue) -> bool {
    use StoredValue::{Float, Int, Timestamp};
    match (range, lo, hi) {
        (Some((Int(_), _)), Int(lo), Int(hi)) => lo <= hi,
        (Some((Timestamp(_), _)), Timestamp(lo), Timestamp(hi)) => lo <= hi,
        (Some((Float(_), _)), Float(lo), Float(hi)) => lo <= hi,
        _ => false,
    }
}

/// [`ColumnRef`] as version 3 stores it: no block ranges.
#[derive(Deserialize, Serialize)]
pub(super) struct ColumnRefV3 {
    at: u64,
    len: u64,
    range: Option<Range>,
}

/// [`ActivityRef`] as version 3 stores it.
#[derive(Deserialize, Serialize)]
pub(super) struct ActivityRefV3 {
    name: String,
    rows: u64,
    offsets: ColumnRefV3,
    begin: ColumnRefV3,
    end: ColumnRefV3,
    last_modified: ColumnRefV3,
    items: Vec<(String, ColumnRefV3)>,
}

/// [`Directory`] as version 3 stores it.
#[derive(Deserialize, Serialize)]
pub(super) struct DirectoryV3 {
    activities: Vec<ActivityRefV3>,
}

impl From<ColumnRefV3> for ColumnRef {
    fn from(c: ColumnRefV3) -> ColumnRef {
        ColumnRef {
            at: c.at,
            len: c.len,
            range: c.range,
            blocks: Vec::new(),
        }
    }
}

impl From<DirectoryV3> for Directory {
    /// A version-3 directory, with no block ranges (a block size of 0).
    fn from(dir: DirectoryV3) -> Directory {
        Directory {
            block_rows: 0,
            activities: dir
                .activities
                .into_iter()
                .map(|a| ActivityRef {
                    name: a.name,
                    rows: a.rows,
                    offsets: a.offsets.into(),
                    begin: a.begin.into(),
                    end: a.end.into(),
                    last_modified: a.last_modified.into(),
                    items: a.items.into_iter().map(|(n, c)| (n, c.into())).collect(),
                })
                .collect(),
        }
    }
}

impl From<&Directory> for DirectoryV3 {
    /// The version-3 form (tests write version-3 sections with it).
    fn from(dir: &Directory) -> DirectoryV3 {
        let c = |c: &ColumnRef| ColumnRefV3 {
            at: c.at,
            len: c.len,
            range: c.range.clone(),
        };
        DirectoryV3 {
            activities: dir
                .activities
                .iter()
                .map(|a| ActivityRefV3 {
                    name: a.name.clone(),
                    rows: a.rows,
                    offsets: c(&a.offsets),
                    begin: c(&a.begin),
                    end: c(&a.end),
                    last_modified: c(&a.last_modified),
                    items: a.items.iter().map(|(n, r)| (n.clone(), c(r))).collect(),
                })
                .collect(),
        }
    }
}
