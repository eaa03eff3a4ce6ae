//! What `GET /metrics` reports, in the Prometheus text format (version
//! 0.0.4): the server's own counters and latency histograms, kept here
//! with atomics, and the store's figures read at scrape time.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bamdb::wal::{SyncHistogram, SYNC_BUCKETS_MICROS};
use bamdb::StoreStats;

/// Upper bounds (microseconds) of the request-latency buckets.
const LATENCY_BUCKETS_MICROS: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 5_000_000,
];

/// A latency histogram, lock-free.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn record(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = LATENCY_BUCKETS_MICROS
            .iter()
            .position(|&le| micros <= le)
            .unwrap_or(LATENCY_BUCKETS_MICROS.len());
        if let Some(c) = self.counts.get(bucket) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn counts(&self) -> Vec<u64> {
        self.counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }
}

/// The kinds of query whose latency is kept apart.
#[derive(Debug, Clone, Copy)]
pub enum QueryKind {
    Get,
    Search,
    Aggregate,
    Portal,
}

impl QueryKind {
    const ALL: [QueryKind; 4] = [
        QueryKind::Get,
        QueryKind::Search,
        QueryKind::Aggregate,
        QueryKind::Portal,
    ];

    fn name(self) -> &'static str {
        match self {
            QueryKind::Get => "get",
            QueryKind::Search => "search",
            QueryKind::Aggregate => "aggregate",
            QueryKind::Portal => "portal",
        }
    }
}

/// The server's own figures since it started.
#[derive(Default)]
pub struct Metrics {
    /// Responses by status class (1xx..5xx).
    pub responses: [AtomicU64; 5],
    /// Ingest requests committed, and their events.
    pub ingest_commits: AtomicU64,
    pub ingest_events: AtomicU64,
    /// Ingest requests answered from the idempotency record (not written
    /// again).
    pub ingest_replays: AtomicU64,
    /// Ingest requests refused with 4xx (nothing written).
    pub ingest_rejected: AtomicU64,
    /// Requests refused with 503 (import behind, or no worker free).
    pub overloaded: AtomicU64,
    /// From the request's last byte to its durable acknowledgement.
    pub ingest_latency: Histogram,
    queries: [Histogram; 4],
}

impl Metrics {
    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(c) = self.responses.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn query(&self, kind: QueryKind) -> &Histogram {
        // One histogram per kind, in the order of the enum.
        &self.queries[kind as usize]
    }

    /// The exposition text, with the store's figures.
    pub fn render(&self, stats: &StoreStats, sync: &SyncHistogram) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &stats.counters;
        counter(
            &mut out,
            "bamdb_commits_total",
            "Ingest requests committed (one flush each).",
            load(&self.ingest_commits),
        );
        counter(
            &mut out,
            "bamdb_ingested_events_total",
            "Events in the committed ingest requests.",
            load(&self.ingest_events),
        );
        counter(
            &mut out,
            "bamdb_ingest_replays_total",
            "Ingest requests answered from their Idempotency-Key record, not written again.",
            load(&self.ingest_replays),
        );
        counter(
            &mut out,
            "bamdb_ingest_rejected_total",
            "Ingest requests refused with a 4xx status; nothing of them was written.",
            load(&self.ingest_rejected),
        );
        counter(
            &mut out,
            "bamdb_overloaded_total",
            "Requests refused with 503 (the import is behind, or every worker is busy).",
            load(&self.overloaded),
        );
        counter(
            &mut out,
            "bamdb_frames_imported_total",
            "Frames the bus imported since the store was created.",
            c.frames_imported,
        );
        counter(
            &mut out,
            "bamdb_events_imported_total",
            "Events the bus imported since the store was created.",
            c.events_imported,
        );
        counter(
            &mut out,
            "bamdb_frames_quarantined_total",
            "Frames set aside in quarantine since the store was created.",
            c.frames_quarantined,
        );
        counter(
            &mut out,
            "bamdb_events_quarantined_total",
            "Events in quarantined frames since the store was created.",
            c.events_quarantined,
        );
        counter(
            &mut out,
            "bamdb_instances_completed_total",
            "Instances completed since the store was created.",
            c.instances_completed,
        );
        counter(
            &mut out,
            "bamdb_duplicates_total",
            "Sequenced batches skipped as duplicates.",
            stats.duplicates,
        );
        gauge(
            &mut out,
            "bamdb_committed_lsn",
            "The highest durable LSN of the message box.",
            stats.committed_lsn as f64,
        );
        gauge(
            &mut out,
            "bamdb_applied_lsn",
            "The highest LSN imported by the bus.",
            stats.applied_lsn as f64,
        );
        gauge(
            &mut out,
            "bamdb_import_lag_frames",
            "Frames committed but not yet imported.",
            stats.lag as f64,
        );
        gauge(
            &mut out,
            "bamdb_message_box_bytes",
            "Bytes of frames held in the message box.",
            stats.wal_bytes as f64,
        );
        gauge(
            &mut out,
            "bamdb_active_instances",
            "Active (begun, not completed) instances.",
            stats.active as f64,
        );
        gauge(
            &mut out,
            "bamdb_completed_instances",
            "Completed instances in import files.",
            stats.completed as f64,
        );
        gauge(
            &mut out,
            "bamdb_pending_records",
            "Pending records (ids not begun or linked yet).",
            stats.pending as f64,
        );
        gauge(
            &mut out,
            "bamdb_degraded",
            "1 when the import is degraded (retrying) or halted, else 0.",
            f64::from(u8::from(stats.degraded.is_some())),
        );
        gauge(
            &mut out,
            "bamdb_import_halted",
            "1 when the import has stopped until the store is reopened.",
            f64::from(u8::from(stats.import_halted)),
        );
        if let Some(q) = &stats.quarantine {
            gauge(
                &mut out,
                "bamdb_quarantine_unresolved",
                "Quarantine entries neither replayed nor dropped.",
                q.unresolved as f64,
            );
        }
        let _ = writeln!(out, "# HELP bamdb_responses_total HTTP responses by status class.\n# TYPE bamdb_responses_total counter");
        for (i, n) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "bamdb_responses_total{{class=\"{}xx\"}} {}",
                i + 1,
                load(n)
            );
        }
        histogram(
            &mut out,
            "bamdb_fsync_seconds",
            "Time of each message-box sync (fsync/fdatasync of a group commit) since the store opened.",
            "",
            &SYNC_BUCKETS_MICROS,
            &sync.counts,
            sync.sum_micros,
        );
        histogram(
            &mut out,
            "bamdb_ingest_ack_seconds",
            "From an ingest request's arrival to its durable acknowledgement.",
            "",
            &LATENCY_BUCKETS_MICROS,
            &self.ingest_latency.counts(),
            load(&self.ingest_latency.sum_micros),
        );
        let _ = writeln!(out, "# HELP bamdb_query_seconds Query latency by kind (get, search, aggregate, portal page).\n# TYPE bamdb_query_seconds histogram");
        for kind in QueryKind::ALL {
            let h = self.query(kind);
            histogram(
                &mut out,
                "bamdb_query_seconds",
                "",
                &format!("kind=\"{}\"", kind.name()),
                &LATENCY_BUCKETS_MICROS,
                &h.counts(),
                load(&h.sum_micros),
            );
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

fn gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// One histogram: cumulative `_bucket` lines with `le` in seconds, `_sum`
/// and `_count`. `help` empty: the HELP and TYPE lines were written by the
/// caller (a histogram with labels). `counts`: per bucket, then the rest.
fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &str,
    bounds_micros: &[u64],
    counts: &[u64],
    sum_micros: u64,
) {
    if !help.is_empty() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    }
    let sep = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0u64;
    for (i, le) in bounds_micros.iter().enumerate() {
        cumulative += counts.get(i).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{}\"}} {cumulative}",
            *le as f64 / 1e6
        );
    }
    cumulative += counts.get(bounds_micros.len()).copied().unwrap_or(0);
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(out, "{name}_sum{braces} {}", sum_micros as f64 / 1e6);
    let _ = writeln!(out, "{name}_count{braces} {cumulative}");
}
