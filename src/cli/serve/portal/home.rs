//! `/`: the deployed activities with their active and completed counts,
//! the most recent quarantine entries, and the store's headline figures.

use std::fmt::Write as _;

use bamdb::model::StatusFilter;
use bamdb::query::{Aggregate, Cell, Measure};
use bamdb::StoreStats;

use super::html::{self, count_text, esc, link, query_string, TABLE_END};
use super::quarantine::{reasons_html, state_text};
use super::{query_failure, Context, Page};

/// Quarantine entries shown on the home page.
const RECENT_QUARANTINE: usize = 10;

/// The home page.
pub fn render(ctx: &Context<'_>) -> Page {
    let stats = ctx.store.stats();
    let mut body = String::new();
    if let Some(reason) = &stats.degraded {
        let _ = writeln!(
            body,
            "<p class=\"warn\" role=\"alert\"><strong>Degraded:</strong> {}</p>",
            esc(reason)
        );
    }
    activities(ctx, &mut body);
    recent_quarantine(ctx, &stats, &mut body);
    headline(&stats, &mut body);
    Page {
        status: 200,
        body: html::layout("Business activity tracking", &body),
    }
}

fn activities(ctx: &Context<'_>, out: &mut String) {
    out.push_str("<h2>Activities</h2>\n");
    let mut defs = ctx.store.definitions();
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    if defs.is_empty() {
        out.push_str("<p>No activity is deployed yet (<code>bamdb deploy</code>).</p>\n");
        return;
    }
    html::table_start(out, &["activity", "active", "completed", "items", ""]);
    for def in &defs {
        let name = &def.name;
        let search = html::search_href(name);
        let count_cell = |status: StatusFilter, word: &str| match count(ctx, name, status) {
            Ok(n) => format!(
                "<td class=\"n\">{}</td>",
                link(
                    &format!("{search}{}", query_string(&[("status", word)])),
                    &count_text(n)
                )
            ),
            Err(message) => format!("<td class=\"err\">{}</td>", esc(&message)),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td>{}{}<td class=\"n\">{}</td><td>{}</td></tr>",
            link(&search, name),
            count_cell(StatusFilter::Active, "active"),
            count_cell(StatusFilter::Completed, "completed"),
            def.items.len(),
            link(&html::aggregate_href(name), "aggregate")
        );
    }
    out.push_str(TABLE_END);
}

/// Instances of `activity` with `status`, by a count aggregation: the
/// query engine counts completed instances over the import files' column
/// projections without reading records, and active ones from what it
/// holds; the page itself never loads instances. (Measured with 1,000,000
/// completed and 10,000 active: about 5 ms completed, 50-80 ms active.)
fn count(ctx: &Context<'_>, activity: &str, status: StatusFilter) -> Result<u64, String> {
    let mut agg = Aggregate::new(activity);
    agg.status = status;
    agg.measures = vec![Measure::Count];
    let result = ctx.store.aggregate(&agg).map_err(|e| query_failure(&e).1)?;
    // No groups: exactly one row, its one cell the count.
    match result.rows.first().and_then(|r| r.cells.first()) {
        Some(Cell::Int(n)) => Ok(u64::try_from(*n).unwrap_or(0)),
        _ => Err("no count".to_owned()),
    }
}

fn recent_quarantine(ctx: &Context<'_>, stats: &StoreStats, out: &mut String) {
    out.push_str("<h2>Recent quarantine</h2>\n");
    // The counts are kept as entries are written; reading the log (every
    // entry with its payload) is skipped when they say it is empty.
    if let Some(q) = &stats.quarantine {
        if q.unresolved + q.resolved + q.dropped + q.damaged_records == 0 {
            out.push_str("<p>Nothing is quarantined.</p>\n");
            return;
        }
        let _ = writeln!(
            out,
            "<p>{} unresolved, {} resolved, {} dropped{}.</p>",
            count_text(q.unresolved),
            count_text(q.resolved),
            count_text(q.dropped),
            if q.damaged_records > 0 {
                format!(", {} damaged records", count_text(q.damaged_records))
            } else {
                String::new()
            }
        );
    }
    let entries = match ctx.store.quarantine_entries() {
        Ok((entries, _damaged)) => entries,
        Err(e) => {
            out.push_str(&html::error_box(&format!(
                "the quarantine could not be read: {e}"
            )));
            return;
        }
    };
    if entries.is_empty() {
        out.push_str("<p>Nothing is quarantined.</p>\n");
    } else {
        html::table_start(out, &["id", "time", "state", "reasons"]);
        for e in entries.iter().rev().take(RECENT_QUARANTINE) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"t\">{}</td><td>{}</td><td>{}</td></tr>",
                link(&format!("/quarantine#q{}", e.id), &e.id.to_string()),
                esc(&html::time_text(e.time)),
                esc(&state_text(&e.state)),
                reasons_html(&e.reasons)
            );
        }
        out.push_str(TABLE_END);
    }
    out.push_str("<p><a href=\"/quarantine\">All quarantine entries</a></p>\n");
}

fn headline(stats: &StoreStats, out: &mut String) {
    out.push_str("<h2>Store</h2>\n");
    html::table_start(out, &["figure", "value"]);
    let rows: [(&str, String); 10] = [
        ("committed LSN", stats.committed_lsn.to_string()),
        ("applied LSN", stats.applied_lsn.to_string()),
        ("checkpointed LSN", stats.checkpointed_lsn.to_string()),
        ("lag (frames)", count_text(stats.lag)),
        ("active instances", count_text(stats.active as u64)),
        ("completed instances", count_text(stats.completed)),
        ("pending records", count_text(stats.pending as u64)),
        ("import files", count_text(stats.import_files as u64)),
        ("message box bytes", count_text(stats.wal_bytes)),
        (
            "status",
            match (&stats.degraded, stats.import_halted) {
                (_, true) => "import halted".to_owned(),
                (Some(_), false) => "degraded".to_owned(),
                (None, false) => "ok".to_owned(),
            },
        ),
    ];
    for (name, value) in rows {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
            esc(name),
            esc(&value)
        );
    }
    out.push_str(TABLE_END);
}
