//! Helpers of the export tests: a small store with continuations,
//! relationships, every item type, an unset item and the empty text, and
//! `bamdb search --format json` of it as the oracle.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value as J;

#[path = "../cli_common/mod.rs"]
mod cli_common;
pub use cli_common::{bamdb, code, no_panic, s, stderr, stdout};

/// A store with tests/data/export-defs.json deployed and
/// tests/data/export-events.jsonl ingested: PO-1 completed (a
/// continuation SHIP-1 that set Paid and Shipped, related to PO-2 and to
/// Shipment SH-9; a Customer with a comma, quotes and XML specials), PO-2
/// active (Customer the empty text, Paid, the rest unset).
pub fn store() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let dir = tmp.path().join("store");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let defs = data.join("export-defs.json");
    let o = bamdb(&["deploy", "--store", s(&dir), s(&defs)], "");
    assert_eq!(code(&o), 0, "deploy: {}", stderr(&o));
    let events = data.join("export-events.jsonl");
    let o = bamdb(&["ingest", "--store", s(&dir), s(&events)], "");
    assert_eq!(code(&o), 0, "ingest: {}", stderr(&o));
    (tmp, dir)
}

/// `bamdb search --format json` of PurchaseOrder with `extra` flags.
pub fn search_json(dir: &Path, extra: &[&str]) -> Vec<J> {
    let mut args = vec![
        "search",
        "--store",
        s(dir),
        "PurchaseOrder",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = bamdb(&args, "");
    assert_eq!(code(&o), 0, "search: {}", stderr(&o));
    match serde_json::from_str(&stdout(&o)).expect("search prints JSON") {
        J::Array(rows) => rows,
        other => panic!("not an array: {other}"),
    }
}

/// Runs `bamdb export --store DIR PurchaseOrder --format FORMAT -o OUT EXTRA...`.
pub fn export(dir: &Path, format: &str, out: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "export",
        "--store",
        s(dir),
        "PurchaseOrder",
        "--format",
        format,
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    let o = bamdb(&args, "");
    no_panic(&o);
    o
}

/// The item names of the definition, in order.
pub const ITEMS: [&str; 6] = ["Customer", "Region", "Amount", "Qty", "Paid", "Shipped"];

/// The exported columns.
pub fn columns() -> Vec<&'static str> {
    let mut c = vec!["id", "status", "begin", "end", "last_modified"];
    c.extend(ITEMS);
    c
}

/// tests/data/export-defs.json.
pub fn defs_json() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/export-defs.json");
    std::fs::read_to_string(path).expect("tests/data/export-defs.json")
}
