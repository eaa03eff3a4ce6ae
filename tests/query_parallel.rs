//! Aggregations over stores large enough to be scanned on two threads
//! (50,000 records or more in import files) answer exactly as the same
//! aggregation run row by row over every instance: each thread's groups
//! merge into the same result whatever the split.

mod common;

use std::time::Duration;

use bamdb::fixture::{self, CompletedOrder, ACTIVITY};
use bamdb::query::{Aggregate, BucketUnit, Filter, Measure};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store};

const ORDERS: u64 = 60_000;

fn store() -> Store {
    let disk = MemStorage::new();
    let mut options = common::mem_options();
    // Files of a few thousand records: many files for the two threads.
    options.checkpoint_frames = 8;
    let store = Store::open_with_storage(disk.shared(), "/s", options).unwrap();
    store
        .deploy(fixture::definition(fixture::QUERY_ITEMS))
        .unwrap();
    let mut s = store.buffered_stream(0);
    for i in 0..ORDERS {
        CompletedOrder::new(i).report(&mut s).unwrap();
        if i % 500 == 499 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
    drop(s);
    assert!(store.sync(Duration::from_secs(600)));
    store
}

#[test]
fn a_scan_on_two_threads_answers_like_one_row_by_row() {
    let store = store();
    let stats = store.stats();
    assert!(
        stats.import_files >= 4,
        "the data spans several files: {stats:?}"
    );
    let all = store.instances(ACTIVITY).unwrap();
    assert_eq!(all.len() as u64, ORDERS);
    let measures = |specs: &[&str]| -> Vec<Measure> {
        specs.iter().map(|m| Measure::parse(m).unwrap()).collect()
    };
    let mut by_region = Aggregate::new(ACTIVITY);
    by_region.group_by = vec!["Region".into()];
    by_region.measures = measures(&["count", "sum:Amount", "avg:Amount", "max:Quantity"]);
    let mut by_day = Aggregate::new(ACTIVITY);
    by_day.group_by = vec!["Region".into()];
    by_day.bucket = Some((BucketUnit::Day, "Received".into()));
    by_day.measures = measures(&["count", "avg:duration(Received,Shipped)"]);
    let mut filtered = Aggregate::new(ACTIVITY);
    filtered.filters = vec![Filter::parse("Amount >= 990").unwrap()];
    filtered.measures = measures(&["count", "min:Amount"]);
    for agg in [by_region, by_day, filtered] {
        assert_eq!(store.aggregate(&agg).unwrap(), agg.run(all.clone()));
    }
}
