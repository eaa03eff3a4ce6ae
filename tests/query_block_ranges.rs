//! Import files (version 4) keep the value range of each block of rows of
//! every number and timestamp column, and a query skips the blocks whose
//! ranges rule it out (issue 14: "skips files and blocks"). Ids here are
//! assigned in time order, as they usually are, so a narrow time window,
//! or a filter on an item that follows the time, falls in one or two
//! blocks of a file: a query evaluates only their rows (counted by the
//! test hook `bamdb::query::rows_examined`), and its answer is the one a
//! plain evaluation of every instance gives.

use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp, Value};
use bamdb::query::{rows_examined, Aggregate, Filter, Measure, Search};
use bamdb::storage::MemStorage;
use bamdb::{EventStream, Store, StoreOptions};

const A: &str = "Order";
const BASE: i64 = 1_793_000_000_000_000;
const MINUTE: i64 = 60_000_000;
/// Orders in the store: about four blocks' worth.
const ORDERS: i64 = 8_000;
/// Rows per block the writer uses (`stored_columns::BLOCK_ROWS`).
const BLOCK_ROWS: u64 = 2048;

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Amount","type":"float"},
            {"name":"Shipped","type":"timestamp"}]}"#,
    )
    .unwrap()
}

fn at(minute: i64) -> Timestamp {
    Timestamp::from_micros(BASE + minute * MINUTE)
}

/// Order `i` happens at minute `i` and ships 30 minutes later; every
/// tenth is still active. Closed and reopened: the completed ones are
/// in import files.
fn store() -> Store {
    let disk = MemStorage::new();
    let store = Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    let mut s = store.buffered_stream(0);
    for i in 0..ORDERS {
        let id = format!("O-{i:06}");
        s.set_time(Some(at(i)));
        s.begin(A, &id).unwrap();
        s.update(
            A,
            &id,
            vec![
                ("Region", Value::from(["EU", "US", "APAC"][i as usize % 3])),
                ("Amount", Value::Float((i % 997) as f64 / 4.0)),
                ("Shipped", Value::Timestamp(at(i + 30))),
            ],
        )
        .unwrap();
        if i % 10 != 9 {
            s.end(A, &id).unwrap();
        }
        if i % 100 == 99 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
    drop(s);
    assert!(store.sync(Duration::from_secs(60)));
    // Closing imports the completed orders into files.
    store.close().unwrap();
    Store::open_with_storage(disk.shared(), "/s", StoreOptions::default()).unwrap()
}

fn window(since: i64, until: i64) -> (Option<Timestamp>, Option<Timestamp>) {
    (Some(at(since)), Some(at(until)))
}

/// Runs `search` through the store and row by row over every instance;
/// both must agree. Returns the rows it found and the rows the store
/// evaluated through column projections.
fn search(store: &Store, search: &Search) -> (usize, u64) {
    let before = rows_examined();
    let got = store.search(search).unwrap();
    let examined = rows_examined() - before;
    let want = search.run(store.instances(A).unwrap());
    assert_eq!(got, want, "{search:?}");
    (got.len(), examined)
}

fn aggregate(store: &Store, agg: &Aggregate) -> u64 {
    let before = rows_examined();
    let got = store.aggregate(agg).unwrap();
    let examined = rows_examined() - before;
    let want = agg.run(store.instances(A).unwrap());
    assert_eq!(format!("{got:?}"), format!("{want:?}"), "{agg:?}");
    examined
}

#[test]
fn narrow_windows_evaluate_only_the_blocks_they_overlap() {
    let store = store();
    // Completed orders in the files: 9 in 10.
    let stored = (ORDERS as u64) * 9 / 10;

    // A whole scan evaluates every stored row.
    let (found, examined) = search(&store, &Search::new(A));
    assert_eq!(found, ORDERS as usize);
    assert_eq!(examined, stored);

    // An hour in the middle: 60 orders, one block (two if it straddles).
    let mut s = Search::new(A);
    (s.since, s.until) = window(3_000, 3_060);
    let (found, examined) = search(&store, &s);
    assert_eq!(found, 60);
    assert!(examined <= 2 * BLOCK_ROWS, "{examined} rows evaluated");

    // An item that follows the time.
    let mut s = Search::new(A);
    s.filters
        .push(Filter::parse(&format!("Shipped > {}", at(ORDERS + 10))).unwrap());
    let (found, examined) = search(&store, &s);
    assert_eq!(found, 19);
    assert!(examined <= 2 * BLOCK_ROWS, "{examined} rows evaluated");

    // A filter on `end` and one on a value: the same answers.
    let mut s = Search::new(A);
    s.filters
        .push(Filter::parse(&format!("end < {}", at(1_000))).unwrap());
    s.filters.push(Filter::parse("Amount >= 100").unwrap());
    let (_, examined) = search(&store, &s);
    assert!(examined <= BLOCK_ROWS, "{examined} rows evaluated");

    // A window with a filter the projection cannot answer (`id`): read
    // from the records of the kept blocks only, same answer.
    let mut s = Search::new(A);
    (s.since, s.until) = window(5_000, 5_100);
    s.filters.push(Filter::parse("id != O-005050").unwrap());
    let (found, _) = search(&store, &s);
    assert_eq!(found, 99);

    // Aggregations over a window: only the blocks they overlap.
    let mut agg = Aggregate::new(A);
    (agg.since, agg.until) = window(7_000, 7_500);
    agg.group_by.push("Region".into());
    agg.measures = ["count", "sum:Amount", "max:Shipped"]
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect();
    let examined = aggregate(&store, &agg);
    assert!(examined <= 2 * BLOCK_ROWS, "{examined} rows evaluated");
    // And over everything: every row.
    agg.since = None;
    agg.until = None;
    assert_eq!(aggregate(&store, &agg), stored);
}
