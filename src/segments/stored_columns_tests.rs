#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::segments::layout::{FILE_VERSION, FILE_VERSION_V3};
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
    let (dir, _) = decode_directory(&encode(&built).unwrap(), FILE_VERSION, u64::MAX).unwrap();
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

/// `rows` PurchaseOrder records whose `end` grows with the row, and an
/// item `X` set only in the first 10 rows.
fn timed(rows: u64) -> FileColumns {
    let records: Vec<_> = (0..rows)
        .map(|i| {
            let x = (i < 10).then_some(StoredValue::Int(100 - i as i64));
            // Every fifth record is an Invoice: PurchaseOrder row r is
            // record r + r / 4 + 1.
            (i * 64, record(i * 5 / 4 + 1, x, Some(1_000 * i as i64)))
        })
        .collect();
    FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)))
}

/// The PurchaseOrder activity of `dir`.
fn po(dir: &mut Directory) -> &mut ActivityRef {
    dir.activities
        .iter_mut()
        .find(|a| a.name == "PurchaseOrder")
        .unwrap()
}

/// The section's bytes with its directory replaced by `dir`'s postcard
/// form (for version 3, `dir` in the version-3 form).
fn with_directory(section: &[u8], dir: &[u8]) -> Vec<u8> {
    let old_len = u32::from_le_bytes(section[..4].try_into().unwrap()) as usize;
    let mut out = (dir.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(dir);
    out.extend_from_slice(&section[4 + old_len..]);
    out
}

#[test]
fn block_ranges_round_trip() {
    let built = timed(50);
    let section = encode_with_block_rows(&built, 16).unwrap();
    let (dir, _) = decode_directory(&section, FILE_VERSION, u64::MAX).unwrap();
    assert_eq!(dir.block_rows, 16);
    let po = dir
        .activities
        .iter()
        .find(|a| a.name == "PurchaseOrder")
        .unwrap();
    assert_eq!(po.rows, 50);
    let ts = |lo: i64, hi: i64| Some((StoredValue::Timestamp(lo), StoredValue::Timestamp(hi)));
    // Rows 0..16, 16..32, 32..48, 48..50; `end` is 1000 × the row.
    assert_eq!(
        po.end.blocks,
        vec![
            ts(0, 15_000),
            ts(16_000, 31_000),
            ts(32_000, 47_000),
            ts(48_000, 49_000)
        ]
    );
    assert_eq!(po.last_modified.blocks, po.end.blocks);
    // X: set in rows 0..10 only, so no range in the other blocks.
    let x = &po.items.iter().find(|(n, _)| n == "X").unwrap().1;
    assert_eq!(
        x.blocks,
        vec![
            Some((StoredValue::Int(91), StoredValue::Int(100))),
            None,
            None,
            None
        ]
    );
    // Offsets have no range and no blocks.
    assert!(po.offsets.blocks.is_empty());
    // The blocks are part of the directory only: the columns decode as
    // before.
    let decoded = decode(&section, FILE_VERSION, 50).unwrap();
    assert_eq!(canonical(&decoded), canonical(&built));
    // The writer's block size.
    let (dir, _) = decode_directory(&encode(&built).unwrap(), FILE_VERSION, u64::MAX).unwrap();
    assert_eq!(dir.block_rows, BLOCK_ROWS);
    let po = dir
        .activities
        .iter()
        .find(|a| a.name == "PurchaseOrder")
        .unwrap();
    assert_eq!(po.end.blocks, vec![ts(0, 49_000)]);
}

#[test]
fn damaged_block_tables_are_refused_with_a_reason() {
    let built = timed(50);
    let section = encode_with_block_rows(&built, 16).unwrap();
    let (good, _) = decode_directory(&section, FILE_VERSION, u64::MAX).unwrap();
    let refused = |change: &dyn Fn(&mut Directory), reason: &str| {
        let mut dir = good.clone();
        change(&mut dir);
        let bad = with_directory(&section, &postcard::to_allocvec(&dir).unwrap());
        let err = decode_directory(&bad, FILE_VERSION, u64::MAX).unwrap_err();
        assert!(err.contains(reason), "{err}");
        let err = decode(&bad, FILE_VERSION, 50).unwrap_err();
        assert!(err.contains(reason), "{err}");
    };

    refused(&|d| d.block_rows = 0, "block size of 0 rows");
    refused(&|d| d.block_rows = u32::MAX, "is not between 1 and");
    // A block size that does not fit the tables: 50 rows in 2 blocks.
    refused(
        &|d| d.block_rows = 25,
        "4 block ranges, 2 expected for 50 rows",
    );
    refused(
        &|d| {
            po(d).end.blocks.pop();
        },
        "column end has 3 block ranges, 4 expected",
    );
    refused(
        &|d| po(d).offsets.blocks = vec![None; 4],
        "column offsets has 4 block ranges, 0 expected",
    );
    refused(
        &|d| po(d).begin.blocks[1] = Some((StoredValue::Timestamp(5), StoredValue::Timestamp(4))),
        "column begin, block 1",
    );
    refused(
        &|d| po(d).begin.blocks[2] = Some((StoredValue::Int(1), StoredValue::Int(2))),
        "is not one of the column's",
    );
    // More rows than the file holds records: refused before the block
    // tables are looked at.
    let err = decode_directory(&section, FILE_VERSION, 49).unwrap_err();
    assert!(
        err.contains("claim 50 rows, the file holds 49 records"),
        "{err}"
    );
    // A count far beyond the bytes: postcard stops at the end of the
    // directory without allocating for it.
    let mut huge = postcard::to_allocvec(&good).unwrap();
    let last = huge.len() - 1;
    huge.truncate(last);
    huge.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
    assert!(decode_directory(&with_directory(&section, &huge), FILE_VERSION, u64::MAX).is_err());
}

#[test]
fn version_3_directories_without_block_ranges_still_decode() {
    let built = timed(50);
    let section = encode_with_block_rows(&built, 16).unwrap();
    let (v4, _) = decode_directory(&section, FILE_VERSION, u64::MAX).unwrap();
    let v3 = postcard::to_allocvec(&blocks::DirectoryV3::from(&v4)).unwrap();
    let v3_section = with_directory(&section, &v3);
    let (dir, _) = decode_directory(&v3_section, FILE_VERSION_V3, u64::MAX).unwrap();
    assert_eq!(dir.block_rows, 0);
    for act in &dir.activities {
        let mine = v4.activities.iter().find(|a| a.name == act.name).unwrap();
        assert_eq!(act.rows, mine.rows);
        assert_eq!(act.end.range, mine.end.range);
        assert_eq!((act.end.at, act.end.len), (mine.end.at, mine.end.len));
        assert!(act.end.blocks.is_empty() && act.items.iter().all(|(_, c)| c.blocks.is_empty()));
    }
    let decoded = decode(&v3_section, FILE_VERSION_V3, 50).unwrap();
    assert_eq!(canonical(&decoded), canonical(&built));
    // Each version's directory is refused as the other's.
    assert!(decode_directory(&v3_section, FILE_VERSION, u64::MAX).is_err());
    assert!(decode_directory(&section, FILE_VERSION_V3, u64::MAX).is_err());
}

#[test]
fn block_ranges_that_disagree_with_the_values_fail_the_full_decode() {
    let built = timed(50);
    let section = encode_with_block_rows(&built, 16).unwrap();
    let (mut dir, _) = decode_directory(&section, FILE_VERSION, u64::MAX).unwrap();
    // A range that still looks like one (ordered, of the column's type)
    // but is not the block's: a query would skip rows it selects.
    po(&mut dir).end.blocks[1] = Some((
        StoredValue::Timestamp(17_000),
        StoredValue::Timestamp(31_000),
    ));
    let bad = with_directory(&section, &postcard::to_allocvec(&dir).unwrap());
    assert!(decode_directory(&bad, FILE_VERSION, u64::MAX).is_ok());
    let err = decode(&bad, FILE_VERSION, 50).unwrap_err();
    assert!(
        err.contains("block ranges disagree with its values"),
        "{err}"
    );
}

/// Row `row` of `column` as text (`None`: unset; floats bitwise).
fn cell(column: &Column, row: usize) -> Option<String> {
    fn at<T: std::fmt::Debug>(values: &[T], set: &[bool], row: usize) -> Option<String> {
        set[row].then(|| format!("{:?}", values[row]))
    }
    match column {
        Column::Int { values, set } | Column::Timestamp { values, set } => at(values, set, row),
        Column::Float { values, set } => set[row].then(|| format!("{:x}", values[row].to_bits())),
        Column::Bool { values, set } => at(values, set, row),
        Column::Text { codes, dict } => {
            (codes[row] != UNSET).then(|| dict[codes[row] as usize].clone())
        }
        Column::Unset | Column::Unavailable => None,
    }
}

proptest! {
    /// Decoding some runs of rows gives those rows as the whole decode
    /// does, and every other row unset.
    #[test]
    fn decoding_runs_of_rows_gives_those_rows_of_the_whole_column(
        items in proptest::collection::vec(value(), 1..80),
        cuts in proptest::collection::btree_set(0usize..90, 0..6),
    ) {
        let records: Vec<(u64, StoredInstance)> = items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 * 50, record(i as u64 * 5 + 1, v, Some(i as i64))))
            .collect();
        let built = FileColumns::from_records(records.iter().map(|(o, r)| (*o, r)));
        let section = encode(&built).unwrap();
        let (dir, data) = decode_directory(&section, FILE_VERSION, u64::MAX).unwrap();
        // Every other span between the cuts.
        let cuts: Vec<usize> = cuts.into_iter().collect();
        let runs: Vec<std::ops::Range<usize>> = cuts
            .chunks(2)
            .filter_map(|c| match c {
                [a, b] => Some(*a..*b),
                _ => None,
            })
            .collect();
        for act in &dir.activities {
            let rows = act.rows as usize;
            let refs = [&act.begin, &act.end, &act.last_modified]
                .into_iter()
                .chain(act.items.iter().map(|(_, c)| c));
            for r in refs {
                let bytes = slice(data, r).unwrap();
                let whole = decode_column(bytes, rows).unwrap();
                let part = decode_column_rows(bytes, rows, Some(&runs)).unwrap();
                for row in 0..rows {
                    let kept = runs.iter().any(|run| run.contains(&row));
                    let want = if kept { cell(&whole, row) } else { None };
                    prop_assert_eq!(cell(&part, row), want, "row {}", row);
                }
            }
        }
    }
}
