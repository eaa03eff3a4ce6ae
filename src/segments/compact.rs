//! The compact record form of version-4 import files: a record names its
//! own key by its position in the file's key index (the activity and the
//! id are not repeated), its items by their position in the file's table
//! of item names, and its times as differences. Byte layout in
//! `docs/FORMAT.md` ("Records, version 4").
//!
//! The instance's parts are the bus's business: they arrive already in
//! their compact form (`bus/parts.rs`) and are stored as they are.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::record::{StoredInstance, StoredValue};
use crate::model::{Reference, Relationship};

/// Longest item name a name table holds (names are checked by the
/// definitions far below this).
const MAX_NAME_LEN: usize = 64 << 10;

/// The file's item names, each once, sorted: records name their items by
/// position in it.
pub(crate) struct NameTable<'a> {
    names: Vec<&'a str>,
    positions: HashMap<&'a str, u32>,
}

impl<'a> NameTable<'a> {
    /// Every item name the records use.
    pub fn of(records: &[&'a StoredInstance]) -> NameTable<'a> {
        let names: BTreeSet<&'a str> = records
            .iter()
            .flat_map(|r| r.items.iter().map(|(n, _)| n.as_str()))
            .collect();
        let names: Vec<&'a str> = names.into_iter().collect();
        let positions = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        NameTable { names, positions }
    }

    /// The table as stored: `postcard([String])`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        postcard::to_allocvec(&self.names).map_err(|e| e.to_string())
    }
}

/// Reads a stored name table, every count and length checked against the
/// bytes before anything is allocated for it.
pub(crate) fn decode_names(bytes: &[u8]) -> Result<Vec<String>, String> {
    let names: Vec<String> =
        postcard::from_bytes(bytes).map_err(|e| format!("the item names do not decode: {e}"))?;
    if let Some(long) = names.iter().find(|n| n.len() > MAX_NAME_LEN) {
        return Err(format!(
            "an item name of {} bytes exceeds the limit of {MAX_NAME_LEN}",
            long.len()
        ));
    }
    Ok(names)
}

/// Times as stored: each the difference from the one before it that is
/// set (begin, end, last modified), the first from zero.
fn chain_times(times: [Option<i64>; 3], forward: bool) -> [Option<i64>; 3] {
    let mut previous = 0i64;
    times.map(|t| {
        t.map(|t| {
            let (stored, actual) = if forward {
                (t.wrapping_sub(previous), t)
            } else {
                let actual = previous.wrapping_add(t);
                (actual, actual)
            };
            previous = actual;
            stored
        })
    })
}

// Format (record body, version 4): postcard { key u32 | times [Option<i64>; 3] | items [(u32, StoredValue)] | continuations [String] | references [Reference] | relationships [Relationship] | parts [u8] }
#[derive(Serialize)]
struct CompactRef<'a> {
    key: u32,
    times: [Option<i64>; 3],
    items: Vec<(u32, &'a StoredValue)>,
    continuations: &'a [String],
    references: &'a [Reference],
    relationships: &'a [Relationship],
    parts: &'a [u8],
}

#[derive(Deserialize)]
struct Compact {
    key: u32,
    times: [Option<i64>; 3],
    items: Vec<(u32, StoredValue)>,
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
    let items = rec
        .items
        .iter()
        .map(|(name, value)| {
            names
                .positions
                .get(name.as_str())
                .map(|&at| (at, value))
                .ok_or_else(|| format!("item {name} is not in the file's name table"))
        })
        .collect::<Result<_, String>>()?;
    postcard::to_allocvec(&CompactRef {
        key,
        times: chain_times([rec.begin, rec.end, rec.last_modified], true),
        items,
        continuations: &rec.continuations,
        references: &rec.references,
        relationships: &rec.relationships,
        parts: &rec.parts,
    })
    .map_err(|e| e.to_string())
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
    let items = compact
        .items
        .into_iter()
        .map(|(at, value)| {
            names
                .get(at as usize)
                .map(|name| (name.clone(), value))
                .ok_or_else(|| {
                    format!(
                        "record names item {at}, the file's name table holds {}",
                        names.len()
                    )
                })
        })
        .collect::<Result<_, String>>()?;
    let [begin, end, last_modified] = chain_times(compact.times, false);
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
