//! `/quarantine`: every quarantine entry, newest first, with a replay
//! button on those still waiting. The server handles the POST of the
//! button and redirects back here with `replayed` and `outcome`, shown as
//! a notice.

use std::fmt::Write as _;

use bamdb::EntryState;

use super::form::Params;
use super::html::{self, count_text, esc, time_text, TABLE_END};
use super::{Context, Page};

/// Entries listed at most: the page stays readable and quick to build
/// however long the quarantine log grows (the CLI lists them all).
pub const MAX_ENTRIES: usize = 300;

/// The quarantine page.
pub fn render(ctx: &Context<'_>, params: Params<'_>) -> Page {
    let mut body = String::new();
    if let Some(id) = params.last("replayed") {
        let outcome = params.last("outcome").unwrap_or("done");
        let _ = writeln!(
            body,
            "<p class=\"note\" role=\"status\">Replay of entry {}: {}</p>",
            esc(id),
            esc(outcome)
        );
    }
    if let Some(q) = ctx.store.stats().quarantine {
        let _ = writeln!(
            body,
            "<p>{} unresolved, {} resolved, {} dropped.</p>",
            count_text(q.unresolved),
            count_text(q.resolved),
            count_text(q.dropped)
        );
    }
    let (entries, damaged) = match ctx.store.quarantine_entries() {
        Ok(found) => found,
        Err(e) => {
            body.push_str(&html::error_box(&format!(
                "the quarantine could not be read: {e}"
            )));
            return Page {
                status: 500,
                body: html::layout("Quarantine", &body),
            };
        }
    };
    for d in &damaged {
        let _ = writeln!(
            body,
            "<p class=\"warn\">Damaged quarantine record: {} (see <code>bamdb verify</code>)</p>",
            esc(d)
        );
    }
    if entries.is_empty() {
        body.push_str("<p>Nothing is quarantined.</p>\n");
    } else {
        if entries.len() > MAX_ENTRIES {
            let _ = writeln!(
                body,
                "<p class=\"note\">Showing the newest {MAX_ENTRIES} of {} entries; \
                 <code>bamdb quarantine list</code> lists them all.</p>",
                count_text(entries.len() as u64)
            );
        }
        html::table_start(
            &mut body,
            &["id", "time", "state", "reasons", "events", "source", ""],
        );
        for e in entries.iter().rev().take(MAX_ENTRIES) {
            let failed = if e.failed_replays.is_empty() {
                String::new()
            } else {
                format!(
                    "<br><span class=\"muted\">{} failed replay{}; last: {}</span>",
                    e.failed_replays.len(),
                    if e.failed_replays.len() == 1 { "" } else { "s" },
                    e.failed_replays
                        .last()
                        .map(|r| esc(&r.join("; ")))
                        .unwrap_or_default()
                )
            };
            let (first, last) = e.source.lsns;
            let lsns = if first == last {
                format!("LSN {first}")
            } else {
                format!("LSNs {first}-{last}")
            };
            let _ = writeln!(
                body,
                "<tr id=\"q{id}\"><td class=\"n\">{id}</td><td class=\"t\">{}</td><td>{}</td><td>{}{failed}</td>\
                 <td class=\"n\">{}</td><td>{} <span class=\"muted\">{}@{}</span></td><td>{}</td></tr>",
                esc(&time_text(e.time)),
                esc(&state_text(&e.state)),
                reasons_html(&e.reasons),
                e.events,
                esc(&lsns),
                esc(&e.source.segment),
                e.source.offset,
                replay_form(ctx, e.id, &e.state),
                id = e.id,
            );
        }
        body.push_str(TABLE_END);
    }
    Page {
        status: 200,
        body: html::layout("Quarantine", &body),
    }
}

/// The replay button of an entry that waits (neither resolved nor
/// dropped); nothing for the others.
fn replay_form(ctx: &Context<'_>, id: u64, state: &EntryState) -> String {
    if !matches!(state, EntryState::Unresolved) {
        return String::new();
    }
    let token = if ctx.token_required {
        "<input type=password name=token placeholder=token required> "
    } else {
        ""
    };
    format!(
        "<form method=post action=\"/quarantine/{id}/replay\">{token}\
         <button type=\"submit\">Replay</button></form>"
    )
}

/// An entry's state in words.
pub fn state_text(state: &EntryState) -> String {
    match state {
        EntryState::Unresolved => "unresolved".to_owned(),
        EntryState::Resolved {
            resolved_by_lsn,
            resolved_at,
        } => format!(
            "resolved {} (LSN {resolved_by_lsn})",
            time_text(*resolved_at)
        ),
        EntryState::Dropped {
            drop_reason,
            dropped_at,
        } => format!("dropped {}: {drop_reason}", time_text(*dropped_at)),
    }
}

/// The reasons, escaped, one per line.
pub fn reasons_html(reasons: &[String]) -> String {
    reasons
        .iter()
        .map(|r| esc(r))
        .collect::<Vec<_>>()
        .join("<br>")
}
