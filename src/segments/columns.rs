//! A column projection of an import file: for each activity in it, the
//! system times and every item as a column (numbers and timestamps as
//! plain arrays, text dictionary-encoded), and where each row's record
//! sits, so that scans, filters and aggregations run over arrays instead of
//! decoding every record.
//!
//! Import files never change once written, so a projection is built once
//! per file (by the first query that scans it: one pass that decodes every
//! record) and lives as long as the file is in use. It is memory, not disk:
//! about 8 bytes per set number or timestamp and 4 per text value, per row.
//!
//! A column whose values disagree on their type, or a text column with too
//! many distinct values to be worth a dictionary (ids, order numbers), is
//! [`Column::Unavailable`]; queries that touch it scan the records instead.

use std::collections::HashMap;

use super::error::ImportFileError;
use super::record::{StoredInstance, StoredValue};

/// Below this many distinct values a text column is always dictionary
/// encoded; above it, only while distinct values are at most half the rows.
const SMALL_DICTIONARY: usize = 4096;

/// Code of an unset text value.
pub(crate) const UNSET: u32 = u32::MAX;

/// One column of one activity in one file.
#[derive(Debug)]
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
#[derive(Debug)]
pub(crate) struct ActivityColumns {
    /// Where each row's record starts in the file.
    pub offsets: Vec<u64>,
    /// `begin`, `end` and `last_modified` (as timestamp columns).
    pub begin: Column,
    pub end: Column,
    pub last_modified: Column,
    /// Items by name; an item no row sets has no column.
    pub items: HashMap<String, Column>,
}

impl ActivityColumns {
    /// How many rows.
    pub fn rows(&self) -> usize {
        self.offsets.len()
    }
}

/// The projection of a whole file.
#[derive(Debug, Default)]
pub(crate) struct FileColumns {
    pub activities: HashMap<String, ActivityColumns>,
}

impl FileColumns {
    /// Builds the projection from `(offset, record)` pairs in file order.
    pub fn build(
        records: impl Iterator<Item = Result<(u64, StoredInstance), ImportFileError>>,
    ) -> Result<FileColumns, ImportFileError> {
        let mut builders: HashMap<String, ActivityBuilder> = HashMap::new();
        for entry in records {
            let (offset, rec) = entry?;
            let builder = match builders.get_mut(&rec.activity) {
                Some(b) => b,
                None => builders.entry(rec.activity.clone()).or_default(),
            };
            builder.push(offset, &rec);
        }
        Ok(FileColumns {
            activities: builders
                .into_iter()
                .map(|(name, b)| (name, b.finish()))
                .collect(),
        })
    }
}

#[derive(Default)]
struct ActivityBuilder {
    offsets: Vec<u64>,
    begin: ColumnBuilder,
    end: ColumnBuilder,
    last_modified: ColumnBuilder,
    items: HashMap<String, ColumnBuilder>,
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
            offsets: self.offsets,
            begin: self.begin.finish(rows),
            end: self.end.finish(rows),
            last_modified: self.last_modified.finish(rows),
            items: self
                .items
                .into_iter()
                .map(|(name, c)| (name, c.finish(rows)))
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
        index: HashMap<String, u32>,
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
                    index: HashMap::new(),
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
                        let too_many = dict.len() >= SMALL_DICTIONARY && dict.len() > row / 2;
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
