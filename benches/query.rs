//! Queries over completed PurchaseOrder instances in import files: get by
//! id, aggregations (count/sum/avg by Region, by Region and day, durations
//! Shipped − Received), a two-filter search selecting about 1%, one with
//! `or` and `in`, and the 20 largest by an order key.
//! Throughput is in instances scanned. The side-by-side comparison with
//! SQLite on the same data is `bench/` (`bamdb-query-bench`), kept out of
//! this crate's dependencies.
//!
//! `cargo bench --bench query` (`BAMDB_BENCH_INSTANCES=N`, default 200,000)

use std::time::Duration;

use bamdb::fixture::{self, CompletedOrder, ACTIVITY as PO};
use bamdb::query::{Aggregate, BucketUnit, Filter, Measure, OrderBy, Search};
use bamdb::{EventStream, Store, StoreOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A store of `n` completed orders of the fixture's query data set (the
/// one `bench/` compares with SQLite), store closed and reopened.
fn build(dir: &std::path::Path, n: u64) -> Store {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    store
        .deploy(fixture::definition(fixture::QUERY_ITEMS))
        .unwrap();
    let mut s = store.buffered_stream(0);
    for i in 0..n {
        CompletedOrder::new(i).report(&mut s).unwrap();
        if i % 100 == 99 {
            s.flush().unwrap();
        }
    }
    s.flush().unwrap();
    assert!(store.sync(Duration::from_secs(3600)));
    drop(s);
    store.close().unwrap();
    Store::open(dir, StoreOptions::default()).unwrap()
}

fn aggregate(group: &[&str], bucket: Option<(BucketUnit, &str)>, measures: &[&str]) -> Aggregate {
    let mut a = Aggregate::new(PO);
    a.group_by = group.iter().map(|s| s.to_string()).collect();
    a.bucket = bucket.map(|(u, f)| (u, f.to_string()));
    a.measures = measures
        .iter()
        .map(|m| Measure::parse(m).unwrap())
        .collect();
    a
}

fn queries(c: &mut Criterion) {
    let n: u64 = std::env::var("BAMDB_BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = build(dir.path(), n);

    let mut g = c.benchmark_group("query");
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("get by id", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            store.get(PO, &CompletedOrder::id_of(i)).unwrap().unwrap()
        })
    });

    g.throughput(Throughput::Elements(n));
    let by_region = aggregate(&["Region"], None, &["count", "sum:Amount", "avg:Amount"]);
    // The first scan builds the column projections; criterion's warm-up
    // takes it, the samples are warm.
    g.bench_function("count/sum/avg Amount by Region", |b| {
        b.iter(|| assert_eq!(store.aggregate(&by_region).unwrap().rows.len(), 8))
    });
    let by_region_day = aggregate(
        &["Region"],
        Some((BucketUnit::Day, "Received")),
        &["count", "sum:Amount", "avg:Amount"],
    );
    g.bench_function("... by Region and day(Received)", |b| {
        b.iter(|| assert!(store.aggregate(&by_region_day).unwrap().rows.len() >= 8))
    });
    let durations = aggregate(
        &["Region"],
        None,
        &[
            "avg:duration(Received,Shipped)",
            "max:duration(Received,Shipped)",
        ],
    );
    g.bench_function("avg/max Shipped - Received by Region", |b| {
        b.iter(|| assert_eq!(store.aggregate(&durations).unwrap().rows.len(), 8))
    });
    let mut search = Search::new(PO);
    search.filters = vec![
        Filter::parse("Region = EU").unwrap(),
        Filter::parse("Amount >= 920").unwrap(),
    ];
    g.bench_function("search Region = EU and Amount >= 920 (~1%)", |b| {
        b.iter(|| assert!(!store.search(&search).unwrap().is_empty()))
    });
    let mut either = Search::new(PO);
    either.filters =
        vec![Filter::parse("(Region = EU or Region in (UK, NORDIC)) and Amount >= 990").unwrap()];
    either.columns = Some(vec!["id".into()]);
    g.bench_function("search OR/IN and Amount >= 990", |b| {
        b.iter(|| assert!(!store.search(&either).unwrap().is_empty()))
    });
    let mut largest = Search::new(PO);
    largest.order_by = vec![OrderBy::desc("Amount")];
    largest.limit = Some(20);
    largest.columns = Some(vec!["id".into(), "Amount".into()]);
    g.bench_function("search order by Amount desc, limit 20", |b| {
        b.iter(|| assert_eq!(store.search(&largest).unwrap().len(), 20))
    });
    g.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
