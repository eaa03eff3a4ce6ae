//! `bamdb quarantine export` prints the original events of entries as the
//! JSON lines `bamdb ingest` reads, a flush after each entry, so they can
//! be fixed by hand and ingested again; entries without events (a damaged
//! message box region) are named on stderr and skipped. (Before, there was
//! no export: `show` printed pretty JSON that ingest does not read.)

mod cli_common;
mod quarantine_common;

use cli_common::{bamdb, code, no_panic, s, stderr, stdout};
use quarantine_common::{
    deploy_invoice, entries, import, store_with_damaged_frame, store_with_invoices,
};

#[test]
fn exported_events_ingest_again_after_the_fix() {
    let (_tmp, dir) = store_with_invoices(&["INV-1", "INV-2"]);
    assert!(bamdb(&["get", "--store", s(&dir), "Invoice", "INV-1"], "")
        .status
        .code()
        .is_some_and(|c| c != 0));
    deploy_invoice(&dir);

    let o = bamdb(
        &["quarantine", "export", "--store", s(&dir), "--unresolved"],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let exported = stdout(&o);
    let lines: Vec<serde_json::Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // begin, update, end, flush for each of the two entries.
    assert_eq!(lines.len(), 8, "{exported}");
    assert_eq!(lines[0]["op"], "begin");
    assert_eq!(lines[1]["data"]["Total"], 9.5);
    assert_eq!(lines[3], serde_json::json!({"op": "flush"}));
    assert_eq!(lines[7], serde_json::json!({"op": "flush"}));

    let o = bamdb(&["ingest", "--store", s(&dir), "-"], &exported);
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for id in ["INV-1", "INV-2"] {
        let o = bamdb(&["get", "--store", s(&dir), "Invoice", id], "");
        assert_eq!(code(&o), 0, "{id}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["status"], "completed", "{v}");
        assert!(stdout(&o).contains("9.5"), "{v}");
    }
    // Nothing new went to quarantine.
    assert_eq!(entries(&dir, false).len(), 2);

    // One entry by id; an unknown id is exit 1; naming none is a usage error.
    let id = entries(&dir, false)[1]["id"].to_string();
    let o = bamdb(&["quarantine", "export", "--store", s(&dir), &id], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 4);
    let o = bamdb(&["quarantine", "export", "--store", s(&dir), "999"], "");
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("no quarantine entry 999"),
        "{}",
        stderr(&o)
    );
    let o = bamdb(&["quarantine", "export", "--store", s(&dir)], "");
    assert_eq!(code(&o), 2);
}

#[test]
fn a_damaged_region_is_named_and_skipped() {
    let (_tmp, dir, victim) = store_with_damaged_frame();
    import(&dir);
    let all = entries(&dir, true);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["source"]["lsns"][0], victim);
    let id = all[0]["id"].to_string();
    let o = bamdb(
        &["quarantine", "export", "--store", s(&dir), "--unresolved"],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "nothing to export");
    assert!(
        stderr(&o).contains(&format!("entry {id} skipped: a damaged message box region")),
        "{}",
        stderr(&o)
    );
}
