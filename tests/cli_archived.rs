//! `--archived` through the real binary: instances that retention moved
//! to the archive are left out of `get`, `search` and `agg` unless asked
//! for, `get` of an archived id says it is archived (not "no such id"),
//! and with `--archived` each command reads them beside the online ones.

mod cli_common;

use cli_common::{bamdb, code, deployed_store, no_panic, s, stderr, stdout};

fn order(id: &str, ts: &str, region: &str, end: bool) -> String {
    let mut out = format!(
        "{{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{ts}\"}}\n\
         {{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{ts}\",\
         \"data\":{{\"Region\":\"{region}\",\"Amount\":10}}}}\n"
    );
    if end {
        out.push_str(&format!(
            "{{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"{id}\",\"ts\":\"{ts}\"}}\n"
        ));
    }
    out
}

#[test]
fn archived_instances_are_read_only_when_asked_for() {
    let (_tmp, dir) = deployed_store();
    let d = s(&dir);
    let mut events = String::new();
    for i in 0..3 {
        events.push_str(&order(
            &format!("OLD-{i}"),
            "2020-01-01T00:00:00Z",
            "EU",
            true,
        ));
    }
    events.push_str(&order("NEW-1", "2026-11-01T00:00:00Z", "EU", true));
    events.push_str(&order("NEW-2", "2026-11-01T00:00:00Z", "US", false));
    let o = bamdb(&["ingest", "--store", d], &events);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bamdb(&["maintain", "--store", d, "--retain", "1000d"], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    let run = |args: &[&str]| {
        let o = bamdb(args, "");
        no_panic(&o);
        o
    };
    // get: archived is said so, and read with --archived.
    let o = run(&["get", "--store", d, "PurchaseOrder", "OLD-1"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("archived"), "{}", stderr(&o));
    let o = run(&["get", "--store", d, "PurchaseOrder", "OLD-1", "--archived"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("OLD-1"));
    let o = run(&["get", "--store", d, "PurchaseOrder", "NOPE", "--archived"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no PurchaseOrder"), "{}", stderr(&o));

    // search and --count: online only, or with the archive.
    let ids = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["search", "--store", d, "PurchaseOrder", "--order-by", "id"];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    assert_eq!(ids(&[]), ["NEW-1", "NEW-2"]);
    assert_eq!(
        ids(&["--archived"]),
        ["NEW-1", "NEW-2", "OLD-0", "OLD-1", "OLD-2"]
    );
    assert_eq!(
        ids(&[
            "--archived",
            "--where",
            "Region = EU",
            "--status",
            "completed"
        ]),
        ["NEW-1", "OLD-0", "OLD-1", "OLD-2"]
    );
    let o = run(&[
        "search",
        "--store",
        d,
        "PurchaseOrder",
        "--count",
        "--include-archived",
    ]);
    assert_eq!(stdout(&o).trim(), "5");

    // agg: counts per region with and without the archive.
    let counts = |extra: &[&str]| -> String {
        let mut args = vec![
            "agg",
            "--store",
            d,
            "PurchaseOrder",
            "--group-by",
            "Region",
            "--format",
            "csv",
            "--no-header",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(counts(&[]), "EU,1\nUS,1\n");
    assert_eq!(counts(&["--archived"]), "EU,4\nUS,1\n");
}
