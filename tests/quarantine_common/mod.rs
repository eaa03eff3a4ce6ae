//! Helpers of the quarantine lifecycle scenarios: stores with quarantine
//! entries, made through the real `bamdb` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bamdb::wal::{ReadItem, Wal};

use crate::cli_common::{bamdb, code, deployed_store, no_panic, s, stderr, stdout};

pub const INVOICE_DEF: &str = r#"{"name":"Invoice","items":[{"name":"Total","type":"float"}]}"#;

/// One flush group per invoice, for the activity `Invoice` (not deployed
/// by `deploy_defs`, so each group goes to quarantine).
pub fn invoice_groups(ids: &[&str]) -> String {
    let mut out = String::new();
    for id in ids {
        out.push_str(&format!(
            "{{\"op\":\"begin\",\"activity\":\"Invoice\",\"id\":\"{id}\"}}\n\
             {{\"op\":\"update\",\"activity\":\"Invoice\",\"id\":\"{id}\",\"data\":{{\"Total\":9.5}}}}\n\
             {{\"op\":\"end\",\"activity\":\"Invoice\",\"id\":\"{id}\"}}\n\
             {{\"op\":\"flush\"}}\n"
        ));
    }
    out
}

/// A store with PurchaseOrder deployed and one quarantine entry per
/// invoice id (Invoice is not deployed).
pub fn store_with_invoices(ids: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir), "-"], &invoice_groups(ids));
    no_panic(&o);
    assert_eq!(entries(&dir, false).len(), ids.len());
    (tmp, dir)
}

/// Deploys the Invoice definition.
pub fn deploy_invoice(dir: &Path) {
    let file = dir.with_extension("invoice.json");
    std::fs::write(&file, INVOICE_DEF).unwrap();
    let o = bamdb(&["deploy", "--store", s(dir), s(&file)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// `quarantine list [--unresolved]`, parsed.
pub fn entries(dir: &Path, unresolved: bool) -> Vec<serde_json::Value> {
    let mut args = vec!["quarantine", "list", "--store", s(dir)];
    if unresolved {
        args.push("--unresolved");
    }
    let o = bamdb(&args, "");
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// A closed store whose message box holds a damaged frame after the
/// applied LSN, followed by a good one (so it is damage, not a torn tail);
/// nothing has read it yet. Returns the damaged frame's LSN.
pub fn store_with_damaged_frame() -> (tempfile::TempDir, PathBuf, u64) {
    let (tmp, dir) = deployed_store();
    let options = bamdb::StoreOptions::default().wal;
    let wal = Wal::open(dir.join("wal"), options).unwrap();
    // Copies of the deploy frame: harmless to apply again.
    let payload = match wal.reader(1).next().unwrap().unwrap() {
        ReadItem::Frame(f) => f.payload,
        other => panic!("{other:?}"),
    };
    let victim = wal.append(&payload).unwrap();
    wal.append(&payload).unwrap();
    let location = match wal.reader(victim).next().unwrap().unwrap() {
        ReadItem::Frame(f) => f.location,
        other => panic!("{other:?}"),
    };
    drop(wal);
    let mut bytes = std::fs::read(&location.segment).unwrap();
    // Inside the payload, past the 24-byte frame header.
    bytes[location.offset as usize + 24 + 3] ^= 0x5a;
    std::fs::write(&location.segment, bytes).unwrap();
    (tmp, dir, victim)
}

/// Opens the store (`bamdb stats`) so the bus reads the message box and
/// sets the damaged region aside.
pub fn import(dir: &Path) -> serde_json::Value {
    let o = bamdb(&["stats", "--store", s(dir)], "");
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("stats is JSON")
}
