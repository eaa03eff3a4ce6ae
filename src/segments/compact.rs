//! The compact record form of version-4 import files: a record names its
//! own key by its position in the file's key index (the activity and the
//! id are not repeated), its items by their position in the file's table
//! of item names, and its times as differences. Byte layout in
//! `docs/FORMAT.md` ("Records, version 4").
//!
//! The instance's parts are the bus's business: they arrive already in
//! their compact form (`bus/parts.rs`) and are stored as they are.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use crate::fast_hash::{FastMap, FastSet};

use serde::{Deserialize, Serialize};

use super::decimal;
use super::record::{StoredInstance, StoredValue};
use crate::model::{Reference, Relationship};

/// Longest name a name table holds (names are checked by the definitions
/// far below this).
const MAX_NAME_LEN: usize = 64 << 10;

/// The file's names, each once: its activities, with the position of
/// each one's first key in the index (keys are sorted by activity, so an
/// activity's keys follow each other and the index need not repeat its
/// name), and its item names, sorted (records name their items by
/// position).
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct FileNames {
    pub activities: Vec<(String, u64)>,
    pub items: Vec<String>,
}

impl FileNames {
    /// The activity of index key `i`.
    pub fn activity_of(&self, i: usize) -> Option<&str> {
        let after = self
            .activities
            .partition_point(|(_, first)| *first <= i as u64);
        after
            .checked_sub(1)
            .and_then(|a| self.activities.get(a))
            .map(|(name, _)| name.as_str())
    }
}

/// The writer's name table: [`FileNames`], and each item name's position.
pub(crate) struct NameTable<'a> {
    names: FileNames,
    positions: FastMap<&'a str, u32>,
}

impl<'a> NameTable<'a> {
    /// Every item name the records use, and the activities of the index
    /// `keys` (sorted by activity).
    pub fn of<'k>(
        records: &[&'a StoredInstance],
        keys: impl Iterator<Item = &'k str>,
    ) -> NameTable<'a> {
        // Distinct names first (a hash set), then sorted: collecting every
        // record's names into a sorted set sorted them all, a file's worth
        // of comparisons of the same few names.
        let distinct: FastSet<&'a str> = records
            .iter()
            .flat_map(|r| r.items.iter().map(|(n, _)| n.as_str()))
            .collect();
        let items: BTreeSet<&'a str> = distinct.into_iter().collect();
        let positions = items
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let mut activities: Vec<(String, u64)> = Vec::new();
        for (i, activity) in keys.enumerate() {
            if activities.last().is_none_or(|(last, _)| last != activity) {
                activities.push((activity.to_owned(), i as u64));
            }
        }
        NameTable {
            names: FileNames {
                activities,
                items: items.into_iter().map(str::to_owned).collect(),
            },
            positions,
        }
    }

    /// The table as stored: `postcard(FileNames)`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(&self.names).map_err(|e| e.to_string())
    }
}

/// Reads a stored name table of a file with `key_count` keys. Postcard
/// checks every length against the bytes; the activities' first keys must
/// start at 0 and rise, within the index.
pub(crate) fn decode_names(bytes: &[u8], key_count: usize) -> Result<FileNames, String> {
    let names: FileNames =
        postcard::from_bytes(bytes).map_err(|e| format!("the name table does not decode: {e}"))?;
    if let Some(long) = names
        .items
        .iter()
        .chain(names.activities.iter().map(|(a, _)| a))
        .find(|n| n.len() > MAX_NAME_LEN)
    {
        return Err(format!(
            "a name of {} bytes exceeds the limit of {MAX_NAME_LEN}",
            long.len()
        ));
    }
    let firsts: Vec<u64> = names.activities.iter().map(|(_, f)| *f).collect();
    let starts_right = match firsts.first() {
        Some(&first) => first == 0,
        None => key_count == 0,
    };
    if !starts_right
        || firsts.windows(2).any(|w| matches!(w, [a, b] if a >= b))
        || firsts.last().is_some_and(|&l| l >= key_count as u64)
    {
        return Err(format!(
            "the activities' first keys {firsts:?} do not partition {key_count} keys"
        ));
    }
    Ok(names)
}

/// Times as stored: each the difference from the one before it that is
/// set (begin, end, last modified), the first from zero.
fn times_as_differences(times: [Option<i64>; 3]) -> [Option<i64>; 3] {
    let mut previous = 0i64;
    times.map(|t| {
        t.map(|t| {
            let difference = t.wrapping_sub(previous);
            previous = t;
            difference
        })
    })
}

/// The times back from [`times_as_differences`].
fn times_from_differences(differences: [Option<i64>; 3]) -> [Option<i64>; 3] {
    let mut previous = 0i64;
    differences.map(|d| {
        d.map(|d| {
            previous = previous.wrapping_add(d);
            previous
        })
    })
}

/// An item's value as a compact record stores it: timestamps as their
/// distance from the record's begin, and floats that are short decimals
/// (amounts, prices) as an integer and a power of ten.
// Format (CompactValue, a postcard enum): 0 Text(String) | 1 Int(i64) | 2 Float(f64) | 3 Bool(bool) | 4 Timestamp(i64 - begin) | 5 Decimal(i64, u8)
#[derive(Debug, Serialize, Deserialize)]
enum CompactValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Decimal(i64, u8),
}

/// [`CompactValue`] as written: the same variants in the same order (so
/// the same postcard bytes), borrowing the text instead of copying it.
#[derive(Debug, Serialize)]
enum CompactValueRef<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Decimal(i64, u8),
}

impl<'a> CompactValueRef<'a> {
    fn of(value: &'a StoredValue, origin: i64) -> CompactValueRef<'a> {
        match value {
            StoredValue::Text(s) => CompactValueRef::Text(s),
            StoredValue::Int(i) => CompactValueRef::Int(*i),
            StoredValue::Float(f) => match decimal::fewest_digits(*f) {
                Some((n, d)) => CompactValueRef::Decimal(n, d),
                None => CompactValueRef::Float(*f),
            },
            StoredValue::Bool(b) => CompactValueRef::Bool(*b),
            StoredValue::Timestamp(t) => CompactValueRef::Timestamp(t.wrapping_sub(origin)),
        }
    }
}

impl CompactValue {
    fn into_value(self, origin: i64) -> Result<StoredValue, String> {
        Ok(match self {
            CompactValue::Text(s) => StoredValue::Text(s),
            CompactValue::Int(i) => StoredValue::Int(i),
            CompactValue::Float(f) => StoredValue::Float(f),
            CompactValue::Bool(b) => StoredValue::Bool(b),
            CompactValue::Timestamp(t) => StoredValue::Timestamp(origin.wrapping_add(t)),
            CompactValue::Decimal(n, d) => {
                StoredValue::Float(decimal::value_of(n, d).ok_or_else(|| {
                    format!(
                        "a decimal with {d} digits (at most {})",
                        decimal::MAX_DIGITS
                    )
                })?)
            }
        })
    }
}

// Format (record body, version 4): postcard { key u32 | times [Option<i64>; 3] | items [(u32, CompactValue)] | continuations [String] | references [Reference] | relationships [Relationship] | parts [u8] }
#[derive(Serialize)]
struct CompactRef<'a> {
    key: u32,
    times: [Option<i64>; 3],
    items: Vec<(u32, CompactValueRef<'a>)>,
    continuations: &'a [String],
    references: &'a [Reference],
    relationships: &'a [Relationship],
    parts: &'a [u8],
}

#[derive(Deserialize)]
struct Compact {
    key: u32,
    times: [Option<i64>; 3],
    items: Vec<(u32, CompactValue)>,
    continuations: Vec<String>,
    references: Vec<Reference>,
    relationships: Vec<Relationship>,
    parts: Vec<u8>,
}

/// Encodes `rec`, whose own key is key `key` of the file's index.
pub(crate) fn encode_record(
    rec: &StoredInstance,
    key: u32,
    names: &NameTable<'_>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    encode_record_into(rec, key, names, &mut out)?;
    Ok(out)
}

/// [`encode_record`] into `out` (emptied first), so that a file's writer
/// reuses one buffer for all its records.
pub(crate) fn encode_record_into(
    rec: &StoredInstance,
    key: u32,
    names: &NameTable<'_>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    let origin = rec.begin.unwrap_or(0);
    let items = rec
        .items
        .iter()
        .map(|(name, value)| {
            names
                .positions
                .get(name.as_str())
                .map(|&at| (at, CompactValueRef::of(value, origin)))
                .ok_or_else(|| format!("item {name} is not in the file's name table"))
        })
        .collect::<Result<_, String>>()?;
    let compact = CompactRef {
        key,
        times: times_as_differences([rec.begin, rec.end, rec.last_modified]),
        items,
        continuations: &rec.continuations,
        references: &rec.references,
        relationships: &rec.relationships,
        parts: &rec.parts,
    };
    *out = postcard::to_extend(&compact, std::mem::take(out)).map_err(|e| e.to_string())?;
    Ok(())
}

/// A decoded record, but for its activity and id: the caller reads them
/// from key [`Self::key`] of the index.
pub(crate) struct DecodedRecord {
    pub key: u32,
    /// `activity` and `id` empty.
    pub record: StoredInstance,
}

/// Decodes a record body with the file's item `names`.
pub(crate) fn decode_record(body: &[u8], names: &[String]) -> Result<DecodedRecord, String> {
    let compact: Compact =
        postcard::from_bytes(body).map_err(|e| format!("record does not decode: {e}"))?;
    let [begin, end, last_modified] = times_from_differences(compact.times);
    let origin = begin.unwrap_or(0);
    let items = compact
        .items
        .into_iter()
        .map(|(at, value)| {
            let name = names.get(at as usize).ok_or_else(|| {
                format!(
                    "record names item {at}, the file's name table holds {}",
                    names.len()
                )
            })?;
            Ok((name.clone(), value.into_value(origin)?))
        })
        .collect::<Result<_, String>>()?;
    Ok(DecodedRecord {
        key: compact.key,
        record: StoredInstance {
            activity: String::new(),
            id: String::new(),
            begin,
            end,
            last_modified,
            items,
            continuations: compact.continuations,
            references: compact.references,
            relationships: compact.relationships,
            parts: compact.parts,
        },
    })
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
