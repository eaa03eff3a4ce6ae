//! `bamdb quarantine drop ID... --reason TEXT` and `drop --all-unresolved`:
//! an operator decision recorded with its reason and time, all or nothing,
//! never without a reason; dropped entries stay listed, cannot be replayed
//! and are named by `verify`. (Before, an entry that could never be
//! replayed could never leave quarantine either.)

mod cli_common;
mod quarantine_common;

use cli_common::{bamdb, code, no_panic, s, stderr, stdout};
use quarantine_common::{entries, store_with_invoices};

fn drop(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["quarantine", "drop", "--store", s(dir)];
    all.extend_from_slice(args);
    let o = bamdb(&all, "");
    no_panic(&o);
    (code(&o), stdout(&o), stderr(&o))
}

#[test]
fn drop_is_recorded_with_its_reason_and_ends_replay() {
    let (_tmp, dir) = store_with_invoices(&["INV-1", "INV-2", "INV-3"]);
    let ids: Vec<String> = entries(&dir, false)
        .iter()
        .map(|e| e["id"].to_string())
        .collect();

    // No reason, or an empty one: a usage error, nothing recorded.
    assert_eq!(drop(&dir, &[&ids[0]]).0, 2);
    assert_eq!(drop(&dir, &[&ids[0], "--reason", ""]).0, 2);
    assert_eq!(drop(&dir, &[&ids[0], "--reason", "  "]).0, 2);
    // An unknown id among good ones: nothing is dropped.
    let (c, _, err) = drop(&dir, &[&ids[0], "999", "--reason", "x"]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("no quarantine entry 999"), "{err}");
    assert_eq!(entries(&dir, true).len(), 3, "nothing dropped");

    let (c, out, err) = drop(&dir, &[&ids[0], "--reason", "test order, not real"]);
    assert_eq!(c, 0, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["id"].to_string(), ids[0]);
    assert_eq!(line["outcome"], "dropped");

    // Dropped twice: refused, and the first reason stays.
    let (c, _, err) = drop(&dir, &[&ids[0], "--reason", "again"]);
    assert_eq!(c, 1, "{err}");
    assert!(err.contains("already dropped"), "{err}");

    // Not replayable any more, even with --all.
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), &ids[0]], "");
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("\"outcome\":\"dropped\""),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("test order, not real"),
        "{}",
        stdout(&o)
    );
    let o = bamdb(&["quarantine", "replay", "--store", s(&dir), "--all"], "");
    assert!(
        !stdout(&o).contains(&format!("\"id\":{}", ids[0])),
        "{}",
        stdout(&o)
    );

    let (c, out, err) = drop(&dir, &["--all-unresolved", "--reason", "cleanup"]);
    assert_eq!(c, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(entries(&dir, true).is_empty());
    let all = entries(&dir, false);
    assert_eq!(all.len(), 3, "dropped entries stay listed");
    assert_eq!(all[0]["drop_reason"], "test order, not real");
    assert_eq!(all[1]["drop_reason"], "cleanup");
    assert_eq!(all[2]["drop_reason"], "cleanup");
    // Nothing left to drop: said, not an error.
    let (c, out, err) = drop(&dir, &["--all-unresolved", "--reason", "cleanup"]);
    assert_eq!(c, 0, "{err}");
    assert!(out.is_empty() && err.contains("nothing dropped"), "{err}");

    let stats = quarantine_common::import(&dir);
    assert_eq!(stats["quarantine"]["dropped"], 3, "{stats}");
    assert_eq!(stats["quarantine"]["unresolved"], 0, "{stats}");

    // verify names every dropped entry with its reason, and is sound.
    let o = bamdb(&["verify", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let out = stdout(&o);
    let notes: Vec<&str> = out.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes.iter().filter(|l| l.contains("dropped at")).count(),
        3,
        "{out}"
    );
    assert!(
        out.contains(&format!("quarantine entry {}:", ids[0])),
        "{out}"
    );
    assert!(out.contains("test order, not real"), "{out}");
    assert!(out.contains("0 unresolved, 0 resolved, 3 dropped"), "{out}");
}
