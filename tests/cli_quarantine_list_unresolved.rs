//! `bamdb quarantine list` shows each entry's state: `unresolved`,
//! `resolved` (by which replay frame, and when) or `dropped` (why, and
//! when); `--unresolved` lists only the entries neither resolved nor
//! dropped. (Before, `list` had only a `resolved` flag, a dropped state did
//! not exist, and there was no `--unresolved`.)

mod cli_common;
mod quarantine_common;

use cli_common::{bamdb, code, s, stderr, stdout};
use quarantine_common::{deploy_invoice, entries, store_with_invoices};

#[test]
fn list_shows_states_and_unresolved_hides_resolved_and_dropped() {
    let (_tmp, dir) = store_with_invoices(&["INV-1", "INV-2", "INV-3"]);
    let all = entries(&dir, false);
    assert!(all.iter().all(|e| e["state"] == "unresolved"), "{all:?}");
    let ids: Vec<String> = all.iter().map(|e| e["id"].to_string()).collect();

    deploy_invoice(&dir);
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), &ids[0]], "");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let o = bamdb(
        &[
            "quarantine",
            "drop",
            "--store",
            s(&dir),
            &ids[1],
            "--reason",
            "sent twice by the billing system",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));

    let all = entries(&dir, false);
    assert_eq!(all.len(), 3, "dropped and resolved entries stay listed");
    assert_eq!(all[0]["state"], "resolved", "{}", all[0]);
    assert_eq!(all[0]["resolved"], true);
    assert!(
        all[0]["resolved_by_lsn"].as_u64().unwrap() > 0,
        "{}",
        all[0]
    );
    assert!(all[0]["resolved_at"].is_string(), "{}", all[0]);
    assert_eq!(all[1]["state"], "dropped", "{}", all[1]);
    assert_eq!(all[1]["drop_reason"], "sent twice by the billing system");
    assert!(all[1]["dropped_at"].is_string(), "{}", all[1]);
    assert_eq!(all[2]["state"], "unresolved", "{}", all[2]);

    let unresolved = entries(&dir, true);
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    assert_eq!(unresolved[0]["id"].to_string(), ids[2]);
}
