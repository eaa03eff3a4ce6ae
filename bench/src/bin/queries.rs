//! bamdb-query-bench: query speed of bamdb against SQLite holding the same
//! completed PurchaseOrder instances, measured side by side in one run.
//!
//! `cargo run --release --manifest-path bench/Cargo.toml --bin bamdb-query-bench -- [--n 1000000]`
//!
//! Data: N completed instances, 8 regions, 5,000 customers, amounts
//! 0..1000, Received spread over 30 days, Shipped 1..48 h later. SQLite:
//! one table with id as the primary key. Queries: get by id (p50/p99 over
//! 10,000 random ids), count/sum/avg of Amount by Region, the same by
//! Region and day, avg/max of Shipped - Received by Region, and a search
//! with two filters returning about 1%.

use std::time::{Duration, Instant};

use bamdb::fixture::{self, CompletedOrder, ACTIVITY};
use bamdb::query::{Aggregate, BucketUnit, Filter, Measure, Search};
use bamdb::{EventStream, Store, StoreOptions};
use rusqlite::{params, Connection};

/// The query data set of `bamdb::fixture`, the same rows in both stores.
fn rows(n: u64) -> impl Iterator<Item = CompletedOrder> {
    (0..n).map(CompletedOrder::new)
}

fn build_bamdb(dir: &std::path::Path, n: u64) -> Store {
    let store = Store::open(dir, StoreOptions::default()).expect("open");
    store
        .deploy(fixture::definition(fixture::QUERY_ITEMS))
        .expect("deploy");
    let mut s = store.buffered_stream(0);
    for (i, r) in rows(n).enumerate() {
        r.report(&mut s).expect("push");
        if i % 100 == 99 {
            s.flush().expect("flush");
        }
    }
    s.flush().expect("flush");
    assert!(store.sync(Duration::from_secs(3600)));
    drop(s);
    store.close().expect("close");
    Store::open(dir, StoreOptions::default()).expect("reopen")
}

fn build_sqlite(path: &std::path::Path, n: u64) -> Connection {
    let mut db = Connection::open(path).expect("sqlite");
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE po (id TEXT PRIMARY KEY, customer TEXT, region TEXT, amount REAL,
           quantity INTEGER, received INTEGER, shipped INTEGER, status TEXT, begin INTEGER, end INTEGER);",
    )
    .expect("schema");
    let tx = db.transaction().expect("tx");
    {
        let mut ins = tx
            .prepare("INSERT INTO po VALUES (?1,?2,?3,?4,?5,?6,?7,'completed',?6,?7)")
            .expect("prepare");
        for r in rows(n) {
            ins.execute(params![
                r.id,
                r.customer,
                r.region,
                r.amount,
                r.quantity,
                r.received.as_micros(),
                r.shipped.as_micros()
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
    db
}

fn percentile(mut v: Vec<Duration>, p: usize) -> Duration {
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .iter()
        .position(|a| a == "--n")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let tmp = tempfile::tempdir().expect("tmp");
    let t = Instant::now();
    let store = build_bamdb(&tmp.path().join("bamdb"), n);
    eprintln!("bamdb built in {:?}", t.elapsed());
    let t = Instant::now();
    let db = build_sqlite(&tmp.path().join("sqlite.db"), n);
    eprintln!("sqlite built in {:?}", t.elapsed());

    let ids: Vec<String> = (0..10_000u64)
        .map(|i| CompletedOrder::id_of((i * 7919) % n))
        .collect();
    let mut bam_get = Vec::new();
    for id in &ids {
        let s = Instant::now();
        let found = store.get(ACTIVITY, id).expect("get");
        bam_get.push(s.elapsed());
        assert!(found.is_some());
    }
    let mut stmt = db
        .prepare(
            "SELECT customer, region, amount, quantity, received, shipped FROM po WHERE id = ?1",
        )
        .expect("prepare");
    let mut sql_get = Vec::new();
    for id in &ids {
        let s = Instant::now();
        let r: (String, String, f64, i64, i64, i64) = stmt
            .query_row(params![id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .expect("row");
        sql_get.push(s.elapsed());
        assert!(!r.0.is_empty());
    }

    let agg = |group: &[&str], bucket: Option<(BucketUnit, &str)>, measures: &[&str]| {
        let mut a = Aggregate::new(ACTIVITY);
        a.group_by = group.iter().map(|s| s.to_string()).collect();
        a.bucket = bucket.map(|(u, f)| (u, f.to_string()));
        a.measures = measures
            .iter()
            .map(|m| Measure::parse(m).expect("measure"))
            .collect();
        a
    };
    let region = agg(&["Region"], None, &["count", "sum:Amount", "avg:Amount"]);
    let region_day = agg(
        &["Region"],
        Some((BucketUnit::Day, "Received")),
        &["count", "sum:Amount", "avg:Amount"],
    );
    let durations = agg(
        &["Region"],
        None,
        &[
            "avg:duration(Received,Shipped)",
            "max:duration(Received,Shipped)",
        ],
    );
    let mut search = Search::new(ACTIVITY);
    search.filters = vec![
        Filter::parse("Region = EU").expect("f"),
        Filter::parse("Amount >= 920").expect("f"),
    ];

    // The first scan after open builds each import file's column
    // projection (one pass over the records); the medians below are warm.
    let first = Instant::now();
    assert_eq!(store.aggregate(&region).expect("agg").rows.len(), 8);
    let first = first.elapsed();
    eprintln!(
        "first aggregation after open (builds the column projections): {first:.2?} = {:.2} M instances/s",
        n as f64 / first.as_secs_f64() / 1e6
    );

    let runs = 5;
    let cases: Vec<(&str, Duration, Duration)> = vec![
        (
            "count/sum/avg Amount by Region",
            median(runs, || {
                assert_eq!(store.aggregate(&region).expect("agg").rows.len(), 8)
            }),
            median(runs, || {
                sql_rows(
                    &db,
                    "SELECT region, count(*), sum(amount), avg(amount) FROM po GROUP BY region",
                )
            }),
        ),
        (
            "... by Region and day(Received)",
            median(runs, || {
                assert!(store.aggregate(&region_day).expect("agg").rows.len() >= 8)
            }),
            median(runs, || {
                sql_rows(&db, "SELECT region, received / 86400000000, count(*), sum(amount), avg(amount) FROM po GROUP BY 1, 2")
            }),
        ),
        (
            "avg/max Shipped - Received by Region",
            median(runs, || {
                assert_eq!(store.aggregate(&durations).expect("agg").rows.len(), 8)
            }),
            median(runs, || {
                sql_rows(&db, "SELECT region, avg(shipped - received), max(shipped - received) FROM po GROUP BY region")
            }),
        ),
        (
            "search Region = EU and Amount >= 920 (~1%)",
            median(runs, || {
                assert!(!store.search(&search).expect("search").is_empty())
            }),
            median(runs, || {
                sql_rows(
                    &db,
                    "SELECT * FROM po WHERE region = 'EU' AND amount >= 920 ORDER BY end, id",
                )
            }),
        ),
    ];
    println!("| query ({n} completed instances) | bamdb | SQLite | bamdb instances/s | SQLite rows/s | bamdb / SQLite speed |");
    println!("|---|---:|---:|---:|---:|---:|");
    println!(
        "| get by id, p50 / p99 (10,000 ids) | {:?} / {:?} | {:?} / {:?} | | | {:.2}× (p50) |",
        percentile(bam_get.clone(), 50),
        percentile(bam_get.clone(), 99),
        percentile(sql_get.clone(), 50),
        percentile(sql_get.clone(), 99),
        percentile(sql_get, 50).as_secs_f64() / percentile(bam_get, 50).as_secs_f64()
    );
    for (name, b, s) in cases {
        println!(
            "| {name} | {b:.2?} | {s:.2?} | {:.2} M | {:.2} M | {:.2}× |",
            n as f64 / b.as_secs_f64() / 1e6,
            n as f64 / s.as_secs_f64() / 1e6,
            s.as_secs_f64() / b.as_secs_f64()
        );
    }
}

fn sql_rows(db: &Connection, sql: &str) {
    let mut stmt = db.prepare_cached(sql).expect("prepare");
    let cols = stmt.column_count();
    let mut rows = stmt.query([]).expect("query");
    let mut count = 0;
    while let Some(r) = rows.next().expect("row") {
        let _: rusqlite::types::Value = r.get(cols - 1).expect("col");
        count += 1;
    }
    assert!(count > 0);
}
