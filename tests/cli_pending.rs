//! Pending records (events for ids that were never begun and are not
//! linked to a begun instance yet) could only be counted (`stats`), never
//! seen: `get` and `search` do not show them. `bamdb search ACTIVITY
//! --status pending` lists them, from `Store::pending`.

mod cli_common;

use std::path::Path;

use cli_common::*;

const EVENTS: &str = r#"{"op":"begin","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-01T10:00:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"SHIP-9","ts":"2026-11-01T11:00:00Z","data":{"Region":"EU"}}
{"op":"end","activity":"PurchaseOrder","id":"SHIP-9","ts":"2026-11-01T12:00:00Z"}
{"op":"continue","activity":"PurchaseOrder","id":"R-1","token":"T-1","ts":"2026-11-02T09:00:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"R-1","ts":"2026-11-02T09:00:00Z","data":{"Customer":"Contoso","Amount":10}}
{"op":"update","activity":"PurchaseOrder","id":"T-1","ts":"2026-11-02T10:00:00Z","data":{"Amount":12.5}}
"#;

fn pending(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "search",
        "--store",
        s(dir),
        "PurchaseOrder",
        "--status",
        "pending",
    ];
    args.extend_from_slice(extra);
    let o = bamdb(&args, "");
    no_panic(&o);
    (code(&o), stdout(&o), stderr(&o))
}

fn lines(out: &str) -> Vec<serde_json::Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn search_status_pending_lists_what_waits_for_a_begin_or_a_link() {
    let (_tmp, dir) = deployed_store();
    let o = bamdb(&["ingest", "--store", s(&dir)], EVENTS);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let (c, out, err) = pending(&dir, &[]);
    assert_eq!(c, 0, "{err}");
    let rows = lines(&out);
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        rows[0],
        serde_json::json!({
            "activity": "PurchaseOrder",
            "id": "R-1",
            "ids": ["R-1", "T-1"],
            "items": {"Customer": "Contoso", "Amount": 12.5},
            "ended": false,
            "last_modified": "2026-11-02T10:00:00.000000Z"
        })
    );
    assert_eq!(rows[1]["id"], "SHIP-9");
    assert_eq!(rows[1]["ids"], serde_json::json!(["SHIP-9"]));
    assert_eq!(rows[1]["items"], serde_json::json!({"Region": "EU"}));
    assert_eq!(rows[1]["ended"], true);

    // Not instances: get and the default search do not see them.
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "SHIP-9"], "");
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("--status pending"), "{}", stderr(&o));
    let o = bamdb(&["search", "--store", s(&dir), "PurchaseOrder"], "");
    assert_eq!(lines(&stdout(&o)).len(), 1, "only PO-1");

    // --limit, --since/--until on last_modified, the table.
    assert_eq!(lines(&pending(&dir, &["--limit", "1"]).1).len(), 1);
    let (_, out, _) = pending(&dir, &["--since", "2026-11-02T00:00:00Z"]);
    assert_eq!(lines(&out).len(), 1);
    assert!(out.contains("R-1"));
    let (_, out, _) = pending(&dir, &["--until", "2026-11-02T00:00:00Z"]);
    assert_eq!(lines(&out).len(), 1);
    assert!(out.contains("SHIP-9"));
    let (c, out, _) = pending(&dir, &["--format", "table"]);
    assert_eq!(c, 0);
    assert_eq!(
        out,
        "id      ids      ended  last_modified                Customer  Amount  Region
------  -------  -----  ---------------------------  --------  ------  ------
R-1     R-1,T-1  false  2026-11-02T10:00:00.000000Z  Contoso     12.5
SHIP-9  SHIP-9   true   2026-11-01T12:00:00.000000Z                    EU
(2 pending records)
"
    );

    // Conditions on items do not apply to pending records: a usage error.
    let (c, _, err) = pending(&dir, &["--where", "Amount > 1"]);
    assert_eq!(c, 2);
    assert!(err.contains("--status pending"), "{err}");
    // An activity that is not deployed: 2, as any search.
    let o = bamdb(
        &[
            "search",
            "--store",
            s(&dir),
            "Nothing",
            "--status",
            "pending",
        ],
        "",
    );
    assert_eq!(code(&o), 2);

    // Begun: R-1 becomes an instance and leaves the list.
    let o = bamdb(
        &["ingest", "--store", s(&dir)],
        "{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"R-1\"}\n",
    );
    assert_eq!(code(&o), 0);
    let rows = lines(&pending(&dir, &[]).1);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "SHIP-9");
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "T-1"], "");
    assert_eq!(code(&o), 0, "visible through its token now");

    // An operator removes the one that will never be begun.
    let o = bamdb(
        &[
            "maintain",
            "--store",
            s(&dir),
            "--remove",
            "PurchaseOrder",
            "SHIP-9",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(pending(&dir, &[]).1, "");
}
