//! Real-time aggregations: declared once, maintained by the bus as it
//! imports (a changed group-by value moves an instance's contribution from
//! its old group to its new one), read without a scan, and always equal to
//! the same aggregation computed by a full scan — under random workloads
//! with out-of-order continuations, operator actions, and crashes.

mod common;

use std::time::Duration;

use bamdb::model::{Timestamp, Value};
use bamdb::query::{Aggregate, BucketUnit, Measure, Zone};
use bamdb::storage::{CrashMode, MemStorage};
use bamdb::{EventStream, Store, StoreOptions};
use common::*;
use proptest::prelude::*;

fn options() -> StoreOptions {
    let mut o = mem_options();
    o.checkpoint_frames = 4;
    o.checkpoint_interval = Duration::from_secs(3600);
    o
}

fn by_status() -> Aggregate {
    let mut agg = Aggregate::new(PO);
    agg.group_by = vec!["Status".into(), "status".into()];
    agg.measures = vec![
        Measure::Count,
        Measure::parse("sum:Amount").unwrap(),
        Measure::parse("max:Amount").unwrap(),
        Measure::parse("avg:duration(Received,Shipped)").unwrap(),
    ];
    agg
}

fn assert_maintained_equals_scan(store: &Store, context: &str) {
    let maintained = store.aggregation("by_status").expect("declared");
    let scanned = store.aggregate(&by_status()).unwrap();
    assert_eq!(maintained, scanned, "{context}");
}

#[test]
fn a_status_change_moves_the_contribution_between_groups() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .declare_aggregation("by_status", &by_status())
        .unwrap();
    let mut s = store.direct_stream();
    s.begin(PO, "PO-1").unwrap();
    s.update(
        PO,
        "PO-1",
        [
            ("Status", Value::from("InProcess")),
            ("Amount", 10.0.into()),
        ],
    )
    .unwrap();
    s.flush().unwrap();
    let r = store.aggregation("by_status").unwrap();
    assert_eq!(r.rows.len(), 1);
    s.update(PO, "PO-1", [("Status", "Shipped")]).unwrap();
    s.end(PO, "PO-1").unwrap();
    s.flush().unwrap();
    let r = store.aggregation("by_status").unwrap();
    assert_eq!(r.rows.len(), 1, "the InProcess group is gone: {r:?}");
    assert_maintained_equals_scan(&store, "after the move");
    drop(s);
    drop(store);
    let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_maintained_equals_scan(&store, "after reopen");
    store.drop_aggregation("by_status").unwrap();
    assert!(store.aggregation("by_status").is_none());
}

#[test]
fn measures_that_hold_every_value_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for spec in [
        "p95:duration(Received,Shipped)",
        "median:Amount",
        "count_distinct:Status",
    ] {
        let mut agg = by_status();
        agg.measures.push(Measure::parse(spec).unwrap());
        let err = store.declare_aggregation("held", &agg).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(spec), "{msg}");
        assert!(msg.contains("bounded memory"), "{msg}");
        assert!(msg.contains("bamdb agg"), "{msg}");
        assert!(store.aggregation("held").is_none());
    }
    // Buckets in a zone other than UTC are asked, not maintained.
    let mut agg = by_status();
    agg.bucket = Some((BucketUnit::Month, "Received".into()));
    agg.zone = Zone::parse("Europe/Paris").unwrap();
    let msg = store
        .declare_aggregation("zoned", &agg)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("Europe/Paris") && msg.contains("--tz"),
        "{msg}"
    );
    // Calendar units in UTC are maintained (their keys are timestamps).
    agg.zone = Zone::utc();
    store.declare_aggregation("monthly", &agg).unwrap();
    assert_eq!(
        store.aggregation("monthly").unwrap(),
        store.aggregate(&agg).unwrap()
    );
}

#[derive(Debug, Clone)]
enum Op {
    /// Root of instance n: begin, Status, Amount, Received, token, end?
    Root(u8, u8, u16, bool),
    /// Continuation of instance n: Shipped, Status, end?
    Ship(u8, u8, bool),
    Remove(u8),
    Complete(u8),
    Crash(u8, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, 0u8..3, 0u16..1000, any::<bool>()).prop_map(|(n, s, a, e)| Op::Root(n, s, a, e)),
        3 => (0u8..8, 0u8..3, any::<bool>()).prop_map(|(n, s, e)| Op::Ship(n, s, e)),
        1 => (0u8..8).prop_map(Op::Remove),
        1 => (0u8..8).prop_map(Op::Complete),
        1 => (0u8..3, any::<u64>()).prop_map(|(m, seed)| Op::Crash(m, seed)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn maintained_results_equal_a_full_scan_under_random_workloads_and_crashes(ops in proptest::collection::vec(op(), 1..30)) {
        let mut disk = MemStorage::new();
        let mut store = open_mem(&disk, options());
        store.declare_aggregation("by_status", &by_status()).unwrap();
        let statuses = ["InProcess", "Shipped", "Invoiced"];
        let mut clock = 1_790_000_000_000_000i64;
        for (i, op) in ops.iter().enumerate() {
            clock += 1_000_000;
            let mut s = store.buffered_stream(0);
            s.set_time(Some(Timestamp::from_micros(clock)));
            match op {
                Op::Root(n, st, amount, ends) => {
                    let id = format!("PO-{n}");
                    s.begin(PO, &id).unwrap();
                    s.update(PO, &id, [("Status", Value::from(statuses[*st as usize])), ("Amount", Value::Float(f64::from(*amount))), ("Received", Value::Timestamp(Timestamp::from_micros(clock)))]).unwrap();
                    s.enable_continuation(PO, &id, &format!("SHIP-{n}")).unwrap();
                    if *ends { s.end(PO, &id).unwrap(); }
                    let _ = s.flush();
                }
                Op::Ship(n, st, ends) => {
                    let token = format!("SHIP-{n}");
                    s.update(PO, &token, [("Status", Value::from(statuses[*st as usize])), ("Shipped", Value::Timestamp(Timestamp::from_micros(clock + 3_600_000_000)))]).unwrap();
                    if *ends { s.end(PO, &token).unwrap(); }
                    let _ = s.flush();
                }
                Op::Remove(n) => { let _ = store.remove_instance(PO, &format!("PO-{n}")); }
                Op::Complete(n) => { let _ = store.complete_instance(PO, &format!("PO-{n}")); }
                Op::Crash(mode, seed) => {
                    drop(s);
                    let image = disk.crash_image(match mode { 0 => CrashMode::KeepAll, 1 => CrashMode::DropUnsynced, _ => CrashMode::Random(*seed) });
                    disk.crash_now();
                    drop(store);
                    disk = image;
                    store = Store::open_with_storage(disk.shared(), "/s", options()).unwrap();
                    settle(&store);
                    assert_maintained_equals_scan(&store, &format!("after crash at op {i}"));
                    continue;
                }
            }
            drop(s);
            settle(&store);
            assert_maintained_equals_scan(&store, &format!("after op {i} {op:?}"));
        }
    }
}
