//! Active instances live on disk (issue 15): orders stay open over many
//! checkpoints and reopenings, their continuation parts arrive from a
//! second producer days later (simulated time), some parts before the link
//! that names them. Every answer equals the one of a store that did the
//! same work in one go with a cache large enough for everything; a reopened
//! store holds no changed node in memory, however many are open.

mod common;

use std::time::Duration;

use bamdb::model::StatusFilter;
use bamdb::model::{Timestamp, Value};
use bamdb::query::{Aggregate, Search};
use bamdb::{EventStream, Status, Store, StoreOptions};
use common::*;

const ORDERS: usize = 240;
const DAY: i64 = 24 * 3600 * 1_000_000;

/// Small cache and frequent checkpoints: the nodes go to disk constantly.
fn on_disk() -> StoreOptions {
    StoreOptions {
        checkpoint_frames: 2,
        active_cache_bytes: 16 << 10,
        ..StoreOptions::default()
    }
}

fn at(day: i64, i: usize) -> Option<Timestamp> {
    Some(Timestamp::from_micros(
        ts("2026-03-01T00:00:00Z").as_micros() + day * DAY + i as i64,
    ))
}

/// Day 0: every order begins, gets its items, enables a shipping token and
/// ends its own part: each stays active until its shipping part ends.
fn orders(store: &Store, range: std::ops::Range<usize>) {
    let mut s = store.buffered_stream_as(1, 0);
    for i in range {
        s.set_time(at(0, i));
        let id = format!("PO-{i:04}");
        s.begin(PO, &id).unwrap();
        s.update(
            PO,
            &id,
            [
                ("Customer", Value::from(format!("C{}", i % 7))),
                ("Region", Value::from(["EU", "US", "APAC"][i % 3])),
                ("Amount", Value::from(i as f64 * 1.5)),
            ],
        )
        .unwrap();
        s.enable_continuation(PO, &id, &format!("SHIP-{i:04}"))
            .unwrap();
        s.end(PO, &id).unwrap();
        if i % 10 == 9 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
}

/// Day `day`: shipping reports for orders `range` from a second producer.
fn shipping(store: &Store, range: std::ops::Range<usize>, day: i64) {
    let mut s = store.buffered_stream_as(2, 0);
    for i in range {
        s.set_time(at(day, i));
        let token = format!("SHIP-{i:04}");
        s.update(PO, &token, [("Status", "Shipped")]).unwrap();
        s.end(PO, &token).unwrap();
        if i % 10 == 9 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
}

/// Shipping reports under tokens no order enabled yet (pending), then,
/// later, the orders that enable them.
fn late_links(store: &Store, range: std::ops::Range<usize>, link: bool) {
    let mut s = store.buffered_stream_as(3, 0);
    for i in range {
        let (token, id) = (format!("LATE-{i:04}"), format!("PO-{i:04}"));
        if link {
            s.set_time(at(5, i));
            s.enable_continuation(PO, &id, &token).unwrap();
        } else {
            s.set_time(at(3, i));
            s.update(PO, &token, [("Quantity", Value::from(7i64))])
                .unwrap();
            s.end(PO, &token).unwrap();
        }
    }
    s.flush().unwrap();
}

/// The whole workload, phase by phase; `between` runs after each phase
/// (on the store with a small cache: close and reopen it).
fn workload(mut store: Store, mut between: impl FnMut(Store) -> Store) -> Store {
    orders(&store, 0..ORDERS);
    store = between(store);
    shipping(&store, 0..ORDERS / 2, 2);
    store = between(store);
    late_links(&store, ORDERS / 2..ORDERS * 3 / 4, false);
    store = between(store);
    late_links(&store, ORDERS / 2..ORDERS * 5 / 8, true);
    store = between(store);
    shipping(&store, ORDERS / 2..ORDERS * 5 / 8, 9);
    settle(&store);
    store
}

fn reopen(store: Store, options: &StoreOptions) -> Store {
    let dir = store.dir().to_path_buf();
    store.close().unwrap();
    let store = Store::open(&dir, options.clone()).unwrap();
    let stats = store.stats();
    assert_eq!(stats.active_changed, 0, "an open reads no node into memory");
    store
}

fn every_answer(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..ORDERS {
        for id in [
            format!("PO-{i:04}"),
            format!("SHIP-{i:04}"),
            format!("LATE-{i:04}"),
        ] {
            out.push(format!("{:?}", store.get(PO, &id).unwrap()));
        }
    }
    let mut all = Search::new(PO);
    all.status = StatusFilter::All;
    out.push(format!("{:?}", store.search(&all).unwrap()));
    let mut by_region = Aggregate::new(PO);
    by_region.group_by = vec!["Region".into(), "Status".into()];
    by_region.status = StatusFilter::All;
    out.push(format!("{:?}", store.aggregate(&by_region).unwrap()));
    out.push(format!("{:?}", store.pending(Some(PO)).unwrap()));
    let stats = store.stats();
    out.push(format!("active {} pending {}", stats.active, stats.pending));
    out
}

#[test]
fn parts_arriving_days_later_after_many_checkpoints_give_the_answers_of_memory() {
    let reference_dir = tempfile::tempdir().unwrap();
    let big = StoreOptions {
        active_cache_bytes: 1 << 30,
        checkpoint_frames: 1 << 20,
        checkpoint_interval: Duration::from_secs(3600),
        ..StoreOptions::default()
    };
    let reference = Store::open(reference_dir.path(), big).unwrap();
    reference.deploy(po_definition()).unwrap();
    let reference = workload(reference, |s| {
        settle(&s);
        s
    });
    assert_eq!(reference.stats().active_runs, 0, "all in memory");

    let dir = tempfile::tempdir().unwrap();
    let options = on_disk();
    let store = Store::open(dir.path(), options.clone()).unwrap();
    store.deploy(po_definition()).unwrap();
    let mut phases = Vec::new();
    let store = workload(store, |s| {
        let s = reopen(s, &options);
        let stats = s.stats();
        assert!(stats.active_runs > 0, "the open orders are on disk");
        phases.push((stats.active, stats.pending));
        s
    });
    assert_eq!(
        phases,
        [
            (ORDERS, 0),
            (ORDERS / 2, 0),
            (ORDERS / 2, ORDERS / 4),
            (ORDERS / 2, ORDERS / 8),
        ],
        "(active, pending) after each phase"
    );
    assert_eq!(every_answer(&store), every_answer(&reference));
    let quarantined = store.stats().counters.frames_quarantined;
    assert_eq!(quarantined, 0, "every frame is valid");

    // The orders shipped, the late links completed theirs; the rest wait.
    let done = store.get(PO, "PO-0000").unwrap().unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(done.item("Status"), Some(&Value::from("Shipped")));
    let late = store.get(PO, "PO-0125").unwrap().unwrap();
    assert_eq!(late.status, Status::Completed);
    assert_eq!(late.item("Quantity"), Some(&Value::from(7i64)));
    let open = store.get(PO, "PO-0200").unwrap().unwrap();
    assert_eq!(open.status, Status::Active);

    // The same after one more reopening, and the store verifies.
    let store = reopen(store, &options);
    assert_eq!(every_answer(&store), every_answer(&reference));
    store.close().unwrap();
    let report = Store::verify(dir.path(), &options).unwrap();
    assert!(report.is_sound(), "{:?}", report.problems);
    assert!(report.active_runs > 0);
    assert_eq!(
        report.active_nodes,
        (2 * (ORDERS * 3 / 8) + ORDERS / 8) as u64,
        "the open orders' roots and tokens, and the pending parts"
    );
}

#[test]
fn a_search_of_active_instances_with_a_limit_reads_the_first_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let options = on_disk();
    let store = Store::open(dir.path(), options.clone()).unwrap();
    store.deploy(po_definition()).unwrap();
    orders(&store, 0..ORDERS);
    let store = reopen(store, &options);
    let mut eu = Search::new(PO);
    eu.status = StatusFilter::Active;
    eu.filters = vec![bamdb::query::Filter::parse("Region = EU").unwrap()];
    eu.limit = Some(5);
    eu.columns = Some(vec!["id".into()]);
    let rows = store.search(&eu).unwrap();
    let ids: Vec<String> = rows
        .iter()
        .map(|r| format!("{:?}", r.values[0].1))
        .collect();
    let expected: Vec<String> = (0..ORDERS)
        .filter(|i| i % 3 == 0)
        .take(5)
        .map(|i| format!("{:?}", Some(Value::from(format!("PO-{i:04}")))))
        .collect();
    assert_eq!(ids, expected);
    let dangling = store.dangling(Duration::from_secs(0)).unwrap();
    assert_eq!(dangling.len(), ORDERS, "every open order, read from disk");
}

/// Damage anywhere in an active run is reported, never answered as data:
/// for copies of a store with one byte changed (every 97th byte of every
/// run), `verify` names the damaged run, and a reopened store's answers are
/// either the original ones or an error.
#[test]
fn a_damaged_active_run_is_reported_not_read_as_data() {
    let base = tempfile::tempdir().unwrap();
    let options = on_disk();
    let store = Store::open(base.path(), options.clone()).unwrap();
    store.deploy(po_definition()).unwrap();
    orders(&store, 0..40);
    let store = reopen(store, &options);
    let answers = |store: &Store| -> Result<Vec<String>, bamdb::StoreError> {
        let mut out = Vec::new();
        for i in 0..40 {
            out.push(format!("{:?}", store.get(PO, &format!("PO-{i:04}"))?));
        }
        out.push(format!("{:?}", store.pending(Some(PO))?));
        Ok(out)
    };
    let original = answers(&store).unwrap();
    store.close().unwrap();
    let segments = base.path().join("segments");
    let runs: Vec<String> = std::fs::read_dir(&segments)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".run"))
        .collect();
    assert!(!runs.is_empty());
    let mut cases = 0;
    for run in &runs {
        let bytes = std::fs::read(segments.join(run)).unwrap();
        for at in (0..bytes.len()).step_by(97) {
            cases += 1;
            let copy = tempfile::tempdir().unwrap();
            copy_store(base.path(), copy.path());
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            std::fs::write(copy.path().join("segments").join(run), &damaged).unwrap();
            let report = Store::verify(copy.path(), &options).unwrap();
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.location.contains(run.as_str())),
                "byte {at} of {run}: verify found {:?}",
                report.problems
            );
            let Ok(store) = Store::open(copy.path(), options.clone()) else {
                continue; // refused at open: reported, not served
            };
            if let Ok(got) = answers(&store) {
                assert_eq!(got, original, "byte {at} of {run} changed an answer");
            }
            drop(store);
        }
    }
    assert!(cases > 10, "{cases} damaged copies");
}

fn copy_store(from: &std::path::Path, to: &std::path::Path) {
    for sub in ["", "segments", "wal", "quarantine"] {
        let (src, dst) = (from.join(sub), to.join(sub));
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
            }
        }
    }
}
