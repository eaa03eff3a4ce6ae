//! The column projection as an import file stores it (versions 3 and 4): written
//! once with the file, so that a reader maps it instead of decoding every
//! record. Numbers and timestamps are frame-of-reference bit-packed, text
//! is dictionary-encoded with bit-packed codes, floats are plain, set
//! flags are a bitmap (absent when every row is set), record offsets are
//! bit-packed deltas. Each column also carries its smallest and largest
//! value, and (version 4) the range of each block of rows
//! (`stored_columns_blocks.rs`). Byte layout in `docs/FORMAT.md`
//! ("Column section").
//!
//! Decoding checks every count and length against the section before it
//! allocates, and returns a description of the first thing that does not
//! fit; the caller turns it into corruption at the section's offset.
//!
//! (About 600 lines: the encoder and the decoder of one layout, kept
//! together so that they cannot disagree; the block ranges and the
//! version-3 directory are in `stored_columns_blocks.rs`.)
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::sync::Arc;

use byteorder::{ByteOrder, LittleEndian as LE};
use serde::{Deserialize, Serialize};

use super::bitpack::{self, pack, packed_len, unpack, width_for};
use super::columns::{ActivityColumns, Column, FileColumns, RecordOffsets, UNSET};
use super::decimal;
use super::layout::FILE_VERSION_V3;
use super::record::StoredValue;

#[path = "stored_columns_blocks.rs"]
mod blocks;
pub(crate) use blocks::BLOCK_ROWS;

// Format (column kinds): 0 unset, 1 unavailable, 2 int, 3 float, 4 bool, 5 timestamp, 6 text
const KIND_UNSET: u8 = 0;
const KIND_UNAVAILABLE: u8 = 1;
const KIND_INT: u8 = 2;
const KIND_FLOAT: u8 = 3;
const KIND_BOOL: u8 = 4;
const KIND_TIMESTAMP: u8 = 5;
const KIND_TEXT: u8 = 6;
const KIND_DECIMAL: u8 = 7;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The fewest decimal digits `d` such that every set value is
/// `n / 10^d` for an integer `n`, computed back bit for bit (so `-0.0`,
/// NaN and infinities never qualify); `None` when no `d` up to 6 does.
fn decimal_scale(values: &[f64], set: &[bool]) -> Option<u8> {
    let set_values = values.iter().zip(set).filter(|(_, &s)| s).map(|(v, _)| *v);
    (0..=decimal::MAX_DIGITS).find(|&d| {
        set_values
            .clone()
            .all(|v| decimal::integer_at(v, d).is_some())
    })
}
/// Set flags: every row set (no bitmap follows), or a bitmap follows.
const ALL_SET: u8 = 0;
const BITMAP: u8 = 1;
/// Longest dictionary entry (item values are far shorter).
const MAX_TEXT: usize = 16 << 20;

/// Where a column's bytes are in the section, and its value range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ColumnRef {
    /// Offset from the start of the column data (after the directory).
    pub at: u64,
    pub len: u64,
    /// The smallest and largest set value (numbers and timestamps only).
    pub range: Option<(StoredValue, StoredValue)>,
    /// Version 4: the smallest and largest set value of each block of
    /// [`Directory::block_rows`] rows, in row order (`None` where no row
    /// of the block sets the column); empty for a column without `range`,
    /// and in version-3 files.
    pub blocks: Vec<Option<(StoredValue, StoredValue)>>,
}

/// One activity's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ActivityRef {
    pub name: String,
    pub rows: u64,
    pub offsets: ColumnRef,
    pub begin: ColumnRef,
    pub end: ColumnRef,
    pub last_modified: ColumnRef,
    pub items: Vec<(String, ColumnRef)>,
}

/// The directory at the start of the section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Directory {
    /// Rows per block of the block ranges (0 in version-3 files, which
    /// have none).
    pub block_rows: u32,
    pub activities: Vec<ActivityRef>,
}

/// Encodes `columns`: `{ dir_len u32 | postcard(Directory) | column data }`,
/// with block ranges of [`BLOCK_ROWS`] rows.
pub(crate) fn encode(columns: &FileColumns) -> Result<Vec<u8>, String> {
    encode_with_block_rows(columns, BLOCK_ROWS)
}

/// [`encode`] with blocks of `block_rows` rows (tests use small ones).
pub(crate) fn encode_with_block_rows(
    columns: &FileColumns,
    block_rows: u32,
) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut names: Vec<&String> = columns.activities.keys().collect();
    names.sort();
    let mut dir = Directory {
        block_rows,
        activities: Vec::new(),
    };
    for name in names {
        let Some(act) = columns.activities.get(name) else {
            continue;
        };
        let offsets = {
            let at = data.len() as u64;
            encode_offsets(&act.offsets, &mut data);
            ColumnRef {
                at,
                len: data.len() as u64 - at,
                range: None,
                blocks: Vec::new(),
            }
        };
        let mut put = |column: &Column| {
            let at = data.len() as u64;
            let range = encode_column(column, act.rows(), &mut data);
            let blocks = match range {
                Some(_) => blocks::block_ranges(column, act.rows(), block_rows as usize),
                None => Vec::new(),
            };
            ColumnRef {
                at,
                len: data.len() as u64 - at,
                range,
                blocks,
            }
        };
        let (begin, end, last_modified) = (put(&act.begin), put(&act.end), put(&act.last_modified));
        let mut item_names: Vec<&String> = act.items.keys().collect();
        item_names.sort();
        let items = item_names
            .into_iter()
            .filter_map(|n| act.items.get(n).map(|c| (n.clone(), put(c))))
            .collect();
        dir.activities.push(ActivityRef {
            name: name.clone(),
            rows: act.rows() as u64,
            offsets,
            begin,
            end,
            last_modified,
            items,
        });
    }
    let dir_bytes = postcard::to_allocvec(&dir).map_err(|e| e.to_string())?;
    let dir_len = u32::try_from(dir_bytes.len()).map_err(|_| "directory over 4 GiB".to_owned())?;
    let mut out = Vec::with_capacity(4 + dir_bytes.len() + data.len());
    out.extend_from_slice(&dir_len.to_le_bytes());
    out.extend_from_slice(&dir_bytes);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Record offsets: first offset u64, then `width u8` and the bit-packed
/// differences between neighbours (records are in offset order).
/// Record offsets: `{ first u64 | width u8 | bit-packed (offset - first)
/// [rows] }`: distances from the first, so that one row's offset is read
/// without the others.
fn encode_offsets(offsets: &RecordOffsets, out: &mut Vec<u8>) {
    let (first, width, packed) = offsets.parts();
    out.extend_from_slice(&first.to_le_bytes());
    out.push(width as u8);
    out.extend_from_slice(packed);
}

fn encode_set(set: &[bool], out: &mut Vec<u8>) {
    if set.iter().all(|&s| s) {
        out.push(ALL_SET);
    } else {
        out.push(BITMAP);
        pack(set.iter().map(|&s| u64::from(s)), 1, out);
    }
}

/// Appends `column`'s bytes; returns its value range.
fn encode_column(
    column: &Column,
    rows: usize,
    out: &mut Vec<u8>,
) -> Option<(StoredValue, StoredValue)> {
    // Frame of reference over the set values, divided by their common
    // step (timestamps in whole seconds pack in 22 bits a month, not 42).
    fn ints(values: &[i64], set: &[bool], out: &mut Vec<u8>) -> Option<(i64, i64)> {
        encode_set(set, out);
        let set_values = || values.iter().zip(set).filter(|(_, &s)| s).map(|(v, _)| *v);
        let (lo, hi) = (set_values().min(), set_values().max());
        let base = lo.unwrap_or(0);
        out.extend_from_slice(&base.to_le_bytes());
        let span = |v: i64| v.wrapping_sub(base) as u64;
        let step = set_values().fold(0u64, |g, v| gcd(g, span(v))).max(1);
        out.extend_from_slice(&step.to_le_bytes());
        let width = width_for(hi.map_or(0, span) / step);
        out.push(width as u8);
        let packed = values
            .iter()
            .zip(set)
            .map(|(v, &s)| if s { span(*v) / step } else { 0 });
        pack(packed, width, out);
        lo.zip(hi)
    }
    match column {
        Column::Unset => {
            out.push(KIND_UNSET);
            None
        }
        Column::Unavailable => {
            out.push(KIND_UNAVAILABLE);
            None
        }
        Column::Int { values, set } => {
            out.push(KIND_INT);
            ints(values, set, out).map(|(lo, hi)| (StoredValue::Int(lo), StoredValue::Int(hi)))
        }
        Column::Timestamp { values, set } => {
            out.push(KIND_TIMESTAMP);
            ints(values, set, out)
                .map(|(lo, hi)| (StoredValue::Timestamp(lo), StoredValue::Timestamp(hi)))
        }
        Column::Float { values, set } => {
            // Decimals (amounts, prices) are stored as integers and a
            // power of ten when that gives every value back bit for bit.
            match decimal_scale(values, set) {
                Some(digits) => {
                    out.push(KIND_DECIMAL);
                    out.push(digits);
                    let ints_of: Vec<i64> = values
                        .iter()
                        .zip(set)
                        .map(|(v, &s)| {
                            // Every set value has an integer at `digits`.
                            s.then(|| decimal::integer_at(*v, digits))
                                .flatten()
                                .unwrap_or(0)
                        })
                        .collect();
                    ints(&ints_of, set, out);
                }
                None => {
                    out.push(KIND_FLOAT);
                    encode_set(set, out);
                    for v in values {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            let set_values = || values.iter().zip(set).filter(|(_, &s)| s).map(|(v, _)| *v);
            // NaN has no place in a range: no range is given then.
            if set_values().any(f64::is_nan) {
                return None;
            }
            let lo = set_values().reduce(f64::min)?;
            let hi = set_values().reduce(f64::max)?;
            Some((StoredValue::Float(lo), StoredValue::Float(hi)))
        }
        Column::Bool { values, set } => {
            out.push(KIND_BOOL);
            encode_set(set, out);
            pack(values.iter().map(|&b| u64::from(b)), 1, out);
            None
        }
        Column::Text { codes, dict } => {
            out.push(KIND_TEXT);
            out.extend_from_slice(&(dict.len() as u32).to_le_bytes());
            for text in dict {
                out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                out.extend_from_slice(text.as_bytes());
            }
            // Code + 1, so that 0 is unset.
            let width = width_for(dict.len() as u64);
            out.push(width as u8);
            let shifted =
                codes
                    .iter()
                    .take(rows)
                    .map(|&c| if c == UNSET { 0 } else { u64::from(c) + 1 });
            pack(shifted, width, out);
            None
        }
    }
}

/// Reads bytes off the front of a column, failing with what was short.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.bytes.len() {
            return Err(format!("{what} runs past its column"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        self.take(4, what).map(LE::read_u32)
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        self.take(8, what).map(LE::read_u64)
    }

    fn width(&mut self) -> Result<u32, String> {
        match u32::from(self.u8("a width")?) {
            w @ (0..=56 | 64) => Ok(w),
            w => Err(format!("bit width {w} is not one this format writes")),
        }
    }

    fn packed(&mut self, rows: usize, width: u32, what: &str) -> Result<&'a [u8], String> {
        let len = packed_len(rows, width).ok_or_else(|| format!("{what} too large"))?;
        self.take(len, what)
    }

    /// Set flags of the rows to decode (see [`unpack_rows`]); every
    /// other row reads as unset.
    fn set_flags(&mut self, rows: usize, runs: Runs<'_>) -> Result<Vec<bool>, String> {
        match self.u8("set flags")? {
            ALL_SET => Ok(match runs {
                None => vec![true; rows],
                Some(runs) => {
                    let mut set = vec![false; rows];
                    for r in runs {
                        if let Some(s) = set.get_mut(r.start.min(rows)..r.end.min(rows)) {
                            s.fill(true);
                        }
                    }
                    set
                }
            }),
            BITMAP => {
                let bits = self.packed(rows, 1, "the set bitmap")?;
                let mut set = vec![false; rows];
                unpack_rows(bits, rows, 1, runs, |i, v| {
                    if let Some(s) = set.get_mut(i) {
                        *s = v == 1;
                    }
                });
                Ok(set)
            }
            other => Err(format!("set flags mode {other} is unknown")),
        }
    }
}

/// The rows of a column to decode: every row (`None`), or these runs
/// (ascending; rows past the column's are ignored).
type Runs<'a> = Option<&'a [std::ops::Range<usize>]>;

/// Calls `f(row, value)` with the packed value of each row to decode:
/// every one in one pass, or those in `runs` one by one (random access:
/// a query over a few blocks does not unpack the others).
fn unpack_rows(
    bytes: &[u8],
    rows: usize,
    width: u32,
    runs: Runs<'_>,
    mut f: impl FnMut(usize, u64),
) {
    match runs {
        None => unpack(bytes, rows, width, f),
        Some(runs) => {
            for r in runs {
                for row in r.start.min(rows)..r.end.min(rows) {
                    f(row, bitpack::get(bytes, width, row));
                }
            }
        }
    }
}

/// The directory at the start of `section` of a file of `version` (3:
/// without block ranges; 4: with them, checked to have one per block),
/// and the column data after it; `max_rows` bounds the activities' rows
/// together (the file's record count).
pub(crate) fn decode_directory(
    section: &[u8],
    version: u32,
    max_rows: u64,
) -> Result<(Directory, &[u8]), String> {
    let mut cursor = Cursor { bytes: section };
    let dir_len = cursor.u32("the directory length")? as usize;
    let dir_bytes = cursor.take(dir_len, "the directory")?;
    let undecodable = |e: postcard::Error| format!("the column directory does not decode: {e}");
    let dir = if version == FILE_VERSION_V3 {
        postcard::from_bytes::<blocks::DirectoryV3>(dir_bytes)
            .map_err(undecodable)?
            .into()
    } else {
        postcard::from_bytes::<Directory>(dir_bytes).map_err(undecodable)?
    };
    let total = dir
        .activities
        .iter()
        .fold(0u64, |total, act| total.saturating_add(act.rows));
    if total > max_rows {
        return Err(format!(
            "the columns claim {total} rows, the file holds {max_rows} records"
        ));
    }
    if version != FILE_VERSION_V3 {
        blocks::check(&dir)?;
    }
    Ok((dir, cursor.bytes))
}

/// Decodes the whole projection of a file of `version`; `max_rows`
/// bounds every activity's rows (the file's record count). Block ranges
/// are checked against the values they describe (a wrong one would make
/// queries skip rows they select): `verify` reads through here.
pub(crate) fn decode(section: &[u8], version: u32, max_rows: u64) -> Result<FileColumns, String> {
    let (dir, data) = decode_directory(section, version, max_rows)?;
    let block_rows = dir.block_rows as usize;
    let mut activities = HashMap::new();
    for act in dir.activities {
        let rows = act.rows as usize;
        let column = |r: &ColumnRef| -> Result<Column, String> {
            let column = decode_column(slice(data, r)?, rows)
                .map_err(|e| format!("{}: column at {}: {e}", act.name, r.at))?;
            if !r.blocks.is_empty() && blocks::block_ranges(&column, rows, block_rows) != r.blocks {
                return Err(format!(
                    "{}: column at {}: its block ranges disagree with its values",
                    act.name, r.at
                ));
            }
            Ok(column)
        };
        let offsets = decode_offsets(slice(data, &act.offsets)?, rows)?;
        let mut items = HashMap::with_capacity(act.items.len());
        for (name, r) in &act.items {
            items.insert(name.clone(), Arc::new(column(r)?));
        }
        let decoded = ActivityColumns {
            offsets: Arc::new(offsets),
            begin: Arc::new(column(&act.begin)?),
            end: Arc::new(column(&act.end)?),
            last_modified: Arc::new(column(&act.last_modified)?),
            items,
        };
        activities.insert(act.name, decoded);
    }
    Ok(FileColumns { activities })
}

fn slice<'a>(data: &'a [u8], r: &ColumnRef) -> Result<&'a [u8], String> {
    let start = usize::try_from(r.at).unwrap_or(usize::MAX);
    let len = usize::try_from(r.len).unwrap_or(usize::MAX);
    start
        .checked_add(len)
        .and_then(|end| data.get(start..end))
        .ok_or_else(|| {
            format!(
                "a column at {} of {} bytes runs past the section",
                r.at, r.len
            )
        })
}

pub(crate) fn decode_offsets(bytes: &[u8], rows: usize) -> Result<RecordOffsets, String> {
    let mut cursor = Cursor { bytes };
    let first = cursor.u64("the first record offset")?;
    let width = cursor.width()?;
    let packed = cursor.packed(rows, width, "record offsets")?;
    Ok(RecordOffsets::from_packed(
        rows,
        first,
        width,
        packed.to_vec(),
    ))
}

/// Decodes a column of `rows` rows.
pub(crate) fn decode_column(bytes: &[u8], rows: usize) -> Result<Column, String> {
    decode_column_rows(bytes, rows, None)
}

/// Decodes the rows of a column in `runs` (ascending), or every row when
/// `None`: every other row reads as unset, and its bit-packed value is
/// not unpacked. Every length is checked as for the whole column; codes
/// and values of rows left out are not looked at.
pub(crate) fn decode_column_rows(
    bytes: &[u8],
    rows: usize,
    runs: Runs<'_>,
) -> Result<Column, String> {
    let mut cursor = Cursor { bytes };
    let ints = |cursor: &mut Cursor<'_>| -> Result<(Vec<i64>, Vec<bool>), String> {
        let set = cursor.set_flags(rows, runs)?;
        let base = cursor.u64("the base value")? as i64;
        let step = cursor.u64("the step")?;
        let width = cursor.width()?;
        let packed = cursor.packed(rows, width, "values")?;
        // Unset rows read as 0, as the in-memory projection pads them
        // (and rows left out are not touched: a narrow window faults in
        // only its own pages of the column).
        let mut values = vec![0i64; rows];
        unpack_rows(packed, rows, width, runs, |i, v| {
            if let (Some(slot), Some(true)) = (values.get_mut(i), set.get(i)) {
                *slot = base.wrapping_add(v.wrapping_mul(step) as i64);
            }
        });
        Ok((values, set))
    };
    match cursor.u8("the column kind")? {
        KIND_UNSET => Ok(Column::Unset),
        KIND_UNAVAILABLE => Ok(Column::Unavailable),
        KIND_INT => ints(&mut cursor).map(|(values, set)| Column::Int { values, set }),
        KIND_TIMESTAMP => ints(&mut cursor).map(|(values, set)| Column::Timestamp { values, set }),
        KIND_DECIMAL => {
            let digits = cursor.u8("the decimal digits")?;
            if digits > decimal::MAX_DIGITS {
                return Err(format!(
                    "{digits} decimal digits is more than this format writes"
                ));
            }
            let (ints, set) = ints(&mut cursor)?;
            let value = |row: usize| match (ints.get(row), set.get(row)) {
                (Some(&n), Some(true)) => decimal::value_of(n, digits).unwrap_or(0.0),
                _ => 0.0,
            };
            let values = match runs {
                None => (0..rows).map(value).collect(),
                Some(runs) => {
                    let mut values = vec![0.0; rows];
                    for row in runs.iter().flat_map(|r| r.start.min(rows)..r.end.min(rows)) {
                        if let Some(slot) = values.get_mut(row) {
                            *slot = value(row);
                        }
                    }
                    values
                }
            };
            Ok(Column::Float { values, set })
        }
        KIND_FLOAT => {
            let set = cursor.set_flags(rows, runs)?;
            let raw = cursor.packed(rows, 64, "float values")?;
            let values = match runs {
                None => raw
                    .chunks_exact(8)
                    .map(|c| f64::from_bits(LE::read_u64(c)))
                    .collect(),
                Some(_) => {
                    let mut values = vec![0.0; rows];
                    unpack_rows(raw, rows, 64, runs, |i, v| {
                        if let Some(slot) = values.get_mut(i) {
                            *slot = f64::from_bits(v);
                        }
                    });
                    values
                }
            };
            Ok(Column::Float { values, set })
        }
        KIND_BOOL => {
            let set = cursor.set_flags(rows, runs)?;
            let bits = cursor.packed(rows, 1, "bool values")?;
            let mut values = vec![false; rows];
            unpack_rows(bits, rows, 1, runs, |i, v| {
                if let Some(slot) = values.get_mut(i) {
                    *slot = v == 1;
                }
            });
            Ok(Column::Bool { values, set })
        }
        KIND_TEXT => {
            let count = cursor.u32("the dictionary size")? as usize;
            // Each entry takes at least its 4-byte length.
            if count > cursor.bytes.len() / 4 || count > rows {
                return Err(format!("a dictionary of {count} entries does not fit"));
            }
            let mut dict = Vec::with_capacity(count);
            for _ in 0..count {
                let len = cursor.u32("a dictionary entry length")? as usize;
                if len > MAX_TEXT {
                    return Err(format!(
                        "a dictionary entry of {len} bytes is over the limit"
                    ));
                }
                let text = cursor.take(len, "a dictionary entry")?;
                let text = std::str::from_utf8(text)
                    .map_err(|_| "a dictionary entry is not UTF-8".to_owned())?;
                dict.push(text.to_owned());
            }
            let width = cursor.width()?;
            let packed = cursor.packed(rows, width, "text codes")?;
            let mut codes = vec![UNSET; rows];
            let mut bad = None;
            unpack_rows(packed, rows, width, runs, |i, v| match v {
                0 => {}
                v if v as usize <= count => {
                    if let Some(slot) = codes.get_mut(i) {
                        *slot = (v - 1) as u32;
                    }
                }
                v => bad = Some(v),
            });
            if let Some(v) = bad {
                return Err(format!("text code {v} is past a dictionary of {count}"));
            }
            Ok(Column::Text { codes, dict })
        }
        kind => Err(format!("column kind {kind} is unknown")),
    }
}

#[cfg(test)]
#[path = "stored_columns_tests.rs"]
mod tests;
