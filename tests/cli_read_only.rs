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
