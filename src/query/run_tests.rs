#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::*;
use crate::query::{columnar, Filter, Measure};
use crate::segments::columns::FileColumns;
use crate::segments::record::StoredInstance;
use crate::segments::stored_columns::{decode, decode_directory, encode_with_block_rows};

const PO: &str = "PurchaseOrder";
const BASE: i64 = 1_793_000_000_000_000;
const SECOND: i64 = 1_000_000;

/// One generated row: `last_modified` (seconds after `BASE`, growing with
/// the row as ids do), Amount, Price (NaN possible) and Region, each
/// possibly unset.
type Gen = (Option<u16>, Option<i8>, Option<f64>, Option<u8>);

fn row() -> impl Strategy<Value = Gen> {
    (
        proptest::option::weighted(0.9, 0u16..40),
        proptest::option::weighted(0.7, -8i8..8),
        proptest::option::weighted(
            0.7,
            prop_oneof![9 => (-40i32..40).prop_map(|n| f64::from(n) / 4.0), 1 => Just(f64::NAN)],
        ),
        proptest::option::of(0u8..3),
    )
}

fn records(rows: &[Gen]) -> Vec<(u64, StoredInstance)> {
    rows.iter()
        .enumerate()
        .map(|(i, (lm, amount, price, region))| {
            let mut items = Vec::new();
            if let Some(a) = amount {
                items.push(("Amount".to_owned(), StoredValue::Int(i64::from(*a))));
            }
            if let Some(p) = price {
                items.push(("Price".to_owned(), StoredValue::Float(*p)));
            }
            if let Some(r) = region {
                items.push(("Region".to_owned(), StoredValue::Text(format!("R{r}"))));
            }
            // Times grow with the row, give or take `lm`'s jitter.
            let t = lm.map(|s| BASE + (i as i64 * 10 + i64::from(s)) * SECOND);
            let rec = StoredInstance {
                activity: PO.into(),
                id: format!("PO-{i:05}"),
                begin: t,
                end: t,
                last_modified: t,
                items,
                continuations: vec![],
                references: vec![],
                relationships: vec![],
                parts: vec![],
            };
            (16 + i as u64 * 100, rec)
        })
        .collect()
}

fn filter() -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("="),
        Just("!="),
        Just(">"),
        Just(">="),
        Just("<"),
        Just("<=")
    ];
    prop_oneof![
        (op.clone(), -9i32..9).prop_map(|(op, n)| format!("Amount {op} {n}")),
        (op.clone(), -45i32..45).prop_map(|(op, n)| format!("Price {op} {}", f64::from(n) / 4.0)),
        (op.clone(), 0u8..4).prop_map(|(op, r)| format!("Region {op} R{r}")),
        (op, 0i64..3000)
            .prop_map(|(op, s)| format!("end {op} {}", Timestamp::from_micros(BASE + s * SECOND))),
        prop_oneof![
            Just("Amount is empty"),
            Just("Price is not empty"),
            Just("begin is not empty")
        ]
        .prop_map(str::to_owned),
    ]
}

fn window() -> impl Strategy<Value = (Option<Timestamp>, Option<Timestamp>)> {
    let at = (0i64..3000).prop_map(|s| Timestamp::from_micros(BASE + s * SECOND));
    (proptest::option::of(at.clone()), proptest::option::of(at))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Over random rows, filters and time windows, and blocks of a few
    /// rows: the rows a search selects, and an aggregation's answer, are
    /// the same evaluating only the blocks the ranges keep as evaluating
    /// every row; a file the ranges skip selects nothing.
    #[test]
    fn block_skipping_gives_the_answers_of_a_full_evaluation(
        rows in proptest::collection::vec(row(), 1..120),
        filters in proptest::collection::vec(filter(), 0..3),
        (since, until) in window(),
        block_rows in 1u32..9,
    ) {
        let recs = records(&rows);
        let built = FileColumns::from_records(recs.iter().map(|(o, r)| (*o, r)));
        let section = encode_with_block_rows(&built, block_rows).unwrap();
        let (dir, _) = decode_directory(&section, crate::segments::layout::FILE_VERSION, u64::MAX).unwrap();
        let decoded = decode(&section, crate::segments::layout::FILE_VERSION, rows.len() as u64).unwrap();
        let cols = decoded.activities.get(PO).unwrap();

        let mut agg = Aggregate::new(PO);
        agg.filters = filters.iter().map(|f| Filter::parse(f).unwrap()).collect();
        agg.since = since;
        agg.until = until;
        agg.group_by = vec!["Region".into()];
        agg.measures = ["count", "sum:Amount", "min:end", "max:Price"]
            .iter()
            .map(|m| Measure::parse(m).unwrap())
            .collect();

        let scan = plan_scan_in(&dir, &agg);
        let full = columnar::select(cols, &agg, None);
        let aggregate = |runs: Option<&[Range<usize>]>, skip: bool| {
            let mut run = agg.start();
            let mut groups = Groups::new();
            if !skip {
                prop_assert!(run.add_columns_to(cols, runs, &mut groups));
            }
            run.merge_groups(groups);
            // Debug: NaN equals NaN, -0.0 differs from 0.0.
            Ok(format!("{:?}", run.finish().unwrap()))
        };
        match &scan {
            FileScan::Skip => {
                prop_assert_eq!(full, Some(Vec::new()));
                prop_assert_eq!(aggregate(None, true)?, aggregate(None, false)?);
            }
            scan => {
                prop_assert_eq!(columnar::select(cols, &agg, scan.runs()), full);
                prop_assert_eq!(aggregate(scan.runs(), false)?, aggregate(None, false)?);
            }
        }
    }
}

#[test]
fn a_narrow_window_keeps_only_the_blocks_it_overlaps() {
    // 100 rows, 10 seconds apart; blocks of 8 rows.
    let rows: Vec<Gen> = (0..100).map(|_| (Some(0), None, None, None)).collect();
    let recs = records(&rows);
    let built = FileColumns::from_records(recs.iter().map(|(o, r)| (*o, r)));
    let section = encode_with_block_rows(&built, 8).unwrap();
    let (dir, _) =
        decode_directory(&section, crate::segments::layout::FILE_VERSION, u64::MAX).unwrap();
    let mut sel = Selection::new(PO);
    // Rows 30 to 34: block 3 (rows 24..32) and block 4 (rows 32..40).
    sel.since = Some(Timestamp::from_micros(BASE + 300 * SECOND));
    sel.until = Some(Timestamp::from_micros(BASE + 345 * SECOND));
    assert_eq!(
        plan_scan_in(&dir, &sel),
        FileScan::Rows(std::iter::once(24..40).collect())
    );
    // After every row: the whole file is skipped.
    sel.since = Some(Timestamp::from_micros(BASE + 10_000 * SECOND));
    sel.until = None;
    assert_eq!(plan_scan_in(&dir, &sel), FileScan::Skip);
    // No filter: every row.
    sel.since = None;
    assert_eq!(plan_scan_in(&dir, &sel), FileScan::All);
}

#[test]
fn a_limited_search_keeps_the_first_keys_and_every_tie_at_the_last() {
    // `None` is an unset key: last in both directions.
    let rows = |keys: &[Option<i64>]| -> Vec<(Option<Key<'static>>, usize, u32)> {
        keys.iter()
            .enumerate()
            .map(|(i, &k)| (k.map(Key::Int), 0, i as u32))
            .collect()
    };
    let kept = |keys: &[Option<i64>], n, descending| {
        let mut r = rows(keys);
        keep_first_keys(&mut r, n, descending);
        let mut kept: Vec<u32> = r.iter().map(|x| x.2).collect();
        kept.sort_unstable();
        kept
    };
    let keys = [Some(5), Some(1), Some(3), Some(3), Some(9), Some(3)];
    assert_eq!(kept(&keys, 2, false), [1, 2, 3, 5]);
    assert_eq!(kept(&keys, 2, true), [0, 4]);
    assert_eq!(kept(&keys[..3], 3, false), [0, 1, 2]);
    assert_eq!(kept(&keys[..3], 10, false), [0, 1, 2]);
    assert_eq!(kept(&keys[..3], 1, false), [1]);
    assert!(kept(&keys[..3], 0, false).is_empty());
    let unset = [None, Some(2), None];
    assert_eq!(kept(&unset, 1, false), [1]);
    assert_eq!(kept(&unset, 1, true), [1]);
    assert_eq!(kept(&unset, 2, true), [0, 1, 2]);
}
