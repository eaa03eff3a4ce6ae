//! Queries through the store: search and aggregate see active instances
//! (in memory), completed ones (memtable and import files), parts merged
//! from continuations that arrived out of order, and never pending records;
//! malformed queries get a clear error.

mod common;

use std::time::Duration;

use bamdb::model::{StatusFilter, Value};
use bamdb::query::{Aggregate, Cell, Filter, Measure, Search};
use bamdb::storage::MemStorage;
use bamdb::EventStream;
use common::*;

#[test]
fn search_and_aggregate_span_active_completed_and_filed_instances() {
    let disk = MemStorage::new();
    let mut options = mem_options();
    options.checkpoint_frames = 5;
    options.checkpoint_interval = Duration::from_secs(3600);
    let store = open_mem(&disk, options);
    let mut s = store.buffered_stream(0);
    for i in 0..30 {
        let id = format!("PO-{i:02}");
        let token = format!("SHIP-{i:02}");
        // Shipping reports first (out of order) for the even ones.
        if i % 2 == 0 {
            s.update(PO, &token, [("Shipped", ts("2026-11-02T10:00:00Z"))])
                .unwrap();
            s.end(PO, &token).unwrap();
            s.flush().unwrap();
        }
        s.begin(PO, &id).unwrap();
        s.update(
            PO,
            &id,
            [
                ("Region", Value::from(if i % 3 == 0 { "EU" } else { "US" })),
                ("Amount", Value::Float(i as f64)),
                ("Received", ts("2026-11-01T10:00:00Z").into()),
            ],
        )
        .unwrap();
        s.enable_continuation(PO, &id, &token).unwrap();
        s.end(PO, &id).unwrap();
        s.flush().unwrap();
    }
    // A pending record that must never show.
    s.update(PO, "NOBODY", [("Amount", 1e9)]).unwrap();
    s.flush().unwrap();
    settle(&store);
    assert!(
        store.stats().import_files > 0,
        "some instances are in files"
    );

    let mut search = Search::new(PO);
    search.filters.push(Filter::parse("Amount >= 10").unwrap());
    search.filters.push(Filter::parse("Region = EU").unwrap());
    let rows = store.search(&search).unwrap();
    let ids: Vec<_> = rows.iter().map(|r| r.get("id").cloned().unwrap()).collect();
    // Completed (the even ones, whose shipping part ended) first by end
    // time, then active ones; ties by id.
    let want: Vec<Value> = ["PO-12", "PO-18", "PO-24", "PO-15", "PO-21", "PO-27"]
        .iter()
        .map(|s| Value::from(*s))
        .collect();
    assert_eq!(ids, want);
    search.status = StatusFilter::Completed;
    assert_eq!(store.search(&search).unwrap().len(), 3);

    let mut agg = Aggregate::new(PO);
    agg.group_by.push("Region".into());
    agg.measures = vec![
        Measure::Count,
        Measure::parse("sum:Amount").unwrap(),
        Measure::parse("avg:duration(Received,Shipped)").unwrap(),
    ];
    let result = store.aggregate(&agg).unwrap();
    assert_eq!(result.rows.len(), 2);
    let eu = &result.rows[0];
    assert_eq!(eu.cells[0], Cell::Text("EU".into()));
    assert_eq!(eu.cells[1], Cell::Int(10));
    assert_eq!(
        eu.cells[2],
        Cell::Float((0..30).filter(|i| i % 3 == 0).sum::<i64>() as f64)
    );
    // Only the even ones shipped; the duration is one day for each.
    assert_eq!(eu.cells[3], Cell::Duration(24 * 3600 * 1_000_000));
    println!("{}", result.to_table());

    let mut bad = Search::new(PO);
    bad.filters = vec![Filter::parse("Colour = red").unwrap()];
    let err = store.search(&bad).unwrap_err().to_string();
    assert!(err.contains("Colour"), "{err}");
    assert!(store
        .search(&Search::new("Nope"))
        .unwrap_err()
        .to_string()
        .contains("not deployed"));
}
