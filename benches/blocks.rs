//! Narrow time windows over import files whose ids follow time (the usual
//! case: ids are assigned as instances begin): with block ranges (import
//! files of version 4) a query evaluates and reads only the blocks of
//! rows its window overlaps. The same queries over the whole range are
//! the reference: without block ranges a window costs a full scan of
//! every file its window overlaps (run this bench on a build before
//! version 4 for the figures without).
//!
//! `cargo bench --bench blocks` (`BAMDB_BENCH_INSTANCES=N`, default 200,000)

use std::time::Duration;

use bamdb::model::{ActivityDefinition, Timestamp, Value};
use bamdb::query::{Aggregate, Filter, Measure, Search};
use bamdb::{EventStream, Store, StoreOptions};
use criterion::{criterion_group, criterion_main, Criterion};

const A: &str = "Order";
const BASE: i64 = 1_793_491_200_000_000;
const SECOND: i64 = 1_000_000;
/// One order every 10 seconds: 200,000 span 23 days.
const EVERY: i64 = 10 * SECOND;

fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"Order","items":[
            {"name":"Region","type":"text","max_len":8},
            {"name":"Amount","type":"float"},
            {"name":"Shipped","type":"timestamp"}]}"#,
    )
    .unwrap()
}

fn at(i: u64) -> Timestamp {
    Timestamp::from_micros(BASE + i as i64 * EVERY)
}

/// `n` completed orders, order `i` (id `O-` + 9 digits) at `at(i)`,
/// shipped an hour later; store closed and reopened.
fn build(dir: &std::path::Path, n: u64) -> Store {
    let store = Store::open(dir, StoreOptions::default()).unwrap();
    store.deploy(definition()).unwrap();
    let mut s = store.buffered_stream(0);
    for i in 0..n {
        let id = format!("O-{i:09}");
        s.set_time(Some(at(i)));
        s.begin(A, &id).unwrap();
        s.update(
            A,
            &id,
            vec![
                (
                    "Region",
                    Value::from(["EU", "US", "APAC", "LATAM"][i as usize % 4]),
                ),
                ("Amount", Value::Float((i % 100_000) as f64 / 100.0)),
                ("Shipped", Value::Timestamp(at(i + 360))),
            ],
        )
        .unwrap();
        s.end(A, &id).unwrap();
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

fn blocks(c: &mut Criterion) {
    let n: u64 = std::env::var("BAMDB_BENCH_INSTANCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = build(dir.path(), n);

    let mut g = c.benchmark_group("block ranges");
    g.sample_size(30);
    // The last hour before the middle order: 360 orders.
    let (since, until) = (at(n / 2 - 360), at(n / 2));
    let mut hour = Search::new(A);
    (hour.since, hour.until) = (Some(since), Some(until));
    let mut all = Search::new(A);
    all.filters.push(Filter::parse("Amount >= 999.9").unwrap());
    g.bench_function("search, one hour (360 rows)", |b| {
        b.iter(|| assert_eq!(store.search(&hour).unwrap().len(), 360))
    });
    let mut shipped = Search::new(A);
    shipped
        .filters
        .push(Filter::parse(&format!("Shipped >= {}", at(n + 360 - 100))).unwrap());
    g.bench_function("search, Shipped in the last 100 (100 rows)", |b| {
        b.iter(|| assert_eq!(store.search(&shipped).unwrap().len(), 100))
    });
    g.bench_function("search, Amount >= 999.9 over everything (reference)", |b| {
        b.iter(|| assert!(!store.search(&all).unwrap().is_empty()))
    });

    let aggregate = |window: bool| {
        let mut a = Aggregate::new(A);
        if window {
            (a.since, a.until) = (Some(since), Some(until));
        }
        a.group_by = vec!["Region".into()];
        a.measures = ["count", "sum:Amount", "max:Shipped"]
            .iter()
            .map(|m| Measure::parse(m).unwrap())
            .collect();
        a
    };
    let (hour_agg, all_agg) = (aggregate(true), aggregate(false));
    g.bench_function("aggregate by Region, one hour", |b| {
        b.iter(|| assert_eq!(store.aggregate(&hour_agg).unwrap().rows.len(), 4))
    });
    g.bench_function("aggregate by Region, everything (reference)", |b| {
        b.iter(|| assert_eq!(store.aggregate(&all_agg).unwrap().rows.len(), 4))
    });
    g.finish();
}

criterion_group!(benches, blocks);
criterion_main!(benches);
