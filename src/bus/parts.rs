//! The parts of a completed instance as its record stores them: what the
//! bus needs to reopen the instance when an event for it arrives after it
//! completed (see [`StoredInstance::parts`]).
//!
//! The compact form (written since import-file version 4) stores each
//! part relative to the record it belongs to: the root's id is the
//! record's, an item is named by its position in the record's items and
//! its value is omitted when it is the record's value, and every stamp is
//! an index into one table of the record's distinct stamps, delta-encoded
//! from the record's begin.
//! A typical order (one part, six items, three events) takes about 60
//! bytes instead of the 230 of the plain form, before compression.
//!
//! The plain form (postcard of `[(id, Node)]`, import-file versions 2 and
//! 3) is still read: it starts with the number of parts (at least one, so
//! never a zero byte), the compact form with [`COMPACT_TAG`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::state::{Node, Stamp};
use crate::fast_hash::FastMap;
use crate::model::{Reference, Relationship};
use crate::segments::record::{StoredInstance, StoredValue};

/// First byte of the compact form.
// Format: { tag u8 = 0 | postcard(CompactParts) }
const COMPACT_TAG: u8 = 0;

/// A stamp, as the difference from the one before it in the table
/// (sorted, so `ts` never goes down; `seq` may).
type StampDelta = (i64, u32, i64, u32);

#[derive(Serialize, Deserialize)]
struct CompactParts {
    stamps: Vec<StampDelta>,
    parts: Vec<CompactNode>,
}

/// An item's name: its position in the record's items, or spelled out
/// when the record has no item of that name (an older value of an item a
/// later part overwrote keeps the same name, so this is rare).
#[derive(Serialize, Deserialize)]
enum ItemName {
    Position(u32),
    Name(String),
}

/// An item's value: the record's (the part's value won the merge), or its
/// own.
#[derive(Serialize, Deserialize)]
enum ItemValue {
    Record,
    Own(StoredValue),
}

/// A [`Node`], with stamps as indexes into [`CompactParts::stamps`].
#[derive(Serialize, Deserialize)]
struct CompactNode {
    /// `None`: the record's id (the root).
    id: Option<String>,
    begun: Option<u32>,
    ended: Option<u32>,
    items: Vec<(ItemName, u32, ItemValue)>,
    tokens: Vec<(String, u32)>,
    linked_by: Vec<String>,
    parent: Option<String>,
    references: Vec<(u32, Reference)>,
    relations: Vec<(u32, Relationship)>,
    /// Difference from the last (latest) stamp's time.
    last_modified: Option<i64>,
    forced: Option<u32>,
}

/// Where the stamp table's differences start: the record's begin (or
/// end), so that the first stamp's time takes a byte or two, not eight.
fn origin(record: &StoredInstance) -> Stamp {
    Stamp {
        ts: record.begin.or(record.end).unwrap_or(0),
        ..Stamp::default()
    }
}

/// Whether two values are the same bit for bit (so `-0.0` and `0.0`, or
/// two NaNs, are never taken for each other).
fn same_value(a: &StoredValue, b: &StoredValue) -> bool {
    match (a, b) {
        (StoredValue::Float(x), StoredValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Encodes `parts` (the tree's nodes, root first) relative to `record`,
/// the instance they merge into.
///
/// The bytes are postcard's encoding of [`CompactParts`] (which `decode`
/// reads with postcard), written field by field: building the owned
/// structure for serde cost about 12,000 instructions per completed
/// instance, most of it allocation (`parts_tests.rs` checks both give the
/// same bytes).
pub(super) fn encode(parts: &[(&str, &Node)], record: &StoredInstance) -> Result<Vec<u8>, String> {
    let mut stamps: Vec<Stamp> = Vec::with_capacity(
        parts
            .iter()
            .map(|(_, n)| 3 + n.items.len() + n.tokens.len())
            .sum(),
    );
    for (_, node) in parts {
        stamps.extend(node.begun.iter().chain(&node.ended).chain(&node.forced));
        stamps.extend(node.items.values().map(|(_, s)| *s));
        stamps.extend(node.tokens.values());
        stamps.extend(node.references.iter().map(|(s, _)| *s));
        stamps.extend(node.relations.iter().map(|(s, _)| *s));
    }
    stamps.sort_unstable();
    stamps.dedup();
    let index = |stamp: &Stamp| -> u32 {
        // Every stamp was collected above.
        stamps.binary_search(stamp).unwrap_or(0) as u32
    };
    let base_ts = stamps.last().map_or(0, |s| s.ts);
    let positions = Positions::of(record);
    let mut out = Vec::with_capacity(16 + 12 * stamps.len() + 64 * parts.len());
    out.push(COMPACT_TAG);
    // CompactParts.stamps
    put_uint(&mut out, stamps.len() as u64);
    let mut previous = origin(record);
    for s in &stamps {
        put_int(&mut out, s.ts.wrapping_sub(previous.ts));
        put_uint(&mut out, u64::from(s.producer));
        put_int(&mut out, (s.seq as i64).wrapping_sub(previous.seq as i64));
        put_uint(&mut out, u64::from(s.index));
        previous = *s;
    }
    // CompactParts.parts, each a CompactNode
    put_uint(&mut out, parts.len() as u64);
    for (i, (id, node)) in parts.iter().enumerate() {
        put_option(
            &mut out,
            (i != 0 || *id != record.id).then_some(*id),
            put_text,
        );
        put_option(&mut out, node.begun.as_ref().map(index), put_u32);
        put_option(&mut out, node.ended.as_ref().map(index), put_u32);
        put_uint(&mut out, node.items.len() as u64);
        for (name, (value, stamp)) in &node.items {
            // ItemName, then the stamp, then ItemValue
            let own = match positions.get(name) {
                Some((at, theirs)) => {
                    put_uint(&mut out, 0); // ItemName::Position
                    put_u32(&mut out, at);
                    !same_value(theirs, value)
                }
                None => {
                    put_uint(&mut out, 1); // ItemName::Name
                    put_text(&mut out, name);
                    true
                }
            };
            put_u32(&mut out, index(stamp));
            if own {
                put_uint(&mut out, 1); // ItemValue::Own
                put_serde(&mut out, value)?;
            } else {
                put_uint(&mut out, 0); // ItemValue::Record
            }
        }
        put_uint(&mut out, node.tokens.len() as u64);
        for (token, stamp) in &node.tokens {
            put_text(&mut out, token);
            put_u32(&mut out, index(stamp));
        }
        put_uint(&mut out, node.linked_by.len() as u64);
        for id in &node.linked_by {
            put_text(&mut out, id);
        }
        put_option(&mut out, node.parent.as_deref(), put_text);
        put_uint(&mut out, node.references.len() as u64);
        for (stamp, reference) in &node.references {
            put_u32(&mut out, index(stamp));
            put_serde(&mut out, reference)?;
        }
        put_uint(&mut out, node.relations.len() as u64);
        for (stamp, relation) in &node.relations {
            put_u32(&mut out, index(stamp));
            put_serde(&mut out, relation)?;
        }
        put_option(
            &mut out,
            node.last_modified.map(|t| t.wrapping_sub(base_ts)),
            put_int,
        );
        put_option(&mut out, node.forced.as_ref().map(index), put_u32);
    }
    Ok(out)
}

/// Where each of the record's items is, by name: a scan while the record
/// has few items (the usual case), a map beyond. The last item of a name
/// wins, as in a map collected from the items.
enum Positions<'a> {
    Few(&'a [(String, StoredValue)]),
    Many(FastMap<&'a str, (u32, &'a StoredValue)>),
}

impl<'a> Positions<'a> {
    const SCAN_UP_TO: usize = 16;

    fn of(record: &'a StoredInstance) -> Positions<'a> {
        if record.items.len() <= Self::SCAN_UP_TO {
            return Positions::Few(&record.items);
        }
        Positions::Many(
            record
                .items
                .iter()
                .enumerate()
                .map(|(i, (name, value))| (name.as_str(), (i as u32, value)))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<(u32, &'a StoredValue)> {
        match self {
            Positions::Few(items) => items
                .iter()
                .rposition(|(n, _)| n == name)
                .and_then(|at| items.get(at).map(|(_, v)| (at as u32, v))),
            Positions::Many(map) => map.get(name).copied(),
        }
    }
}

// postcard's encoding, for the fields `encode` writes by hand: unsigned
// integers and lengths as LEB128 varints, signed ones zigzagged first,
// `Option` as a 0 or 1 byte before the value, an enum's variant as its
// index, text as its length and bytes.
fn put_uint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    put_uint(out, u64::from(v));
}

fn put_int(out: &mut Vec<u8>, v: i64) {
    // Reinterpreting the bits is the point of zigzag.
    put_uint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    put_uint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_option<T>(out: &mut Vec<u8>, value: Option<T>, put: fn(&mut Vec<u8>, T)) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put(out, v);
        }
    }
}

/// A value whose postcard form is left to serde (rare: references,
/// relations and item values that differ from the record's).
fn put_serde<T: Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), String> {
    *out = postcard::to_extend(value, std::mem::take(out))
        .map_err(|e| format!("encode parts: {e}"))?;
    Ok(())
}

/// The parts of `record`, in either form.
pub(super) fn decode(record: &StoredInstance) -> Result<Vec<(String, Node)>, String> {
    let bad = |e: postcard::Error| format!("the record's parts do not decode: {e}");
    let Some((&COMPACT_TAG, body)) = record.parts.split_first() else {
        return postcard::from_bytes(&record.parts).map_err(bad);
    };
    let compact: CompactParts = postcard::from_bytes(body).map_err(bad)?;
    let mut previous = origin(record);
    let stamps: Vec<Stamp> = compact
        .stamps
        .iter()
        .map(|&(ts, producer, seq, index)| {
            previous = Stamp {
                ts: previous.ts.wrapping_add(ts),
                producer,
                seq: (previous.seq as i64).wrapping_add(seq) as u64,
                index,
            };
            previous
        })
        .collect();
    let base_ts = stamps.last().map_or(0, |s| s.ts);
    let stamp = |i: u32| -> Result<Stamp, String> {
        stamps
            .get(i as usize)
            .copied()
            .ok_or_else(|| format!("the record's parts name stamp {i} of {}", stamps.len()))
    };
    let opt = |i: Option<u32>| i.map(stamp).transpose();
    let mut out = Vec::with_capacity(compact.parts.len());
    for part in compact.parts {
        let mut items = BTreeMap::new();
        for (name, at, value) in part.items {
            let theirs = match &name {
                ItemName::Position(p) => Some(record.items.get(*p as usize).ok_or_else(|| {
                    format!("the record's parts name item {p} of {}", record.items.len())
                })?),
                ItemName::Name(_) => None,
            };
            let name = match (name, theirs) {
                (ItemName::Name(n), _) => n,
                (ItemName::Position(_), Some((n, _))) => n.clone(),
                (ItemName::Position(p), None) => return Err(format!("item {p} is missing")),
            };
            let value = match (value, theirs) {
                (ItemValue::Own(v), _) => v,
                (ItemValue::Record, Some((_, v))) => v.clone(),
                (ItemValue::Record, None) => {
                    return Err(format!(
                        "item {name} takes the record's value, which has none"
                    ))
                }
            };
            items.insert(name, (value, stamp(at)?));
        }
        let node = Node {
            begun: opt(part.begun)?,
            ended: opt(part.ended)?,
            items,
            tokens: part
                .tokens
                .into_iter()
                .map(|(t, s)| Ok((t, stamp(s)?)))
                .collect::<Result<_, String>>()?,
            linked_by: part.linked_by.into_iter().collect(),
            parent: part.parent,
            references: part
                .references
                .into_iter()
                .map(|(s, r)| Ok((stamp(s)?, r)))
                .collect::<Result<_, String>>()?,
            relations: part
                .relations
                .into_iter()
                .map(|(s, r)| Ok((stamp(s)?, r)))
                .collect::<Result<_, String>>()?,
            last_modified: part.last_modified.map(|d| base_ts.wrapping_add(d)),
            forced: opt(part.forced)?,
        };
        out.push((part.id.unwrap_or_else(|| record.id.clone()), node));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "parts_tests.rs"]
mod tests;
