#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn stamp_strategy() -> impl Strategy<Value = Stamp> {
    (
        1_700_000_000_000_000i64..1_700_000_100_000_000,
        0u32..3,
        0u64..1_000_000,
        0u32..20,
    )
        .prop_map(|(ts, producer, seq, index)| Stamp {
            ts,
            producer,
            seq,
            index,
        })
}

fn value_strategy() -> impl Strategy<Value = StoredValue> {
    prop_oneof![
        "[a-c]{0,3}".prop_map(StoredValue::Text),
        any::<i64>().prop_map(StoredValue::Int),
        prop_oneof![
            Just(0.0),
            Just(-0.0),
            Just(f64::NAN),
            Just(1.5),
            any::<f64>()
        ]
        .prop_map(StoredValue::Float),
        any::<bool>().prop_map(StoredValue::Bool),
        any::<i64>().prop_map(StoredValue::Timestamp),
    ]
}

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![Just("A"), Just("B"), Just("C"), Just("D")].prop_map(str::to_owned)
}

fn node_strategy() -> impl Strategy<Value = Node> {
    (
        proptest::option::of(stamp_strategy()),
        proptest::option::of(stamp_strategy()),
        proptest::collection::btree_map(
            name_strategy(),
            (value_strategy(), stamp_strategy()),
            0..4,
        ),
        proptest::collection::btree_map("[S-U]", stamp_strategy(), 0..2),
        proptest::collection::btree_set("[P-R]", 0..2),
        proptest::option::of("[P-R]"),
        proptest::collection::vec(stamp_strategy(), 0..2),
        proptest::option::of(stamp_strategy()),
    )
        .prop_map(
            |(begun, ended, items, tokens, linked_by, parent, refs, forced)| Node {
                begun,
                ended,
                items,
                tokens,
                linked_by,
                parent,
                references: refs
                    .iter()
                    .map(|s| {
                        (
                            *s,
                            Reference {
                                ref_type: "DocumentUrl".into(),
                                name: "Invoice".into(),
                                data: format!("I-{}", s.seq),
                                long_data: None,
                            },
                        )
                    })
                    .collect(),
                relations: refs
                    .iter()
                    .map(|s| {
                        (
                            *s,
                            Relationship {
                                activity: "Shipment".into(),
                                id: format!("S-{}", s.index),
                            },
                        )
                    })
                    .collect(),
                last_modified: begun.map(|s| s.ts + 17),
                forced,
            },
        )
}

/// A record whose items take each name's value from one of the parts, or
/// another value (the parts are encoded against whatever the record is).
fn record_for(parts: &[(String, Node)], other: &[(String, StoredValue)]) -> StoredInstance {
    let mut items: BTreeMap<String, StoredValue> = other.iter().cloned().collect();
    for (_, node) in parts {
        for (name, (value, _)) in &node.items {
            items.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    StoredInstance {
        activity: "PO".into(),
        id: parts.first().map_or("PO-1".into(), |p| p.0.clone()),
        begin: parts.first().and_then(|p| p.1.begun).map(|s| s.ts),
        end: None,
        last_modified: None,
        items: items.into_iter().collect(),
        continuations: Vec::new(),
        references: Vec::new(),
        relationships: Vec::new(),
        parts: Vec::new(),
    }
}

/// The plain form's bytes: equal bytes mean equal parts, NaNs included.
fn plain(parts: &[(String, Node)]) -> Vec<u8> {
    postcard::to_allocvec(parts).unwrap()
}

fn borrowed(parts: &[(String, Node)]) -> Vec<(&str, &Node)> {
    parts.iter().map(|(id, n)| (id.as_str(), n)).collect()
}

/// The compact form as serde writes it: the structure `decode` reads,
/// built owned and handed to postcard. `encode` must give the same bytes.
fn encode_with_serde(parts: &[(&str, &Node)], record: &StoredInstance) -> Vec<u8> {
    let mut stamps: Vec<Stamp> = Vec::new();
    for (_, node) in parts {
        stamps.extend(node.begun.iter().chain(&node.ended).chain(&node.forced));
        stamps.extend(node.items.values().map(|(_, s)| *s));
        stamps.extend(node.tokens.values());
        stamps.extend(node.references.iter().map(|(s, _)| *s));
        stamps.extend(node.relations.iter().map(|(s, _)| *s));
    }
    stamps.sort_unstable();
    stamps.dedup();
    let index = |stamp: &Stamp| stamps.binary_search(stamp).unwrap() as u32;
    let base_ts = stamps.last().map_or(0, |s| s.ts);
    let positions: BTreeMap<&str, (u32, &StoredValue)> = record
        .items
        .iter()
        .enumerate()
        .map(|(i, (name, value))| (name.as_str(), (i as u32, value)))
        .collect();
    let compact = parts
        .iter()
        .enumerate()
        .map(|(i, (id, node))| CompactNode {
            id: (i != 0 || *id != record.id).then(|| id.to_string()),
            begun: node.begun.as_ref().map(index),
            ended: node.ended.as_ref().map(index),
            items: node
                .items
                .iter()
                .map(|(name, (value, stamp))| {
                    let (name, value) = match positions.get(name.as_str()) {
                        Some((at, theirs)) if same_value(theirs, value) => {
                            (ItemName::Position(*at), ItemValue::Record)
                        }
                        Some((at, _)) => (ItemName::Position(*at), ItemValue::Own(value.clone())),
                        None => (ItemName::Name(name.clone()), ItemValue::Own(value.clone())),
                    };
                    (name, index(stamp), value)
                })
                .collect(),
            tokens: node
                .tokens
                .iter()
                .map(|(t, s)| (t.clone(), index(s)))
                .collect(),
            linked_by: node.linked_by.iter().cloned().collect(),
            parent: node.parent.clone(),
            references: node
                .references
                .iter()
                .map(|(s, r)| (index(s), r.clone()))
                .collect(),
            relations: node
                .relations
                .iter()
                .map(|(s, r)| (index(s), r.clone()))
                .collect(),
            last_modified: node.last_modified.map(|t| t.wrapping_sub(base_ts)),
            forced: node.forced.as_ref().map(index),
        })
        .collect();
    let mut previous = origin(record);
    let deltas = stamps
        .iter()
        .map(|s| {
            let d = (
                s.ts.wrapping_sub(previous.ts),
                s.producer,
                (s.seq as i64).wrapping_sub(previous.seq as i64),
                s.index,
            );
            previous = *s;
            d
        })
        .collect();
    let mut out = vec![COMPACT_TAG];
    out.extend(
        postcard::to_allocvec(&CompactParts {
            stamps: deltas,
            parts: compact,
        })
        .unwrap(),
    );
    out
}

proptest! {
    /// Whatever the parts and the record, the compact form gives back the
    /// parts bit for bit.
    #[test]
    fn the_compact_form_round_trips(
        ids in proptest::collection::vec("[P-U]-[0-9]", 1..4),
        nodes in proptest::collection::vec(node_strategy(), 3),
        other in proptest::collection::vec((name_strategy(), value_strategy()), 0..3),
    ) {
        let parts: Vec<(String, Node)> = ids.into_iter().zip(nodes).collect();
        let mut record = record_for(&parts, &other);
        record.parts = encode(&borrowed(&parts), &record).unwrap();
        prop_assert_eq!(record.parts[0], COMPACT_TAG);
        let back = decode(&record).unwrap();
        prop_assert_eq!(plain(&back), plain(&parts));
    }

    /// `encode` writes postcard's bytes of the compact structure by hand:
    /// byte for byte what serde writes, for records of few items (found by
    /// a scan) and of many (found in a map).
    #[test]
    fn the_hand_written_encoding_is_postcards(
        ids in proptest::collection::vec("[P-U]-[0-9]", 1..4),
        nodes in proptest::collection::vec(node_strategy(), 3),
        other in proptest::collection::vec((name_strategy(), value_strategy()), 0..3),
        many in any::<bool>(),
    ) {
        let parts: Vec<(String, Node)> = ids.into_iter().zip(nodes).collect();
        let mut other = other;
        if many {
            other.extend((0..20).map(|i| (format!("X{i:02}"), StoredValue::Int(i))));
        }
        let record = record_for(&parts, &other);
        prop_assert_eq!(
            encode(&borrowed(&parts), &record).unwrap(),
            encode_with_serde(&borrowed(&parts), &record)
        );
    }

    /// Damaged compact bytes are an error, never a panic.
    #[test]
    fn damaged_parts_are_refused_without_a_panic(
        node in node_strategy(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
        cut in any::<prop::sample::Index>(),
    ) {
        let parts = vec![("PO-1".to_owned(), node)];
        let mut record = record_for(&parts, &[]);
        record.parts = encode(&borrowed(&parts), &record).unwrap();
        let at = flip.index(record.parts.len());
        record.parts[at] ^= 1 << bit;
        let _ = decode(&record);
        let len = cut.index(record.parts.len());
        record.parts.truncate(len);
        let _ = decode(&record);
    }
}

/// Records written before the compact form (import-file versions 2 and 3)
/// hold the plain form: still read.
#[test]
fn the_plain_form_is_still_read() {
    let mut node = Node {
        begun: Some(Stamp::default()),
        ..Node::default()
    };
    node.items.insert(
        "Amount".into(),
        (StoredValue::Float(-0.0), Stamp::default()),
    );
    let parts = vec![("PO-1".to_owned(), node)];
    let mut record = record_for(&parts, &[]);
    record.parts = plain(&parts);
    assert_ne!(record.parts[0], COMPACT_TAG);
    assert_eq!(plain(&decode(&record).unwrap()), plain(&parts));
}

/// The typical order (one part, six items set by one update, begun and
/// ended) is several times smaller than the plain form.
#[test]
fn a_typical_order_is_small() {
    let at = |ts: i64, seq: u64, index: u32| Stamp {
        ts,
        producer: 1,
        seq,
        index,
    };
    let t0 = 1_790_000_000_000_000;
    let mut node = Node {
        begun: Some(at(t0, 41_000, 0)),
        ended: Some(at(t0 + 3_600_000_000, 41_000, 2)),
        last_modified: Some(t0 + 3_600_000_000),
        ..Node::default()
    };
    for (name, value) in [
        ("Customer", StoredValue::Text("Customer 00042".into())),
        ("Region", StoredValue::Text("EU".into())),
        ("Amount", StoredValue::Float(412.5)),
        ("Quantity", StoredValue::Int(7)),
        ("Received", StoredValue::Timestamp(t0)),
        ("Shipped", StoredValue::Timestamp(t0 + 3_600_000_000)),
    ] {
        node.items.insert(name.into(), (value, at(t0, 41_000, 1)));
    }
    let parts = vec![("PO-000000042".to_owned(), node)];
    let mut record = record_for(&parts, &[]);
    record.parts = encode(&borrowed(&parts), &record).unwrap();
    let (compact, old) = (record.parts.len(), plain(&parts).len());
    assert!(compact * 3 < old, "compact {compact} bytes, plain {old}");
    assert_eq!(plain(&decode(&record).unwrap()), plain(&parts));
}

/// A compact form that names an item or a stamp the record does not have
/// is damage, reported as such.
#[test]
fn a_position_past_the_record_is_reported() {
    let mut node = Node::default();
    node.items
        .insert("A".into(), (StoredValue::Int(1), Stamp::default()));
    let parts = vec![("PO-1".to_owned(), node)];
    let mut record = record_for(&parts, &[]);
    record.parts = encode(&borrowed(&parts), &record).unwrap();
    record.items.clear();
    let err = decode(&record).unwrap_err();
    assert!(err.contains("item 0 of 0"), "{err}");
}

/// The records of a version-3 file (the fuzz corpus's copy) hold the plain
/// form, and it still decodes: instances completed before the compact form
/// can be amended.
#[test]
fn parts_in_version_3_files_still_decode() {
    use crate::segments::file::ImportFile;
    use crate::storage::{MemStorage, OpenMode, Storage};
    use std::path::Path;

    let bytes = include_bytes!("../../fuzz/corpus/import_file/compressed_records_v3");
    let disk = MemStorage::new();
    let dir = Path::new("/s");
    disk.create_dir_all(dir).unwrap();
    let f = disk
        .open_file(&dir.join("1.seg"), OpenMode::CreateNew)
        .unwrap();
    f.write_all_at(bytes, 0).unwrap();
    let file = ImportFile::open(&disk, dir, "1.seg").unwrap();
    let mut decoded = 0;
    for rec in file.records() {
        let rec = rec.unwrap();
        assert_ne!(rec.parts.first(), Some(&COMPACT_TAG));
        let parts = decode(&rec).unwrap();
        assert_eq!(parts.first().map(|p| p.0.as_str()), Some(rec.id.as_str()));
        decoded += 1;
    }
    assert!(decoded >= 64);
}
