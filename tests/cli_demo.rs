//! `bamdb demo` with a small N finishes and prints every section.

mod cli_common;

use cli_common::*;

#[test]
fn small_demo_prints_every_section() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let o = bamdb(&["demo", "--activities", "200", "--store", s(&dir)], "");
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for needle in [
        "== ingest",
        "events/s",
        "commits/s",
        "import lag",
        "caught up",
        "active ",
        "completed ",
        "pending 3",
        "== quarantine",
        "item Discount is not defined",
        "activity Invoice is not deployed",
        "not found, as it should be",
        "\"continuations\"",
        "SHIP-PO-000000",
        "billing.example.com/invoices",
        "Shipment",
        "avg:Amount",
        "avg:duration(Received,Shipped)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // The store stays usable by the other commands.
    let g = bamdb(
        &["get", "--store", s(&dir), "PurchaseOrder", "PO-000000"],
        "",
    );
    assert_eq!(code(&g), 0, "{}", stderr(&g));
    let v: serde_json::Value = serde_json::from_str(&stdout(&g)).unwrap();
    assert_eq!(v["items"]["Status"], "Invoiced");
    // A second run on the same store gets ids of its own.
    let o = bamdb(&["demo", "--activities", "100", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
}
