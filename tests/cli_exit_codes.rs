//! Every command's exit codes, as its `--help` documents them: for each
//! command, scenarios that end in each documented code, and a check that
//! the codes seen are exactly the codes documented (a code the help
//! promises is produced, and no undocumented one appears).
//!
//! Regression: `get` on an activity that is not deployed exited 1 ("not
//! found") while `search` and `agg` exit 2 for the same mistake, and the
//! help text that said so was hidden (see tests/cli_help.rs).

mod cli_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cli_common::*;

/// The exit codes `bamdb COMMAND... --help` documents.
fn documented(command: &[&str]) -> BTreeSet<i32> {
    let mut args = command.to_vec();
    args.push("--help");
    let o = bamdb(&args, "");
    assert_eq!(code(&o), 0);
    stdout(&o)
        .lines()
        .skip_while(|l| !l.starts_with("Exit codes:"))
        .skip(1)
        .filter_map(|l| {
            let t = l.strip_prefix("  ")?;
            let (n, rest) = t.split_once("  ")?;
            (!rest.is_empty()).then(|| n.parse().ok())?
        })
        .collect()
}

/// Runs each `(args, expected code)` and checks the set of codes against
/// the help of `command`.
fn check(command: &[&str], scenarios: &[(Vec<&str>, i32)]) {
    let mut seen = BTreeSet::new();
    for (args, expected) in scenarios {
        let o = bamdb(args, "");
        no_panic(&o);
        assert_eq!(
            code(&o),
            *expected,
            "{args:?}:\n{}\n{}",
            stdout(&o),
            stderr(&o)
        );
        if *expected == 2 {
            assert!(!stderr(&o).trim().is_empty(), "{args:?}: exit 2 says why");
        }
        seen.insert(*expected);
    }
    assert_eq!(
        seen,
        documented(command),
        "{command:?}: codes seen vs. --help"
    );
}

/// A store with PurchaseOrder deployed, PO-0..PO-2 completed, PO-9 active,
/// and two quarantine entries (Invoice is not deployed).
fn store() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = deployed_store();
    let mut input = po_lines(0..3);
    input.push_str("{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-9\"}\n");
    input.push_str(
        "{\"op\":\"flush\"}\n{\"op\":\"begin\",\"activity\":\"Invoice\",\"id\":\"I-1\"}\n",
    );
    input.push_str(
        "{\"op\":\"flush\"}\n{\"op\":\"begin\",\"activity\":\"Invoice\",\"id\":\"I-2\"}\n",
    );
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    (tmp, dir)
}

fn not_a_store(tmp: &tempfile::TempDir) -> PathBuf {
    let dir = tmp.path().join("not-a-store");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn get() {
    let (tmp, dir) = store();
    let d = s(&dir);
    let none = not_a_store(&tmp);
    check(
        &["get"],
        &[
            (vec!["get", "--store", d, "PurchaseOrder", "PO-1"], 0),
            (vec!["get", "--store", d, "PurchaseOrder", "PO-404"], 1),
            // An activity that is not deployed: a usage error, as in search.
            (vec!["get", "--store", d, "Nothing", "PO-1"], 2),
            (vec!["get", "--store", d, "purchaseorder", "PO-1"], 2),
            (vec!["get", "--store", s(&none), "PurchaseOrder", "PO-1"], 2),
            (vec!["get", "--store", d], 2),
        ],
    );
    // search says the same about the same mistake.
    let o = bamdb(&["search", "--store", d, "Nothing"], "");
    assert_eq!(code(&o), 2);
    let o = bamdb(&["get", "--store", d, "Nothing", "PO-1"], "");
    assert!(stderr(&o).contains("not deployed"), "{}", stderr(&o));
}

#[test]
fn search_agg_stats_definitions() {
    let (tmp, dir) = store();
    let d = s(&dir);
    let none = not_a_store(&tmp);
    let n = s(&none);
    check(
        &["search"],
        &[
            (vec!["search", "--store", d, "PurchaseOrder"], 0),
            (
                vec![
                    "search",
                    "--store",
                    d,
                    "PurchaseOrder",
                    "--where",
                    "Amount > 99999",
                ],
                0,
            ),
            (
                vec![
                    "search",
                    "--store",
                    d,
                    "PurchaseOrder",
                    "--status",
                    "pending",
                ],
                0,
            ),
            (
                vec![
                    "search",
                    "--store",
                    d,
                    "PurchaseOrder",
                    "--where",
                    "Amount >",
                ],
                2,
            ),
            (
                vec![
                    "search",
                    "--store",
                    d,
                    "PurchaseOrder",
                    "--where",
                    "Nope = 1",
                ],
                2,
            ),
            (vec!["search", "--store", n, "PurchaseOrder"], 2),
        ],
    );
    check(
        &["agg"],
        &[
            (
                vec!["agg", "--store", d, "PurchaseOrder", "--group-by", "Region"],
                0,
            ),
            (
                vec![
                    "agg",
                    "--store",
                    d,
                    "PurchaseOrder",
                    "--measure",
                    "mode:Amount",
                ],
                2,
            ),
            (
                vec!["agg", "--store", d, "PurchaseOrder", "--status", "pending"],
                2,
            ),
            (vec!["agg", "--store", d, "Nothing"], 2),
            (vec!["agg", "--store", n, "PurchaseOrder"], 2),
        ],
    );
    check(
        &["stats"],
        &[
            (vec!["stats", "--store", d], 0),
            (vec!["stats", "--store", n], 2),
        ],
    );
    check(
        &["definitions"],
        &[
            (vec!["definitions", "--store", d], 0),
            (vec!["definitions", "--store", d, "--format", "table"], 0),
            (vec!["definitions", "--store", d, "--format", "yaml"], 2),
            (vec!["definitions", "--store", n], 2),
        ],
    );
    // A store another process has open: every reader answers read-only
    // (exit 0), and says so on stderr.
    let held = bamdb::Store::open(&dir, bamdb::StoreOptions::default()).unwrap();
    for args in [
        vec!["stats", "--store", d],
        vec!["definitions", "--store", d],
        vec!["search", "--store", d, "PurchaseOrder"],
        vec!["agg", "--store", d, "PurchaseOrder", "--measure", "count"],
    ] {
        let o = bamdb(&args, "");
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    }
    drop(held);
}

#[test]
fn maintain() {
    let (tmp, dir) = store();
    let d = s(&dir);
    let none = not_a_store(&tmp);
    check(
        &["maintain"],
        &[
            (vec!["maintain", "--store", d], 0),
            (
                vec![
                    "maintain",
                    "--store",
                    d,
                    "--complete",
                    "PurchaseOrder",
                    "PO-9",
                ],
                0,
            ),
            // PO-1 is completed, not active.
            (
                vec![
                    "maintain",
                    "--store",
                    d,
                    "--complete",
                    "PurchaseOrder",
                    "PO-1",
                ],
                1,
            ),
            (
                vec!["maintain", "--store", d, "--dangling-older-than", "soon"],
                2,
            ),
            (vec!["maintain", "--store", s(&none)], 2),
        ],
    );
}

#[test]
fn quarantine_list_show_replay() {
    let (tmp, dir) = store();
    let d = s(&dir);
    let none = not_a_store(&tmp);
    let n = s(&none);
    let damaged = tmp.path().join("damaged");
    copy_dir(&dir, &damaged);
    // A byte of the first quarantine record flipped: `list` names it.
    let log = std::fs::read_dir(damaged.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wal"))
        .expect("a quarantine log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[100] ^= 0x5a;
    std::fs::write(&log, bytes).unwrap();
    check(
        &["quarantine", "list"],
        &[
            (vec!["quarantine", "list", "--store", d], 0),
            (vec!["quarantine", "list", "--store", s(&damaged)], 1),
            (vec!["quarantine", "list", "--store", n], 2),
        ],
    );
    check(
        &["quarantine", "show"],
        &[
            (vec!["quarantine", "show", "--store", d, "1"], 0),
            (vec!["quarantine", "show", "--store", d, "99"], 1),
            (vec!["quarantine", "show", "--store", d, "one"], 2),
            (vec!["quarantine", "show", "--store", n, "1"], 2),
        ],
    );
    let invoice = write(
        tmp.path(),
        "invoice.json",
        r#"{"name":"Invoice","items":[{"name":"Total","type":"float"}]}"#,
    );
    // Still invalid (Invoice not deployed): 1. Deployed: 0.
    let o = bamdb(&["quarantine", "replay", "--store", d, "1"], "");
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert_eq!(code(&bamdb(&["deploy", "--store", d, s(&invoice)], "")), 0);
    check(
        &["quarantine", "replay"],
        &[
            (vec!["quarantine", "replay", "--store", d, "1"], 0),
            (vec!["quarantine", "replay", "--store", d, "99"], 1),
            (vec!["quarantine", "replay", "--store", d], 2),
            (vec!["quarantine", "replay", "--store", n, "--all"], 2),
        ],
    );
}

#[test]
fn verify() {
    let (tmp, dir) = store();
    let none = not_a_store(&tmp);
    let damaged = tmp.path().join("damaged");
    copy_dir(&dir, &damaged);
    std::fs::write(damaged.join("segments").join("MANIFEST"), b"garbage").unwrap();
    check(
        &["verify"],
        &[
            (vec!["verify", "--store", s(&dir)], 0),
            (vec!["verify", "--store", s(&damaged)], 1),
            (vec!["verify", "--store", s(&none)], 2),
        ],
    );
}

#[test]
fn deploy_ingest_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let d = s(&dir);
    let good = write(tmp.path(), "good.json", &defs());
    let bad = write(
        tmp.path(),
        "bad.json",
        r#"{"name":"X","items":[{"name":"A","type":"blob"}]}"#,
    );
    check(
        &["deploy"],
        &[
            (vec!["deploy", "--store", d, s(&good)], 0),
            (vec!["deploy", "--store", d, s(&bad)], 2),
            (vec!["deploy", "--store", d, "/no/such/file.json"], 2),
        ],
    );
    let events = write(tmp.path(), "events.jsonl", &po_lines(0..2));
    let broken = write(tmp.path(), "broken.jsonl", "{\"op\":\"begin\",\n");
    check(
        &["ingest"],
        &[
            (vec!["ingest", "--store", d, s(&events)], 0),
            (vec!["ingest", "--store", d, s(&broken)], 1),
            (vec!["ingest", "--store", d, "/no/such/input.jsonl"], 2),
        ],
    );
    let demo = tmp.path().join("demo");
    check(
        &["demo"],
        &[
            (vec!["demo", "--activities", "50", "--store", s(&demo)], 0),
            (vec!["demo", "--activities", "0"], 2),
        ],
    );
    // A store another process has open: 2, for the writers too.
    let held = bamdb::Store::open(&dir, bamdb::StoreOptions::default()).unwrap();
    for args in [
        vec!["deploy", "--store", d, s(&good)],
        vec!["ingest", "--store", d, s(&events)],
        vec!["demo", "--activities", "10", "--store", d],
    ] {
        let o = bamdb(&args, "");
        no_panic(&o);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
    drop(held);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
