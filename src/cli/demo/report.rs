//! What the demo prints once the bus has imported everything.

use bamdb::fixture::ACTIVITY as PO;
use bamdb::query::{Aggregate, Measure};
use bamdb::Store;

use super::apps::{self, CANCELLED, GHOSTS};
use super::Run;
use crate::cli::agg::escaped;
use crate::cli::{outln, CliError};

pub fn print(store: &Store, run: &Run, kept: bool) -> Result<(), CliError> {
    let dir = store.dir().to_path_buf();
    let secs = run.ingest.as_secs_f64().max(1e-9);
    outln!()?;
    outln!("== ingest")?;
    outln!(
        "  {} events in {} commits in {:.2} s: {:.0} events/s, {:.0} commits/s (each commit durable, fsynced)",
        run.events,
        run.commits,
        secs,
        run.events as f64 / secs,
        run.commits as f64 / secs
    )?;
    outln!(
        "  rolled back: 1 batch of {} events (cancelled orders); cleared, never written",
        CANCELLED * 2
    )?;
    let stats = store.stats();
    outln!()?;
    outln!("== import (the event bus, in the background)")?;
    outln!(
        "  import lag: at most {} frames behind during ingest, {} when the producers finished",
        run.max_lag,
        run.lag_at_end
    )?;
    outln!(
        "  the bus caught up {:.0} ms after the producers finished",
        run.catch_up.as_secs_f64() * 1000.0
    )?;
    let c = &stats.counters;
    outln!(
        "  frames imported {}, events imported {}, frames quarantined {} ({} events)",
        c.frames_imported,
        c.events_imported,
        c.frames_quarantined,
        c.events_quarantined
    )?;
    outln!()?;
    outln!("== instances")?;
    outln!(
        "  active {}, completed {}, pending {}",
        stats.active,
        stats.completed,
        stats.pending
    )?;
    outln!("  (active: orders not shipped yet; pending: {GHOSTS} shipping reports under tokens no order enabled)")?;
    let cancelled = store
        .get(PO, &format!("PO-{}CXL-000", run.prefix))
        .map_err(|e| CliError::store("get", &dir, &e))?;
    outln!(
        "  rolled-back order PO-{}CXL-000: {}",
        run.prefix,
        if cancelled.is_none() {
            "not found, as it should be"
        } else {
            "FOUND (unexpected)"
        }
    )?;

    outln!()?;
    outln!("== quarantine (set aside, reported, replayable after a fix)")?;
    let (entries, damaged) = store
        .quarantine_entries()
        .map_err(|e| CliError::store("reading the quarantine", &dir, &e))?;
    for e in &entries {
        outln!(
            "  entry {} (LSN {}): {}",
            e.id,
            e.source.lsns.0,
            e.reasons.join("; ")
        )?;
    }
    for d in &damaged {
        outln!("  damaged record: {d}")?;
    }

    outln!()?;
    outln!("== one purchase order, merged from the orders, shipping and billing apps")?;
    // The first order: its shipping report was committed before the order.
    let first = (0..run.activities)
        .find(|&i| apps::order(i).shipped.is_some())
        .unwrap_or(0);
    let id = format!("PO-{}{:06}", run.prefix, first);
    match store
        .get(PO, &id)
        .map_err(|e| CliError::store("get", &dir, &e))?
    {
        Some(po) => {
            let text = serde_json::to_string_pretty(&po)
                .map_err(|e| CliError::fatal(format!("cannot format {id}: {e}")))?;
            for line in text.lines() {
                outln!("  {line}")?;
            }
        }
        None => outln!("  {id} not found")?,
    }

    outln!()?;
    outln!("== purchase orders by region (bamdb agg)")?;
    let mut agg = Aggregate::new(PO);
    agg.group_by = vec!["Region".to_owned()];
    agg.measures = ["count", "avg:Amount", "avg:duration(Received,Shipped)"]
        .iter()
        .map(|m| Measure::parse(m))
        .collect::<Result<_, _>>()
        .map_err(|e| CliError::fatal(format!("demo aggregation: {e}")))?;
    let result = store
        .aggregate(&agg)
        .map_err(|e| CliError::store("aggregate", &dir, &e))?;
    for line in escaped(result).to_table().lines() {
        outln!("  {line}")?;
    }
    if kept {
        outln!()?;
        outln!(
            "try: bamdb get --store {} PurchaseOrder {id}",
            dir.display()
        )?;
    }
    Ok(())
}
