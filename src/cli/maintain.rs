//! `bamdb maintain`: dangling instances, operator actions (complete,
//! remove) and retention, through the library's admin operations.

use std::time::Duration;

use bamdb::model::{StatusFilter, Timestamp, Value};
use bamdb::query::Search;

use super::selection::{query_failed, usage};
use super::{close_store, open_imported, print_line, CliError, ExistingStore, EXIT_OK};

/// Arguments of `maintain`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Lists dangling instances: active instances of every deployed activity
not modified for longer than the threshold, one JSON object per line
({\"activity\",\"id\",\"begin\",\"last_modified\",\"idle_seconds\"}), oldest first.
With --complete ACTIVITY ID or --remove ACTIVITY ID (repeatable), first
completes those instances now (whatever parts have not ended) or removes them
(every part), printing {\"action\",\"activity\",\"id\",\"ok\",\"reason\"} per
action; the actions go through the message box and survive a restart.
With --retain DURATION, first moves completed instances that ended longer ago
than DURATION out of the online store: archived (read by get, search and agg
with --archived, and by the library's Store::archived) or, with --drop,
deleted; prints {\"retained\":DURATION}.
Like every command but deploy, ingest and demo, maintain needs an existing
store, with or without an action: it never creates one. Pending records are
listed by `bamdb search ACTIVITY --status pending`.

Exit codes:
  0  success (also when none is dangling)
  1  an action was refused (the instance is not active, or is pending)
  2  bad duration, or the store could not be used (not a store, locked,
     damaged, I/O)"
)]
pub struct Args {
    #[command(flatten)]
    store: ExistingStore,
    /// Idle time after which an active instance counts as dangling:
    /// a number with a unit s, m, h, d or w (e.g. 90m, 12h, 7d).
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    dangling_older_than: String,
    /// Complete this active instance now: ACTIVITY ID (repeatable).
    #[arg(long, num_args = 2, value_names = ["ACTIVITY", "ID"])]
    complete: Vec<String>,
    /// Remove this active or pending instance: ACTIVITY ID (repeatable).
    #[arg(long, num_args = 2, value_names = ["ACTIVITY", "ID"])]
    remove: Vec<String>,
    /// Apply retention now: completed instances that ended longer ago than
    /// this (e.g. 30d) leave the online store (archived unless --drop).
    #[arg(long, value_name = "DURATION")]
    retain: Option<String>,
    /// With --retain: delete them instead of archiving.
    #[arg(long, requires = "retain")]
    drop: bool,
}

pub fn run(args: Args) -> Result<i32, CliError> {
    let threshold = parse_duration(&args.dangling_older_than)?;
    let micros = i64::try_from(threshold.as_micros()).unwrap_or(i64::MAX);
    let now = Timestamp::now();
    let cutoff = Timestamp::from_micros(now.as_micros().saturating_sub(micros));
    let dir = &args.store.store;
    let retain = match &args.retain {
        Some(text) => Some(parse_duration(text)?),
        None => None,
    };
    let store = open_imported(dir)?;
    let mut code = EXIT_OK;
    if let (Some(window), Some(text)) = (retain, &args.retain) {
        let action = if args.drop {
            bamdb::RetentionAction::Drop
        } else {
            bamdb::RetentionAction::Archive
        };
        let policy = bamdb::Retention {
            online_window: window,
            action,
        };
        store
            .apply_retention(policy)
            .map_err(|e| query_failed("maintain", dir, &e))?;
        print_line(&serde_json::json!({ "retained": text, "dropped": args.drop }))?;
    }
    let actions = args
        .complete
        .chunks(2)
        .map(|p| ("complete", p))
        .chain(args.remove.chunks(2).map(|p| ("remove", p)));
    for (action, pair) in actions {
        let [activity, id] = pair else { continue };
        let result = if action == "complete" {
            store.complete_instance(activity, id)
        } else {
            store.remove_instance(activity, id)
        };
        if result.is_err() {
            code = 1;
        }
        print_line(&serde_json::json!({
            "action": action,
            "activity": activity,
            "id": id,
            "ok": result.is_ok(),
            "reason": result.err().map(|e| e.to_string()),
        }))?;
    }
    let mut dangling = Vec::new();
    for def in store.definitions() {
        let mut search = Search::new(&def.name);
        search.status = StatusFilter::Active;
        search.until = Some(cutoff);
        search.columns = Some(vec![
            "id".to_owned(),
            "begin".to_owned(),
            "last_modified".to_owned(),
        ]);
        let rows = store
            .search(&search)
            .map_err(|e| query_failed("maintain", dir, &e))?;
        for row in rows {
            let last = match row.get("last_modified") {
                Some(Value::Timestamp(t)) => *t,
                _ => continue,
            };
            dangling.push((last, def.name.clone(), row));
        }
    }
    close_store(store)?;
    dangling.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    for (last, activity, row) in dangling {
        let idle = now.as_micros().saturating_sub(last.as_micros()) / 1_000_000;
        let line = serde_json::json!({
            "activity": activity,
            "id": row.get("id"),
            "begin": row.get("begin"),
            "last_modified": row.get("last_modified"),
            "idle_seconds": idle,
        });
        print_line(&line)?;
    }
    Ok(code)
}

/// Parses `90s`, `30m`, `12h`, `7d`, `2w` (a whole number and one unit).
fn parse_duration(text: &str) -> Result<Duration, CliError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        usage(&format!(
            "duration {text:?}: expected a whole number and a unit s, m, h, d or w (e.g. 7d)"
        ))
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}
