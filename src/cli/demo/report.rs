//! What the demo prints once the bus has imported everything.

use std::collections::BTreeMap;

use bamdb::model::Value;
use bamdb::{Status, Store};

use super::apps::{self, CANCELLED, GHOSTS};
use super::Run;
use crate::cli::CliError;

pub fn print(store: &Store, run: &Run, kept: bool) -> Result<(), CliError> {
    let dir = store.dir().to_path_buf();
    let secs = run.ingest.as_secs_f64().max(1e-9);
    println!();
    println!("== ingest");
    println!(
        "  {} events in {} commits in {:.2} s: {:.0} events/s, {:.0} commits/s (each commit durable, fsynced)",
        run.events,
        run.commits,
        secs,
        run.events as f64 / secs,
        run.commits as f64 / secs
    );
    println!(
        "  rolled back: 1 batch of {} events (cancelled orders); cleared, never written",
        CANCELLED * 2
    );
    let stats = store.stats();
    println!();
    println!("== import (the event bus, in the background)");
    println!(
        "  import lag: at most {} frames behind during ingest, {} when the producers finished",
        run.max_lag, run.lag_at_end
    );
    println!(
        "  the bus caught up {:.0} ms after the producers finished",
        run.catch_up.as_secs_f64() * 1000.0
    );
    let c = &stats.counters;
    println!(
        "  frames imported {}, events imported {}, frames quarantined {} ({} events)",
        c.frames_imported, c.events_imported, c.frames_quarantined, c.events_quarantined
    );
    println!();
    println!("== instances");
    println!(
        "  active {}, completed {}, pending {}",
        stats.active, stats.completed, stats.pending
    );
    println!("  (active: orders not shipped yet; pending: {GHOSTS} shipping reports under tokens no order enabled)");
    let cancelled = store
        .get("PurchaseOrder", &format!("PO-{}CXL-000", run.prefix))
        .map_err(|e| CliError::store("get", &dir, &e))?;
    println!(
        "  rolled-back order PO-{}CXL-000: {}",
        run.prefix,
        if cancelled.is_none() {
            "not found, as it should be"
        } else {
            "FOUND (unexpected)"
        }
    );

    println!();
    println!("== quarantine (set aside, reported, replayable after a fix)");
    let (entries, damaged) = store
        .quarantine_entries()
        .map_err(|e| CliError::store("reading the quarantine", &dir, &e))?;
    for e in &entries {
        println!(
            "  entry {} (LSN {}): {}",
            e.id,
            e.source.lsns.0,
            e.reasons.join("; ")
        );
    }
    for d in &damaged {
        println!("  damaged record: {d}");
    }

    println!();
    println!("== one purchase order, merged from the orders, shipping and billing apps");
    // The first order: its shipping report was committed before the order.
    let first = (0..run.activities)
        .find(|&i| apps::order(i).shipped.is_some())
        .unwrap_or(0);
    let id = format!("PO-{}{:06}", run.prefix, first);
    match store
        .get("PurchaseOrder", &id)
        .map_err(|e| CliError::store("get", &dir, &e))?
    {
        Some(po) => {
            let text = serde_json::to_string_pretty(&po)
                .map_err(|e| CliError::fatal(format!("cannot format {id}: {e}")))?;
            for line in text.lines() {
                println!("  {line}");
            }
        }
        None => println!("  {id} not found"),
    }

    println!();
    println!("== purchase orders by region");
    let instances = store
        .instances("PurchaseOrder")
        .map_err(|e| CliError::store("scan", &dir, &e))?;
    let table = aggregate(&instances);
    println!(
        "  {:<8} {:>8} {:>10} {:>12} {:>18}",
        "Region", "count", "completed", "avg Amount", "avg hours to ship"
    );
    for (region, row) in &table {
        let avg_amount = row.amount / row.count.max(1) as f64;
        let hours = if row.shipped == 0 {
            "-".to_string()
        } else {
            format!("{:.1}", row.ship_micros as f64 / row.shipped as f64 / 3.6e9)
        };
        println!(
            "  {:<8} {:>8} {:>10} {:>12.2} {:>18}",
            region, row.count, row.completed, avg_amount, hours
        );
    }
    if kept {
        println!();
        println!(
            "try: bamdb get --store {} PurchaseOrder {id}",
            dir.display()
        );
    }
    Ok(())
}

#[derive(Default)]
struct Row {
    count: u64,
    completed: u64,
    amount: f64,
    shipped: u64,
    ship_micros: i64,
}

/// Count and average Amount per Region, average Received → Shipped.
fn aggregate(instances: &[bamdb::ActivityInstance]) -> BTreeMap<String, Row> {
    let mut table: BTreeMap<String, Row> = BTreeMap::new();
    for po in instances {
        let region = match po.item("Region") {
            Some(Value::Text(r)) => r.clone(),
            _ => "(none)".to_string(),
        };
        let row = table.entry(region).or_default();
        row.count += 1;
        if po.status == Status::Completed {
            row.completed += 1;
        }
        if let Some(Value::Float(a)) = po.item("Amount") {
            row.amount += a;
        }
        if let (Some(Value::Timestamp(r)), Some(Value::Timestamp(s))) =
            (po.item("Received"), po.item("Shipped"))
        {
            row.shipped += 1;
            row.ship_micros += s.as_micros() - r.as_micros();
        }
    }
    table
}
