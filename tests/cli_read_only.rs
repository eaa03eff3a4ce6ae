//! Read commands alongside a writer process: while `bamdb ingest` holds a
//! store (its writer lock), `stats`, `get`, `search`, `agg` and
//! `definitions` from other processes answer read-only from the writer's
//! last checkpoint and say so on stderr; writers are still refused.

mod cli_common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use cli_common::*;

const ORDERS: usize = 40;

#[test]
fn reads_answer_from_the_last_checkpoint_while_an_ingest_holds_the_store() {
    let (_tmp, dir) = deployed_store();
    let d = s(&dir);
    let mut ingest = spawn(&["ingest", "--store", d], Stdio::piped());
    let mut input = ingest.stdin.take().expect("stdin");
    input
        .write_all(format!("{}{{\"op\":\"flush\"}}\n", po_lines(0..ORDERS)).as_bytes())
        .expect("write events");
    input.flush().expect("flush stdin");
    // The ingest prints a receipt once the group is durable; its stdin stays
    // open, so it keeps the store (and its lock) while we read.
    let mut receipts = BufReader::new(ingest.stdout.take().expect("stdout"));
    let mut receipt = String::new();
    receipts.read_line(&mut receipt).expect("receipt");
    assert!(receipt.contains("\"committed\""), "{receipt}");

    // --fresh reads the message box too: the order is there at once,
    // before any checkpoint.
    let o = bamdb(
        &["get", "--store", d, "--fresh", "PurchaseOrder", "PO-7"],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"PO-7\""), "{}", stdout(&o));
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));

    // The writer's bus checkpoints once it is idle (StoreOptions::
    // checkpoint_interval); until then a reader sees the store as before.
    let deadline = Instant::now() + Duration::from_secs(60);
    let stats = loop {
        let o = bamdb(&["stats", "--store", d], "");
        no_panic(&o);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
        let stats: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stats JSON");
        if stats["completed"] == ORDERS {
            break stats;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint with the orders within 60 s: {stats}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(stats["applied_lsn"], stats["checkpointed_lsn"], "{stats}");

    let o = bamdb(&["get", "--store", d, "PurchaseOrder", "PO-7"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"PO-7\""), "{}", stdout(&o));
    let o = bamdb(&["get", "--store", d, "PurchaseOrder", "PO-999"], "");
    assert_eq!(code(&o), 1, "not found is still exit 1: {}", stderr(&o));
    let o = bamdb(
        &[
            "search",
            "--store",
            d,
            "PurchaseOrder",
            "--where",
            "Amount>=10",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), ORDERS - 10, "{}", stdout(&o));
    let o = bamdb(
        &[
            "agg",
            "--store",
            d,
            "PurchaseOrder",
            "--measure",
            "count",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let agg: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("agg JSON");
    assert_eq!(agg["rows"][0][0], ORDERS, "{agg}");
    let o = bamdb(&["definitions", "--store", d], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("PurchaseOrder"));

    // Writers are still refused while the ingest runs.
    let o = bamdb(&["ingest", "--store", d], &po_lines(100..101));
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));

    drop(input);
    let status = ingest.wait().expect("ingest exits");
    assert!(status.success());
    // With nobody else on it, a read opens the store as before: no note.
    let o = bamdb(&["stats", "--store", d], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("read-only"), "{}", stderr(&o));
}

/// `--read-only` never takes the lock, even on an idle store: an
/// application opening the store while a script polls it is never refused.
#[test]
fn read_only_reads_leave_the_lock_free_and_answer_from_the_last_checkpoint() {
    let (_tmp, dir) = deployed_store();
    let d = s(&dir);
    let o = bamdb(&["ingest", "--store", d], &po_lines(0..5));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A reader holding the store open (as a long query would) ...
    let reader = bamdb::StoreReader::open(&dir).unwrap();
    // ... does not keep a writer out,
    let writer = bamdb::Store::open(&dir, bamdb::StoreOptions::default()).unwrap();
    drop(writer);
    drop(reader);
    for args in [
        vec!["stats", "--store", d, "--read-only"],
        vec!["get", "--store", d, "--read-only", "PurchaseOrder", "PO-3"],
        vec!["search", "--store", d, "--read-only", "PurchaseOrder"],
        vec![
            "agg",
            "--store",
            d,
            "--read-only",
            "PurchaseOrder",
            "--measure",
            "count",
        ],
        vec!["definitions", "--store", d, "--read-only"],
    ] {
        let o = bamdb(&args, "");
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "asked for: no note: {}", stderr(&o));
    }
    let o = bamdb(
        &["search", "--store", d, "--read-only", "PurchaseOrder"],
        "",
    );
    assert_eq!(stdout(&o).lines().count(), 5);
    // An activity a checkpoint does not know may have been deployed since:
    // the refusal says how to read further.
    let o = bamdb(&["get", "--store", d, "--read-only", "Invoice", "I-1"], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--fresh"), "{}", stderr(&o));
    // The lock file is the writer's: a read-only command never creates or
    // takes it (a store on a read-only mount has none to take).
    let lock = dir.join("LOCK");
    let _ = std::fs::remove_file(&lock);
    let o = bamdb(&["stats", "--store", d, "--read-only"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!lock.exists(), "a read-only command created the lock file");
}
