//! Regression (issue 12, item 3): `bamdb ingest ... | head -1` stopped
//! silently (exit 2, nothing on stderr) when its receipts could no longer be
//! printed, leaving the user not knowing what was committed. Now ingest
//! stops after that commit and names on stderr its LSN and the last input
//! line committed; no panic.

mod cli_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

use cli_common::*;

#[test]
fn closed_stdout_stops_and_names_the_last_committed_lsn() {
    let (_tmp, dir) = deployed_store();
    let mut child = spawn(&["ingest", "--store", s(&dir)], Stdio::piped());
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());

    // Group 1 (lines 1-4): its receipt is read, like `head -1` does.
    input
        .write_all(format!("{}{{\"op\":\"flush\"}}\n", po_lines(0..1)).as_bytes())
        .unwrap();
    input.flush().unwrap();
    let mut first = String::new();
    output.read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"committed\":"), "{first}");
    drop(output); // the reader goes away

    // Group 2 (lines 5-8) is committed; its receipt cannot be printed, so
    // ingest stops there: group 3 (lines 9-12) is never read.
    let rest = format!(
        "{}{{\"op\":\"flush\"}}\n{}{{\"op\":\"flush\"}}\n",
        po_lines(1..2),
        po_lines(2..3)
    );
    let _ = input.write_all(rest.as_bytes()); // may fail once ingest stopped
    drop(input);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();

    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(status.code(), Some(1), "{err}");
    let st = bamdb(&["stats", "--store", s(&dir)], "");
    let stats: serde_json::Value = serde_json::from_str(&stdout(&st)).unwrap();
    let last = stats["committed_lsn"].as_u64().unwrap();
    assert!(err.contains("standard output was closed"), "{err}");
    assert!(
        err.contains(&format!(
            "the last committed LSN is {last} (input up to line 8)"
        )),
        "{err}"
    );
    assert!(err.contains("summary: 2 groups committed"), "{err}");
    let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-1"], "");
    assert_eq!(code(&g), 0, "group 2 was committed");
    let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-2"], "");
    assert_eq!(code(&g), 1, "group 3 was not read");
}
