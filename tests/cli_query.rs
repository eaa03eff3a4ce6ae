//! `bamdb search`, `bamdb agg` and `bamdb maintain` through the real
//! binary: every filter form of the docs, status, limit, columns, table
//! output, bad expressions, and an aggregation with group-by, bucket and a
//! duration measure whose numbers are checked.

mod cli_common;

use std::path::Path;
use std::process::Output;

use cli_common::{bamdb, code, no_panic, s, stderr, stdout};
use serde_json::Value as J;

/// The PurchaseOrder items these queries use, in the order deployed.
fn defs() -> String {
    use bamdb::fixture::Item::*;
    bamdb::fixture::definitions_json(&[Customer, Region, Status, Amount, Received, Shipped])
}

/// PO-1 completed (EU, 700, shipped after 2 h, ended 2026-11-02),
/// PO-2 completed (US, 300, shipped after 4 h, ended 2026-10-31),
/// PO-3 active (EU, 900.5, no customer, no status, not shipped),
/// PO-4 active (EU, 100, Condor, shipped after 6 h).
const EVENTS: &str = r#"{"op":"begin","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-01T10:05:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-01T10:05:00Z","data":{"Customer":"Contoso","Region":"EU","Amount":700,"Status":"Shipped","Received":"2026-11-01T10:05:00Z","Shipped":"2026-11-01T12:05:00Z"}}
{"op":"end","activity":"PurchaseOrder","id":"PO-1","ts":"2026-11-02T00:00:00Z"}
{"op":"begin","activity":"PurchaseOrder","id":"PO-2","ts":"2026-10-31T10:30:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"PO-2","ts":"2026-10-31T10:30:00Z","data":{"Customer":"Fabrikam","Region":"US","Amount":300,"Status":"Shipped","Received":"2026-10-31T10:30:00Z","Shipped":"2026-10-31T14:30:00Z"}}
{"op":"end","activity":"PurchaseOrder","id":"PO-2","ts":"2026-10-31T20:00:00Z"}
{"op":"begin","activity":"PurchaseOrder","id":"PO-3","ts":"2026-11-01T11:10:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"PO-3","ts":"2026-11-01T11:10:00Z","data":{"Region":"EU","Amount":900.5,"Received":"2026-11-01T11:10:00Z"}}
{"op":"begin","activity":"PurchaseOrder","id":"PO-4","ts":"2026-11-01T10:45:00Z"}
{"op":"update","activity":"PurchaseOrder","id":"PO-4","ts":"2026-11-01T10:45:00Z","data":{"Customer":"Condor","Region":"EU","Amount":100,"Status":"Received","Received":"2026-11-01T10:45:00Z","Shipped":"2026-11-01T16:45:00Z"}}
"#;

fn store() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let defs = tmp.path().join("defs.json");
    std::fs::write(&defs, self::defs()).unwrap();
    let o = bamdb(&["deploy", "--store", s(&dir), s(&defs)], "");
    assert_eq!(code(&o), 0, "deploy: {}", stderr(&o));
    let o = bamdb(&["ingest", "--store", s(&dir)], EVENTS);
    assert_eq!(code(&o), 0, "ingest: {}", stderr(&o));
    (tmp, dir)
}

/// Runs `bamdb COMMAND --store DIR PurchaseOrder EXTRA...`.
fn on_orders(dir: &Path, command: &str, extra: &[&str]) -> Output {
    let mut args = vec![command, "--store", s(dir), "PurchaseOrder"];
    args.extend_from_slice(extra);
    let o = bamdb(&args, "");
    no_panic(&o);
    o
}

/// Runs `search` with extra args; returns the rows (JSON lines).
fn search(dir: &Path, extra: &[&str]) -> Vec<J> {
    let o = on_orders(dir, "search", extra);
    assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect()
}

fn ids(rows: &[J]) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_documented_filter_form_works() {
    let (_tmp, dir) = store();
    for (expr, want) in [
        ("Amount>500", vec!["PO-1", "PO-3"]),
        ("Amount > 500", vec!["PO-1", "PO-3"]),
        ("Region = EU", vec!["PO-1", "PO-3", "PO-4"]),
        ("Region=EU", vec!["PO-1", "PO-3", "PO-4"]),
        ("Region != EU", vec!["PO-2"]),
        ("Status is empty", vec!["PO-3"]),
        ("Customer is not empty", vec!["PO-1", "PO-2", "PO-4"]),
        ("Customer starts with Con", vec!["PO-1", "PO-4"]),
        ("end >= 2026-11-01T00:00:00Z", vec!["PO-1"]),
        ("Shipped < 2026-11-01T13:00:00Z", vec!["PO-1", "PO-2"]),
    ] {
        assert_eq!(ids(&search(&dir, &["--where", expr])), want, "{expr}");
    }
    // Several --where: all must hold.
    let rows = search(
        &dir,
        &[
            "--where",
            "Region = EU",
            "--where",
            "Customer starts with Con",
        ],
    );
    assert_eq!(ids(&rows), ["PO-1", "PO-4"]);
    // A row carries the system fields and the items.
    let po1 = search(&dir, &["--where", "id = PO-1"]);
    assert_eq!(po1[0]["status"], "completed");
    assert_eq!(po1[0]["Amount"], 700.0);
    assert_eq!(po1[0]["end"], "2026-11-02T00:00:00.000000Z");
}

#[test]
fn status_limit_columns_and_time_range() {
    let (_tmp, dir) = store();
    assert_eq!(
        ids(&search(&dir, &["--status", "active"])),
        ["PO-3", "PO-4"]
    );
    assert_eq!(
        ids(&search(&dir, &["--status", "completed"])),
        ["PO-1", "PO-2"]
    );
    assert_eq!(search(&dir, &["--status", "all"]).len(), 4);
    // Stable order: by end time (active last), then id.
    let rows = search(&dir, &["--limit", "2"]);
    let order: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(order, ["PO-2", "PO-1"]);
    // Only the chosen columns, in order.
    let rows = search(&dir, &["--columns", "id,Amount", "--where", "id = PO-2"]);
    let obj = rows[0].as_object().unwrap();
    assert_eq!(obj.keys().collect::<Vec<_>>(), ["id", "Amount"]);
    assert_eq!(rows[0]["Amount"], 300.0);
    // last_modified range: [since, until).
    let rows = search(
        &dir,
        &[
            "--since",
            "2026-11-01T00:00:00Z",
            "--until",
            "2026-11-01T11:00:00Z",
        ],
    );
    assert_eq!(ids(&rows), ["PO-4"]);
}

#[test]
fn table_format_is_aligned() {
    let (_tmp, dir) = store();
    let o = on_orders(
        &dir,
        "search",
        &["--columns", "id,Customer,Amount", "--format", "table"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("id  "), "{out}");
    assert!(lines[0].contains("Customer") && lines[0].contains("Amount"));
    assert!(lines[1].starts_with("----"), "{out}");
    assert_eq!(lines.len(), 2 + 4 + 1, "{out}");
    assert_eq!(lines[6], "(4 rows)");
    // Numbers are right-aligned: every row's Amount ends in the same column.
    let width = lines[0].len();
    for row in &lines[2..6] {
        assert_eq!(row.len(), width, "{out}");
    }
    assert!(out.contains("Fabrikam"));
}

#[test]
fn bad_expressions_are_one_clear_line_and_exit_2() {
    let (_tmp, dir) = store();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["search", "--where", "Amount ~ 5"], "Amount ~ 5"),
        (vec!["search", "--where", "Amont > 5"], "Amont"),
        (vec!["search", "--where", "Amount > lots"], "lots"),
        (vec!["search", "--where", "Amount >"], "operand"),
        (vec!["search", "--columns", "id,Nope"], "Nope"),
        (vec!["search", "--since", "yesterday"], "yesterday"),
        (vec!["agg", "--measure", "mode:Amount"], "mode:Amount"),
        (vec!["agg", "--measure", "p95:Region"], "Region"),
        (vec!["agg", "--measure", "avg:Region"], "Region"),
        (
            vec!["agg", "--measure", "avg:duration(Received"],
            "duration",
        ),
        (vec!["agg", "--group-by", "Regio"], "Regio"),
        (vec!["agg", "--bucket", "fortnight:Received"], "fortnight"),
        (vec!["agg", "--bucket", "hour:Customer"], "Customer"),
        (vec!["agg", "--where", "Region ="], "Region ="),
    ];
    for (args, needle) in cases {
        let o = on_orders(&dir, args[0], &args[1..]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    // An activity that is not deployed.
    let o = bamdb(&["search", "--store", s(&dir), "Invoice"], "");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("Invoice"), "{}", stderr(&o));
    // A missing store.
    let o = bamdb(
        &["agg", "--store", s(&dir.join("nowhere")), "PurchaseOrder"],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 2);
}

#[test]
fn agg_groups_buckets_and_durations() {
    let (_tmp, dir) = store();
    let o = on_orders(
        &dir,
        "agg",
        &[
            "--group-by",
            "Region",
            "--bucket",
            "hour:Received",
            "--measure",
            "count",
            "--measure",
            "sum:Amount",
            "--measure",
            "avg:duration(Received,Shipped)",
            "--format",
            "json",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: J = serde_json::from_str(stdout(&o).trim()).expect("one JSON document");
    assert_eq!(
        v["columns"],
        serde_json::json!([
            "Region",
            "hour(Received)",
            "count",
            "sum:Amount",
            "avg:duration(Received,Shipped)"
        ])
    );
    let hour = 3_600_000_000i64;
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{v}");
    // EU 10:00: PO-1 (2 h) and PO-4 (6 h).
    assert_eq!(rows[0][0], "EU");
    assert_eq!(rows[0][1], "2026-11-01T10:00:00.000000Z");
    assert_eq!(rows[0][2], 2);
    assert_eq!(rows[0][3].as_f64(), Some(800.0));
    assert_eq!(rows[0][4].as_i64(), Some(4 * hour));
    // EU 11:00: PO-3, not shipped: no duration (null, not zero).
    assert_eq!(rows[1][1], "2026-11-01T11:00:00.000000Z");
    assert_eq!(rows[1][2], 1);
    assert_eq!(rows[1][3].as_f64(), Some(900.5));
    assert!(rows[1][4].is_null(), "{v}");
    // US, the day before.
    assert_eq!(rows[2][0], "US");
    assert_eq!(rows[2][1], "2026-10-31T10:00:00.000000Z");
    assert_eq!(rows[2][4].as_i64(), Some(4 * hour));

    // The default is a table for people; --where and --status apply.
    let o = on_orders(
        &dir,
        "agg",
        &[
            "--group-by",
            "Region",
            "--measure",
            "count",
            "--measure",
            "max:Amount",
            "--status",
            "active",
            "--where",
            "Amount > 50",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("Region") && lines[0].contains("max:Amount"));
    assert!(lines[2].starts_with("EU"), "{out}");
    assert!(
        lines[2].contains(" 2 ") && lines[2].ends_with("900.50"),
        "{out}"
    );
}

#[test]
fn maintain_lists_dangling_active_instances() {
    let (_tmp, dir) = store();
    // Both active orders were last modified in 2026-11-01 (event time).
    let o = bamdb(
        &[
            "maintain",
            "--store",
            s(&dir),
            "--dangling-older-than",
            "0s",
        ],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ids: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            let v: J = serde_json::from_str(l).unwrap();
            assert_eq!(v["activity"], "PurchaseOrder");
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids, ["PO-4", "PO-3"], "oldest first");
    let o = bamdb(
        &[
            "maintain",
            "--store",
            s(&dir),
            "--dangling-older-than",
            "5x",
        ],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("5x"));
    let o = bamdb(&["maintain", "--help"], "");
    assert!(stdout(&o).contains("--complete"));
    // Complete one, remove the other, and a refused action exits 1.
    let o = bamdb(
        &[
            "maintain",
            "--store",
            s(&dir),
            "--complete",
            "PurchaseOrder",
            "PO-4",
            "--remove",
            "PurchaseOrder",
            "PO-3",
            "--remove",
            "PurchaseOrder",
            "PO-404",
            "--dangling-older-than",
            "0s",
        ],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let actions: Vec<J> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        actions.len(),
        3,
        "no dangling instance is left to list: {actions:?}"
    );
    assert_eq!(
        (
            actions[0]["ok"].as_bool(),
            actions[1]["ok"].as_bool(),
            actions[2]["ok"].as_bool()
        ),
        (Some(true), Some(true), Some(false))
    );
    assert!(actions[2]["reason"].as_str().unwrap().contains("PO-404"));
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-4"], "");
    assert!(stdout(&o).contains("\"completed\""), "{}", stdout(&o));
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-3"], "");
    assert_eq!(code(&o), 1);
    // Retention: PO-4 was completed just now (its end is now), so a
    // one-day window keeps it; a zero window archives it.
    let o = bamdb(&["maintain", "--store", s(&dir), "--retain", "1d"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"retained\""));
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-4"], "");
    assert_eq!(code(&o), 0, "kept online");
    let o = bamdb(&["maintain", "--store", s(&dir), "--retain", "0s"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bamdb(&["get", "--store", s(&dir), "PurchaseOrder", "PO-4"], "");
    assert_eq!(code(&o), 1, "archived, no longer online");
    let o = bamdb(&["maintain", "--store", s(&dir), "--retain", "soon"], "");
    assert_eq!(code(&o), 2);
}

/// Percentiles, a zone, having, order and limit through the command line.
#[test]
fn agg_percentiles_zones_having_order_and_limit() {
    let (_tmp, dir) = store();
    let json = |extra: &[&str]| -> J {
        let mut args = extra.to_vec();
        args.extend_from_slice(&["--format", "json"]);
        let o = on_orders(&dir, "agg", &args);
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
        serde_json::from_str(stdout(&o).trim()).expect("one JSON document")
    };
    let hour = 3_600_000_000i64;
    // EU durations 2 h and 6 h (PO-3 not shipped): p95 at 2 + 4 * 0.95 h.
    let v = json(&[
        "--group-by",
        "Region",
        "--measure",
        "p95:duration(Received,Shipped)",
        "--measure",
        "median:Amount",
        "--measure",
        "count_distinct:Customer",
    ]);
    assert_eq!(v["rows"][0][0], "EU");
    assert_eq!(v["rows"][0][1].as_i64(), Some(2 * hour + 38 * hour / 10));
    assert_eq!(v["rows"][0][2].as_f64(), Some(700.0));
    assert_eq!(v["rows"][0][3].as_i64(), Some(2));
    // Days in Los Angeles (UTC-7 on Oct 31, UTC-8 from Nov 1 09:00Z):
    // every order is on Oct 31 or Nov 1 local, printed with its offset.
    let v = json(&["--bucket", "day:Received", "--tz", "America/Los_Angeles"]);
    assert_eq!(v["rows"][0][0], "2026-10-31T00:00:00.000000-07:00", "{v}");
    assert_eq!(v["rows"][0][1], 1);
    assert_eq!(v["rows"][1][0], "2026-11-01T00:00:00.000000-07:00", "{v}");
    assert_eq!(v["rows"][1][1], 3);
    let v = json(&["--bucket", "month:Received", "--tz", "+05:30"]);
    assert_eq!(v["rows"][0][0], "2026-10-01T00:00:00.000000+05:30", "{v}");
    assert_eq!(v["rows"][1][0], "2026-11-01T00:00:00.000000+05:30", "{v}");
    // Having on a backticked measure, order descending, limit.
    let v = json(&[
        "--group-by",
        "Customer",
        "--measure",
        "count",
        "--measure",
        "sum:Amount",
        "--having",
        "`sum:Amount` >= 300",
        "--order-by",
        "sum:Amount desc",
        "--limit",
        "2",
    ]);
    // PO-3 has no customer: its group (null key) has the largest sum.
    assert_eq!(
        v["rows"],
        serde_json::json!([[null, 1, 900.5], ["Contoso", 1, 700.0]])
    );
    // Bad zone and unknown having column: one clear line, exit 2.
    for (args, needle) in [
        (vec!["--tz", "Mars/Base"], "Mars/Base"),
        (vec!["--having", "`sum:Price` > 1"], "sum:Price"),
        (vec!["--order-by", "Amount desc"], "Amount"),
    ] {
        let o = on_orders(&dir, "agg", &args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

#[test]
fn agg_help_documents_the_new_measures_buckets_and_options() {
    let o = bamdb(&["agg", "--help"], "");
    assert_eq!(code(&o), 0);
    let help = stdout(&o);
    for needle in [
        "count_distinct:FIELD",
        "median:ITEM",
        "p95:duration(A,B)",
        "quantile_cont",
        "month, quarter or year",
        "--tz <ZONE>",
        "Europe/Paris",
        "+05:30",
        "--having <EXPR>",
        "`sum:Amount` > 1000",
        "--order-by <COLUMN [asc|desc]>",
        "--limit <N>",
        "(\\n, \\u{1b})",
    ] {
        assert!(
            help.contains(needle),
            "agg --help mentions {needle}:\n{help}"
        );
    }
}
