//! Regression: table output (`search`, `agg` and `search --status pending`
//! with `--format table`) printed ids and values as they are, so a
//! producer's id or value holding a terminal escape sequence (ESC [ 31 m)
//! recoloured, moved or retitled the operator's terminal, and a newline
//! faked a table row. Cells are now escaped (`\u{1b}`, `\n`).

mod cli_common;

use cli_common::*;

/// An id with ESC, a newline and a right-to-left override; a customer that
/// would set the terminal's title.
const EVENTS: &str = r#"{"op":"begin","activity":"PurchaseOrder","id":"PO-\u001b[31mRED\nFAKE ROW"}
{"op":"update","activity":"PurchaseOrder","id":"PO-\u001b[31mRED\nFAKE ROW","data":{"Customer":"\u001b]0;owned\u0007Contoso","Region":"E\u202eU","Amount":5}}
{"op":"update","activity":"PurchaseOrder","id":"GHOST-\u001b[2J","data":{"Customer":"tab\there"}}
"#;

fn table(args: &[&str]) -> String {
    let o = bamdb(args, "");
    no_panic(&o);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}'), "{args:?}: raw ESC in\n{out}");
    assert!(!out.contains('\u{7}'), "{args:?}: raw BEL");
    assert!(!out.contains('\t'), "{args:?}: raw tab");
    assert!(!out.contains('\u{202e}'), "{args:?}: raw RLO");
    out
}

#[test]
fn control_characters_in_ids_and_values_are_escaped_in_tables() {
    let (_tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], EVENTS);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let d = s(&dir);

    let out = table(&[
        "search",
        "--store",
        d,
        "PurchaseOrder",
        "--columns",
        "id,Customer,Region",
        "--format",
        "table",
    ]);
    assert_eq!(
        out.lines().count(),
        4,
        "header, rule, one row, count:\n{out}"
    );
    assert!(out.contains(r"PO-\u{1b}[31mRED\nFAKE ROW"), "{out}");
    assert!(out.contains(r"\u{1b}]0;owned\u{7}Contoso"), "{out}");
    assert!(out.contains(r"E\u{202e}U"), "{out}");

    let out = table(&[
        "agg",
        "--store",
        d,
        "PurchaseOrder",
        "--group-by",
        "Customer",
        "--format",
        "table",
    ]);
    assert!(out.contains(r"\u{1b}]0;owned\u{7}Contoso"), "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");

    let out = table(&[
        "search",
        "--store",
        d,
        "PurchaseOrder",
        "--status",
        "pending",
        "--format",
        "table",
    ]);
    assert!(out.contains(r"GHOST-\u{1b}[2J"), "{out}");
    assert!(out.contains(r"tab\there"), "{out}");

    // JSON output carries the exact values (JSON escapes them itself).
    let o = bamdb(&["search", "--store", d, "PurchaseOrder"], "");
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["id"], "PO-\u{1b}[31mRED\nFAKE ROW");
}
