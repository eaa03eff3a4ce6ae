#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::segments::layout::FILE_VERSION;
use crate::segments::record::StoredInstance;
use proptest::prelude::*;

fn record(i: u64, item: Option<StoredValue>, end: Option<i64>) -> StoredInstance {
    StoredInstance {
        activity: if i % 5 == 0 {
            "Invoice".into()
        } else {
            "PurchaseOrder".into()
        },
        id: format!("PO-{i}"),
        begin: Some(1_000 + i as i64),
        end,
        last_modified: end,
        items: item.into_iter().map(|v| ("X".to_owned(), v)).collect(),
        continuations: vec![],
        references: vec![],
        relationships: vec![],
        parts: vec![],
    }
}

/// The projection as text, activities and items in name order (floats
/// print bitwise-distinct values differently, NaN included).
fn canonical(cols: &FileColumns) -> String {
    let mut acts: Vec<_> = cols.activities.iter().collect();
    acts.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (name, a) in acts {
        let mut items: Vec<_> = a.items.iter().collect();
        items.sort_by(|x, y| x.0.cmp(y.0));
        out += &format!(
            "{name}: {:?} {:?} {:?} {:?} {items:?}\n",
            a.offsets, a.begin, a.end, a.last_modified
        );
    }
    out
}

fn value() -> impl Strategy<Value = Option<StoredValue>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(|v| Some(StoredValue::Int(v))),
        (-5i64..5).prop_map(|v| Some(StoredValue::Int(v))),
        any::<f64>().prop_map(|v| Some(StoredValue::Float(v))),
        // Decimals: stored as integers and a power of ten.
        (-100_000i64..100_000).prop_map(|n| Some(StoredValue::Float(n as f64 / 100.0))),
        (0i64..50).prop_map(|n| Some(StoredValue::Float(n as f64 * 0.1))),
        Just(Some(StoredValue::Float(-0.0))),
        // Timestamps in whole seconds: packed by their common step.
        (0i64..1_000_000).prop_map(|s| Some(StoredValue::Timestamp(
            1_793_491_200_000_000 + s * 1_000_000
        ))),
        any::<bool>().prop_map(|v| Some(StoredValue::Bool(v))),
        any::<i64>().prop_map(|v| Some(StoredValue::Timestamp(v))),
        "[a-c]{0,3}".prop_map(|v| Some(StoredValue::Text(v))),
    ]
}

proptest! {
    /// Whatever the records hold (mixed types, unset rows, extreme
    /// numbers), the stored projection decodes to the one built from them.
    #[test]
    fn decoding_gives_back_the_projection_built_from_the_records(
        items in proptest::collection::vec((value(), proptest::option::of(any::<i64>()), 0u64..500), 0..80),
    ) {
        let mut at = 16;
        let records: Vec<(u64, StoredInstance)> = items
            .into_iter()
            .enumerate()
            .map(|(i, (v, end, len))| {
                let offset = at;
                at += 8 + len;
                (offset, record(i as u64, v, end))
            })
            .collect();
        let built = FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)));
        let bytes = encode(&built).unwrap();
        let decoded = decode(&bytes, FILE_VERSION, records.len() as u64).unwrap();
        // Floats compare bitwise (NaN included).
        prop_assert_eq!(canonical(&decoded), canonical(&built));
    }
}

#[test]
fn decimals_and_whole_seconds_pack_small() {
    let rows = 1000u64;
    let records: Vec<_> = (0..rows)
        .map(|i| {
            let mut r = record(
                i * 5 + 1,
                Some(StoredValue::Float((i * 37 % 100_000) as f64 / 100.0)),
                None,
            );
            r.begin = Some(1_793_491_200_000_000 + (i as i64 * 7919 % 2_592_000) * 1_000_000);
            (i * 100, r)
        })
        .collect();
    let built = FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)));
    let bytes = encode(&built).unwrap();
    // Amounts: 17 bits; begin: 22 bits (30 days of seconds); offsets: 7
    // bits; end and last_modified unset. About 6 bytes a row.
    assert!(bytes.len() < rows as usize * 7, "{} bytes", bytes.len());
    let decoded = decode(&bytes, FILE_VERSION, rows).unwrap();
    assert_eq!(canonical(&decoded), canonical(&built));
}

#[test]
fn value_ranges_are_the_smallest_and_largest_set_values() {
    let records: Vec<_> = [3, -7, 12]
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            (
                i as u64 * 100,
                record(i as u64 + 1, Some(StoredValue::Int(v)), None),
            )
        })
        .chain([(300, record(4, None, Some(9)))])
        .collect();
    let built = FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)));
    let (dir, _) = decode_directory(&encode(&built).unwrap(), FILE_VERSION).unwrap();
    let po = dir
        .activities
        .iter()
        .find(|a| a.name == "PurchaseOrder")
        .unwrap();
    assert_eq!(po.rows, 4);
    let x = &po.items.iter().find(|(n, _)| n == "X").unwrap().1;
    assert_eq!(x.range, Some((StoredValue::Int(-7), StoredValue::Int(12))));
    assert_eq!(
        po.end.range,
        Some((StoredValue::Timestamp(9), StoredValue::Timestamp(9)))
    );
}

#[test]
fn damaged_sections_are_refused_with_a_reason_never_a_panic() {
    let records: Vec<_> = (0..40u64)
        .map(|i| {
            (
                i * 64,
                record(
                    i,
                    Some(StoredValue::Text(format!("t{}", i % 3))),
                    Some(i as i64),
                ),
            )
        })
        .collect();
    let built = FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)));
    let good = encode(&built).unwrap();
    // Every truncation fails cleanly.
    for len in 0..good.len() {
        assert!(
            decode(&good[..len], FILE_VERSION, 40).is_err(),
            "truncated to {len}"
        );
    }
    // More rows than the file holds records is refused.
    assert!(decode(&good, FILE_VERSION, 39).is_err());
    // Flips either fail or decode to something; never a panic.
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0xFF;
        let _ = decode(&bad, FILE_VERSION, 40);
    }
}
