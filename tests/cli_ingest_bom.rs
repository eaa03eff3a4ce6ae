//! Regression (issue 12, item 1): input starting with a UTF-8 byte order
//! mark (as some Windows tools write it) failed its first line as bad JSON.
//! The mark is now skipped at the start of input (and only there).

mod cli_common;

use cli_common::*;

#[test]
fn byte_order_mark_at_the_start_is_accepted() {
    let (_tmp, dir) = deployed_store();
    let input = format!("\u{FEFF}{}", po_lines(0..1));
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        receipts(&o).iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![3]
    );
    let g = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-0"], "");
    assert_eq!(code(&g), 0, "{}", stderr(&g));
}

#[test]
fn byte_order_mark_later_is_a_bad_line() {
    let (_tmp, dir) = deployed_store();
    let input = format!("{}\u{FEFF}{}", po_lines(0..1), po_lines(1..2));
    let o = bamdb(&["ingest", "--store", s(&dir)], &input);
    no_panic(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("line 4:"), "{}", stderr(&o));
}
