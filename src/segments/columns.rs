//! A column projection of an import file: for each activity in it, the
//! system times and every item as a column (numbers and timestamps as
//! plain arrays, text dictionary-encoded), and where each row's record
//! sits, so that scans, filters and aggregations run over arrays instead of
//! decoding every record.
//!
//! Import files never change once written. Files of version 3 store the
//! projection (`stored_columns.rs`), written with the file; for older files
//! the first query that scans one builds it (one pass that decodes every
//! record). Either way, the decoded projection lives as long as the file
//! is in use: about 8 bytes per set number or timestamp and 4 per text
//! value, per row.
//!
//! A column whose values disagree on their type, or a text column with too
//! many distinct values to be worth a dictionary (ids, order numbers), is
//! [`Column::Unavailable`]; queries that touch it scan the records instead.

use std::collections::HashMap;

use crate::fast_hash::FastMap;
use std::sync::Arc;

use super::bitpack;
use super::error::ImportFileError;
use super::record::{StoredInstance, StoredValue};

/// Below this many distinct values a text column is always dictionary
/// encoded; above it, only when distinct values are at most half its
/// rows, decided once the file's rows are all seen (so the order of the
/// rows does not matter: 5,000 customers that come round-robin are
/// encoded as well as sorted ones).
const SMALL_DICTIONARY: usize = 4096;

/// No dictionary grows past this many values while it is built: the
/// builder's memory stays bounded whatever the file holds.
const MAX_DICTIONARY: usize = 1 << 16;

/// Code of an unset text value.
pub(crate) const UNSET: u32 = u32::MAX;

/// One column of one activity in one file.
#[derive(Debug, PartialEq)]
pub(crate) enum Column {
    /// Int values; `set[row]` false where the item is unset.
    Int { values: Vec<i64>, set: Vec<bool> },
    /// Float values.
    Float { values: Vec<f64>, set: Vec<bool> },
    /// Bool values.
    Bool { values: Vec<bool>, set: Vec<bool> },
    /// Timestamps, µs.
    Timestamp { values: Vec<i64>, set: Vec<bool> },
    /// Text: a code per row into `dict` ([`UNSET`] where unset).
    Text { codes: Vec<u32>, dict: Vec<String> },
    /// No row sets it.
    Unset,
    /// Not projected (mixed types, or too many distinct texts).
    Unavailable,
}

/// The rows of one activity in one file, in the file's (id) order.
/// Columns are shared (`Arc`): a file keeps the ones it decoded, and a
/// query takes the ones it needs.
#[derive(Debug, PartialEq, Clone)]
pub(crate) struct ActivityColumns {
    /// Where each row's record starts in the file.
    pub offsets: Arc<RecordOffsets>,
    /// `begin`, `end` and `last_modified` (as timestamp columns).
    pub begin: Arc<Column>,
    pub end: Arc<Column>,
    pub last_modified: Arc<Column>,
    /// Items by name; an item no row sets has no column.
    pub items: HashMap<String, Arc<Column>>,
}

/// Where each row's record starts, bit-packed as distances from the
/// first (as the file stores them): a search reads the few offsets of the
/// rows it selects without decoding them all.
#[derive(Debug, PartialEq, Clone, Default)]
pub(crate) struct RecordOffsets {
    rows: usize,
    first: u64,
    width: u32,
    packed: Vec<u8>,
}

impl RecordOffsets {
    /// Packs `offsets` (ascending, as records are in file order).
    pub fn from_offsets(offsets: &[u64]) -> RecordOffsets {
        let first = offsets.first().copied().unwrap_or(0);
        let span = |o: &u64| o.saturating_sub(first);
        let width = bitpack::width_for(offsets.iter().map(span).max().unwrap_or(0));
        let mut packed = Vec::new();
        bitpack::pack(offsets.iter().map(span), width, &mut packed);
        RecordOffsets {
            rows: offsets.len(),
            first,
            width,
            packed,
        }
    }

    /// Offsets in their packed form, as read from a file (the caller has
    /// checked that `packed` holds `rows` values of `width` bits).
    pub fn from_packed(rows: usize, first: u64, width: u32, packed: Vec<u8>) -> RecordOffsets {
        RecordOffsets {
            rows,
            first,
            width,
            packed,
        }
    }

    /// The stored form's parts: first offset, width, packed distances.
    pub fn parts(&self) -> (u64, u32, &[u8]) {
        (self.first, self.width, &self.packed)
    }

    /// How many rows.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Where row `row`'s record starts.
    pub fn get(&self, row: usize) -> Option<u64> {
        (row < self.rows).then(|| {
            self.first
                .wrapping_add(bitpack::get(&self.packed, self.width, row))
        })
    }
}

/// A column of an activity, named as a query asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnId<'a> {
    Begin,
    End,
    LastModified,
    Item(&'a str),
}

impl ActivityColumns {
    /// How many rows.
    pub fn rows(&self) -> usize {
        self.offsets.len()
    }
}

/// The projection of a whole file.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct FileColumns {
    pub activities: HashMap<String, ActivityColumns>,
}

impl FileColumns {
    /// Whether both hold the same rows and values (floats compared
    /// bitwise, so NaN equals NaN): `verify`'s check of a stored
    /// projection against the records.
    pub fn same_as(&self, other: &FileColumns) -> bool {
        fn column_same(a: &Column, b: &Column) -> bool {
            match (a, b) {
                (
                    Column::Float {
                        values: va,
                        set: sa,
                    },
                    Column::Float {
                        values: vb,
                        set: sb,
                    },
                ) => {
                    sa == sb
                        && va.len() == vb.len()
                        && va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits())
                }
                _ => a == b,
            }
        }
        self.activities.len() == other.activities.len()
            && self.activities.iter().all(|(name, a)| {
                other.activities.get(name).is_some_and(|b| {
                    a.offsets == b.offsets
                        && column_same(&a.begin, &b.begin)
                        && column_same(&a.end, &b.end)
                        && column_same(&a.last_modified, &b.last_modified)
                        && a.items.len() == b.items.len()
                        && a.items.iter().all(|(item, ca)| {
                            b.items.get(item).is_some_and(|cb| column_same(ca, cb))
                        })
                })
            })
    }

    /// Builds the projection from `(offset, record)` pairs in file order
    /// (files of versions 1 and 2, which do not store it).
    pub fn build(
        records: impl Iterator<Item = Result<(u64, StoredInstance), ImportFileError>>,
    ) -> Result<FileColumns, ImportFileError> {
        let mut builder = Builder::default();
        for entry in records {
            let (offset, rec) = entry?;
            builder.push(offset, &rec);
        }
        Ok(builder.finish())
    }

    /// Builds the projection of records about to be written.
    pub fn from_records<'a>(
        records: impl Iterator<Item = (u64, &'a StoredInstance)>,
    ) -> FileColumns {
        let mut builder = Builder::default();
        for (offset, rec) in records {
            builder.push(offset, rec);
        }
        builder.finish()
    }
}

/// A projection being built, one record at a time.
#[derive(Default)]
struct Builder {
    activities: FastMap<String, ActivityBuilder>,
}

impl Builder {
    fn push(&mut self, offset: u64, rec: &StoredInstance) {
        let builder = match self.activities.get_mut(&rec.activity) {
            Some(b) => b,
            None => self.activities.entry(rec.activity.clone()).or_default(),
        };
        builder.push(offset, rec);
    }

    fn finish(self) -> FileColumns {
        FileColumns {
            activities: self
                .activities
                .into_iter()
                .map(|(name, b)| (name, b.finish()))
                .collect(),
        }
    }
}

#[derive(Default)]
struct ActivityBuilder {
    offsets: Vec<u64>,
    begin: ColumnBuilder,
    end: ColumnBuilder,
    last_modified: ColumnBuilder,
    items: FastMap<String, ColumnBuilder>,
}

impl ActivityBuilder {
    fn push(&mut self, offset: u64, rec: &StoredInstance) {
        let row = self.offsets.len();
        self.offsets.push(offset);
        for (column, time) in [
            (&mut self.begin, rec.begin),
            (&mut self.end, rec.end),
            (&mut self.last_modified, rec.last_modified),
        ] {
            if let Some(t) = time {
                column.set(row, &StoredValue::Timestamp(t));
            }
        }
        for (name, value) in &rec.items {
            let column = match self.items.get_mut(name) {
                Some(c) => c,
                None => self.items.entry(name.clone()).or_default(),
            };
            column.set(row, value);
        }
    }

    fn finish(self) -> ActivityColumns {
        let rows = self.offsets.len();
        ActivityColumns {
            offsets: Arc::new(RecordOffsets::from_offsets(&self.offsets)),
            begin: Arc::new(self.begin.finish(rows)),
            end: Arc::new(self.end.finish(rows)),
            last_modified: Arc::new(self.last_modified.finish(rows)),
            items: self
                .items
                .into_iter()
                .map(|(name, c)| (name, Arc::new(c.finish(rows))))
                .collect(),
        }
    }
}

/// A column being filled; rows not set are padded as unset.
#[derive(Default)]
enum ColumnBuilder {
    /// No value yet (the type is taken from the first one).
    #[default]
    Empty,
    Int(Vec<i64>, Vec<bool>),
    Float(Vec<f64>, Vec<bool>),
    Bool(Vec<bool>, Vec<bool>),
    Timestamp(Vec<i64>, Vec<bool>),
    Text {
        codes: Vec<u32>,
        dict: Vec<String>,
        index: FastMap<String, u32>,
    },
    Unavailable,
}

/// Pads `values`/`set` to `row` rows, then sets row `row`.
fn put<T: Copy + Default>(values: &mut Vec<T>, set: &mut Vec<bool>, row: usize, v: T) {
    values.resize(row, T::default());
    set.resize(row, false);
    values.push(v);
    set.push(true);
}

impl ColumnBuilder {
    fn set(&mut self, row: usize, value: &StoredValue) {
        if let ColumnBuilder::Empty = self {
            *self = match value {
                StoredValue::Int(_) => ColumnBuilder::Int(Vec::new(), Vec::new()),
                StoredValue::Float(_) => ColumnBuilder::Float(Vec::new(), Vec::new()),
                StoredValue::Bool(_) => ColumnBuilder::Bool(Vec::new(), Vec::new()),
                StoredValue::Timestamp(_) => ColumnBuilder::Timestamp(Vec::new(), Vec::new()),
                StoredValue::Text(_) => ColumnBuilder::Text {
                    codes: Vec::new(),
                    dict: Vec::new(),
                    index: FastMap::default(),
                },
            };
        }
        match (&mut *self, value) {
            (ColumnBuilder::Int(v, s), StoredValue::Int(i)) => put(v, s, row, *i),
            (ColumnBuilder::Float(v, s), StoredValue::Float(f)) => put(v, s, row, *f),
            (ColumnBuilder::Bool(v, s), StoredValue::Bool(b)) => put(v, s, row, *b),
            (ColumnBuilder::Timestamp(v, s), StoredValue::Timestamp(t)) => put(v, s, row, *t),
            (ColumnBuilder::Text { codes, dict, index }, StoredValue::Text(text)) => {
                let code = match index.get(text.as_str()) {
                    Some(&code) => code,
                    None => {
                        let too_many = dict.len() >= MAX_DICTIONARY;
                        let Ok(code) = u32::try_from(dict.len()) else {
                            *self = ColumnBuilder::Unavailable;
                            return;
                        };
                        if too_many || code == UNSET {
                            *self = ColumnBuilder::Unavailable;
                            return;
                        }
                        dict.push(text.clone());
                        index.insert(text.clone(), code);
                        code
                    }
                };
                codes.resize(row, UNSET);
                codes.push(code);
            }
            (ColumnBuilder::Unavailable, _) => {}
            // A value of another type than the column's first.
            _ => *self = ColumnBuilder::Unavailable,
        }
    }

    fn finish(self, rows: usize) -> Column {
        fn pad<T: Copy + Default>(
            mut values: Vec<T>,
            mut set: Vec<bool>,
            rows: usize,
        ) -> (Vec<T>, Vec<bool>) {
            values.resize(rows, T::default());
            set.resize(rows, false);
            (values, set)
        }
        match self {
            ColumnBuilder::Empty => Column::Unset,
            ColumnBuilder::Int(v, s) => {
                let (values, set) = pad(v, s, rows);
                Column::Int { values, set }
            }
            ColumnBuilder::Float(v, s) => {
                let (values, set) = pad(v, s, rows);
                Column::Float { values, set }
            }
            ColumnBuilder::Bool(v, s) => {
                let (values, set) = pad(v, s, rows);
                Column::Bool { values, set }
            }
            ColumnBuilder::Timestamp(v, s) => {
                let (values, set) = pad(v, s, rows);
                Column::Timestamp { values, set }
            }
            ColumnBuilder::Text { dict, .. }
                if dict.len() > SMALL_DICTIONARY && dict.len() > rows / 2 =>
            {
                Column::Unavailable
            }
            ColumnBuilder::Text {
                mut codes, dict, ..
            } => {
                codes.resize(rows, UNSET);
                Column::Text { codes, dict }
            }
            ColumnBuilder::Unavailable => Column::Unavailable,
        }
    }
}

#[cfg(test)]
#[path = "columns_tests.rs"]
mod tests;
