//! Medians, the markdown table, the goal checks and the SVG chart.

use std::fmt::Write as _;

use serde::Serialize;

use crate::rows::{RecoveryResult, RowResult, STORES};

/// The median of each metric over the repeats of one row.
pub fn median_row(runs: &[&RowResult]) -> RowResult {
    let med = |f: &dyn Fn(&RowResult) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(|r| f(r)).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let first = runs[0];
    let mut notes: Vec<&str> = runs
        .iter()
        .map(|r| r.note.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    notes.dedup();
    RowResult {
        store: first.store.clone(),
        batch: first.batch,
        threads: first.threads,
        commits: med(&|r| r.commits as f64) as u64,
        events: med(&|r| r.events as f64) as u64,
        secs: med(&|r| r.secs),
        events_per_s: med(&|r| r.events_per_s),
        caught_up_events_per_s: med(&|r| r.caught_up_events_per_s),
        commits_per_s: med(&|r| r.commits_per_s),
        p50_us: med(&|r| r.p50_us),
        p99_us: med(&|r| r.p99_us),
        event_bytes: med(&|r| r.event_bytes as f64) as u64,
        disk_write_bytes: med(&|r| r.disk_write_bytes as f64) as u64,
        write_amp: med(&|r| r.write_amp),
        drain_secs: med(&|r| r.drain_secs),
        peak_rss_mib: med(&|r| r.peak_rss_mib),
        note: notes.join("; "),
    }
}

fn find<'a>(
    rows: &'a [RowResult],
    store: &str,
    batch: usize,
    threads: usize,
) -> Option<&'a RowResult> {
    rows.iter()
        .find(|r| r.store == store && r.batch == batch && r.threads == threads)
}

/// The markdown results table.
pub fn table(rows: &[RowResult], repeats: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Medians of {repeats} run(s) per row. Latency = the commit call (flush / transaction) until durable \
         (direct: and imported). Disk/event = bytes written to the block layer (/proc/self/io write_bytes, \
         store open to close, import included) per encoded event byte (a ratio). Drain = time after the timed phase \
         until everything was imported and the store closed; ev/s caught up = events / (row seconds + drain), \
         the rate with the import done (equal to events/s for the peers, whose drain is 0).\n"
    );
    let _ = writeln!(
        s,
        "| store | batch | threads | events/s | ev/s caught up | commits/s | p50 µs | p99 µs | disk/event | drain s | peak RSS MiB | note |"
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.1} | {} |",
            r.store,
            r.batch,
            r.threads,
            r.events_per_s,
            r.caught_up_events_per_s,
            r.commits_per_s,
            r.p50_us,
            r.p99_us,
            r.write_amp,
            r.drain_secs,
            r.peak_rss_mib,
            r.note
        );
    }
    s
}

/// One goal (of issue 7 or issue 19) with the measured figure.
#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub goal: String,
    pub measured: String,
    pub met: Option<bool>,
}

fn ratio(a: Option<&RowResult>, b: Option<&RowResult>, f: fn(&RowResult) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if f(b) > 0.0 => Some(f(a) / f(b)),
        _ => None,
    }
}

fn eps(r: &RowResult) -> f64 {
    r.events_per_s
}

fn cps(r: &RowResult) -> f64 {
    r.commits_per_s
}

fn caught_up(r: &RowResult) -> f64 {
    r.caught_up_events_per_s
}

/// The goals of issue 7, checked against the medians.
pub fn goals(
    rows: &[RowResult],
    recovery: Option<&RecoveryResult>,
    memory: Option<&RowResult>,
) -> Vec<Goal> {
    let mut out = Vec::new();
    let buf = |b, t| find(rows, "bamdb-buffered", b, t);
    for (b, t) in [(1, 1), (100, 1), (1, 4), (100, 4)] {
        let r = ratio(buf(b, t), find(rows, "raw-fdatasync", b, t), eps);
        out.push(Goal {
            goal: format!("buffered ≥ 80% of raw write+fdatasync, batch {b}, {t} thread(s)"),
            measured: r.map_or("n/a".into(), |r| format!("{:.0}%", r * 100.0)),
            met: r.map(|r| r >= 0.8),
        });
    }
    for b in [1, 10, 100] {
        for t in [1, 4] {
            let mut parts = Vec::new();
            let mut met = true;
            let mut any = false;
            for (peer, need) in [
                ("fjall", 2.0),
                ("redb", 2.0),
                ("sqlite", if b >= 100 { 4.0 } else { 2.0 }),
            ] {
                if let Some(r) = ratio(buf(b, t), find(rows, peer, b, t), eps) {
                    any = true;
                    met &= r >= need;
                    parts.push(format!("{peer} {r:.2}x (need {need}x)"));
                }
            }
            out.push(Goal {
                goal: format!("buffered ahead of peers, batch {b}, {t} thread(s)"),
                measured: parts.join(", "),
                met: any.then_some(met),
            });
        }
    }
    let g = ratio(buf(1, 4), buf(1, 1), cps);
    out.push(Goal {
        goal: "group commit: 4 threads × 1 activity/commit ≥ 2.5× the 1-thread commits/s".into(),
        measured: g.map_or("n/a".into(), |g| format!("{g:.2}x")),
        met: g.map(|g| g >= 2.5),
    });
    let d = ratio(buf(1, 4), find(rows, "bamdb-direct", 1, 4), cps);
    out.push(Goal {
        goal: "buffered ≥ 3× direct at 4 threads, 1 activity/commit".into(),
        measured: d.map_or("n/a".into(), |d| format!("{d:.2}x")),
        met: d.map(|d| d >= 3.0),
    });
    if let Some(rec) = recovery {
        let gib = rec.wal_bytes as f64 / (1u64 << 30) as f64;
        // Scale to 1 GiB linearly when a smaller backlog was measured.
        let per_gib = rec.open_to_queryable_secs / gib;
        out.push(Goal {
            goal: "recovery: 1 GiB committed-not-imported WAL queryable within 5 s".into(),
            measured: format!(
                "{:.0} MiB in {:.2} s ({:.2} s per GiB, {:.0} events/s import)",
                rec.wal_bytes as f64 / (1u64 << 20) as f64,
                rec.open_to_queryable_secs,
                per_gib,
                rec.import_events_per_s
            ),
            met: Some(per_gib <= 5.0),
        });
    }
    if let Some(m) = memory {
        out.push(Goal {
            goal: "memory: peak RSS < 128 MiB ingesting 10 million events".into(),
            measured: format!(
                "{:.1} MiB after {} events (batch {}, {} threads)",
                m.peak_rss_mib, m.events, m.batch, m.threads
            ),
            met: Some(m.peak_rss_mib < 128.0 && m.events >= 10_000_000),
        });
    }
    let wa: Vec<String> = rows
        .iter()
        .filter(|r| r.store == "bamdb-buffered")
        .map(|r| format!("b{}t{} {:.2}", r.batch, r.threads, r.write_amp))
        .collect();
    out.push(Goal {
        goal: "write amplification ≤ 3 (all bytes written / encoded event bytes)".into(),
        measured: wa.join(", "),
        met: (!wa.is_empty()).then(|| {
            rows.iter()
                .filter(|r| r.store == "bamdb-buffered")
                .all(|r| r.write_amp <= 3.0)
        }),
    });
    out
}

/// `a`'s figure against `b`'s, each read with its own function: the ratio
/// and a measured text such as "92% (41000 vs 44500 ev/s)" or
/// "1.30x (...)"; "n/a (okaywal not measured)" when a row is missing.
fn versus(
    a: (&str, Option<&RowResult>, fn(&RowResult) -> f64),
    b: (&str, Option<&RowResult>, fn(&RowResult) -> f64),
    unit: &str,
    percent: bool,
) -> (Option<f64>, String) {
    match (a.1, b.1) {
        (Some(ra), Some(rb)) if (b.2)(rb) > 0.0 => {
            let (x, y) = ((a.2)(ra), (b.2)(rb));
            let r = x / y;
            let shown = if percent {
                format!("{:.0}%", r * 100.0)
            } else {
                format!("{r:.2}x")
            };
            (Some(r), format!("{shown} ({x:.0} vs {y:.0} {unit})"))
        }
        _ => {
            let missing: Vec<&str> = [(a.0, a.1), (b.0, b.1)]
                .iter()
                .filter(|(_, r)| r.is_none())
                .map(|(n, _)| *n)
                .collect();
            (
                None,
                if missing.is_empty() {
                    "n/a (zero rate)".into()
                } else {
                    format!("n/a ({} not measured)", missing.join(", "))
                },
            )
        }
    }
}

/// The goals of issue 19 (write path CPU), checked against the same medians
/// as issue 7's. The throughput goals use bamdb buffered's caught-up rate
/// (events over the row's seconds plus its import drain), so a backlog left
/// for the bus does not count as done.
pub fn goals_issue19(rows: &[RowResult]) -> Vec<Goal> {
    let mut out = Vec::new();
    let buf = |b, t| ("bamdb-buffered", find(rows, "bamdb-buffered", b, t));
    let peer = |s, b, t| (s, find(rows, s, b, t));
    for t in [1, 4] {
        let (a, b) = (buf(100, t), peer("okaywal", 100, t));
        let (r, measured) = versus((a.0, a.1, caught_up), (b.0, b.1, eps), "ev/s", true);
        out.push(Goal {
            goal: format!(
                "buffered caught-up events/s ≥ 80% of okaywal's events/s, batch 100, {t} thread(s)"
            ),
            measured,
            met: r.map(|r| r >= 0.8),
        });
    }
    for t in [1, 4] {
        let mut parts = Vec::new();
        let mut met = Some(true);
        for name in ["fjall", "redb", "sqlite"] {
            let (a, b) = (buf(100, t), peer(name, 100, t));
            match versus((a.0, a.1, caught_up), (b.0, b.1, eps), "ev/s", false) {
                (Some(r), m) => {
                    met = met.map(|ok| ok && r >= 3.0);
                    parts.push(format!("{name} {m}"));
                }
                (None, m) => {
                    met = None;
                    parts.push(m);
                }
            }
        }
        out.push(Goal {
            goal: format!(
                "buffered caught-up events/s ≥ 3x fjall, redb and SQLite events/s, batch 100, {t} thread(s)"
            ),
            measured: parts.join("; "),
            met,
        });
    }
    let (a, b) = (buf(1, 1), peer("raw-fdatasync", 1, 1));
    let (r, measured) = versus((a.0, a.1, cps), (b.0, b.1, cps), "commits/s", true);
    out.push(Goal {
        goal: "buffered commits/s ≥ 95% of raw write+fdatasync, batch 1, 1 thread".into(),
        measured,
        met: r.map(|r| r >= 0.95),
    });
    let (a, b) = (buf(1, 4), peer("okaywal", 1, 4));
    let (r, measured) = versus((a.0, a.1, cps), (b.0, b.1, cps), "commits/s", false);
    out.push(Goal {
        goal: "buffered commits/s ≥ okaywal's, batch 1, 4 threads".into(),
        measured,
        met: r.map(|r| r >= 1.0),
    });
    let (a, b) = (buf(1, 4), peer("bamdb-direct", 1, 4));
    let (r, measured) = versus((a.0, a.1, cps), (b.0, b.1, cps), "commits/s", false);
    out.push(Goal {
        goal: "buffered flush ≥ 2x direct flush (commits/s), batch 1, 4 threads".into(),
        measured,
        met: r.map(|r| r >= 2.0),
    });
    out
}

/// The goals as a markdown table.
pub fn goals_table(goals: &[Goal]) -> String {
    let mut s = String::from("| goal | measured | met |\n|---|---|---|\n");
    for g in goals {
        let met = match g.met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "not measured",
        };
        let _ = writeln!(s, "| {} | {} | {} |", g.goal, g.measured, met);
    }
    s
}

/// One colour per store of `STORES`, in its order.
const COLORS: [&str; 7] = [
    "#d62728", "#ff7f0e", "#7f7f7f", "#8c564b", "#1f77b4", "#2ca02c", "#9467bd",
];

/// Events/s by batch size, one line per store, one panel per thread count,
/// log-scaled axes. Written by hand: it is only polylines and text.
pub fn svg(rows: &[RowResult], title: &str) -> String {
    let batches = [1usize, 10, 100];
    let threads = [1usize, 4];
    let vals: Vec<f64> = rows
        .iter()
        .map(|r| r.events_per_s)
        .filter(|v| *v > 0.0)
        .collect();
    let lo = vals
        .iter()
        .copied()
        .fold(f64::MAX, f64::min)
        .max(1.0)
        .log10()
        .floor();
    let hi = vals
        .iter()
        .copied()
        .fold(1.0, f64::max)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let (pw, ph, ml, mt, gap) = (380.0, 320.0, 70.0, 50.0, 60.0);
    let width = ml + 2.0 * pw + gap + 170.0;
    let height = mt + ph + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        width / 2.0,
        xml(title)
    );
    for (pi, &t) in threads.iter().enumerate() {
        let x0 = ml + pi as f64 * (pw + gap);
        let y0 = mt;
        let px = |i: usize| x0 + 30.0 + i as f64 * (pw - 60.0) / 2.0;
        let py = |v: f64| y0 + ph - (v.max(1.0).log10() - lo) / (hi - lo) * ph;
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{t} producer thread{}</text>"#,
            x0 + pw / 2.0,
            y0 - 8.0,
            if t == 1 { "" } else { "s" }
        );
        let mut d = lo as i32;
        while d <= hi as i32 {
            let y = py(10f64.powi(d));
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">1e{d}</text>"##,
                x0 + pw,
                x0 - 6.0,
                y + 4.0
            );
            d += 1;
        }
        for (i, b) in batches.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{b}</text>"#,
                px(i),
                y0 + ph + 18.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">activities per commit</text>"#,
            x0 + pw / 2.0,
            y0 + ph + 38.0
        );
        if pi == 0 {
            let _ = writeln!(
                s,
                r#"<text transform="translate(16 {}) rotate(-90)" text-anchor="middle">events/s (log)</text>"#,
                y0 + ph / 2.0
            );
        }
        for (si, store) in STORES.iter().enumerate() {
            let pts: Vec<String> = batches
                .iter()
                .enumerate()
                .filter_map(|(i, &b)| {
                    find(rows, store, b, t)
                        .map(|r| format!("{:.1},{:.1}", px(i), py(r.events_per_s)))
                })
                .collect();
            if pts.is_empty() {
                continue;
            }
            let c = COLORS[si % COLORS.len()];
            // The two baselines that are only a log: dashed and dotted.
            let dash = match *store {
                "raw-fdatasync" => r#" stroke-dasharray="6 4""#,
                "okaywal" => r#" stroke-dasharray="2 3""#,
                _ => "",
            };
            let _ = writeln!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="2"{dash}/>"#,
                pts.join(" ")
            );
            for p in &pts {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{c}"/>"#);
            }
        }
    }
    let lx = ml + 2.0 * pw + gap + 20.0;
    for (si, store) in STORES.iter().enumerate() {
        let y = mt + 20.0 + si as f64 * 22.0;
        let c = COLORS[si % COLORS.len()];
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="{c}" stroke-width="3"/><text x="{}" y="{}">{store}</text>"#,
            lx + 24.0,
            lx + 30.0,
            y + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
