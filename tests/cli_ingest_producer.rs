//! Regression (issue 12, item 6): each `bamdb ingest` process got its own
//! producer id, so between two runs that set an item at the same timestamp
//! the winner depended on the run. `--producer ID` now fixes the id written
//! in every frame: the greater id wins a tie, whatever order the runs
//! happen in.

mod cli_common;

use cli_common::*;

const TS: &str = "2026-11-22T10:00:00Z";

fn set_region(dir: &std::path::Path, producer: &str, region: &str) {
    let input = format!(
        "{{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"ts\":\"{TS}\",\"data\":{{\"Region\":\"{region}\"}}}}\n"
    );
    let o = bamdb(
        &["ingest", "--store", s(dir), "--producer", producer],
        &input,
    );
    no_panic(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

fn region(dir: &std::path::Path) -> String {
    let g = bamdb(&["get", "--store", s(dir), "PurchaseOrder", "PO-1"], "");
    assert_eq!(code(&g), 0, "{}", stderr(&g));
    let v: serde_json::Value = serde_json::from_str(&stdout(&g)).unwrap();
    v["items"]["Region"].as_str().unwrap().to_string()
}

#[test]
fn equal_timestamps_break_by_producer_whatever_the_run_order() {
    let tmp = tempfile::tempdir().unwrap();
    let begin = "{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-1\",\"ts\":\"2026-11-22T09:00:00Z\"}\n";
    let mut winners = Vec::new();
    for (name, order) in [
        ("a", [("7", "SEVEN"), ("3", "THREE")]),
        ("b", [("3", "THREE"), ("7", "SEVEN")]),
    ] {
        let dir = tmp.path().join(name);
        deploy_defs(&dir);
        let o = bamdb(&["ingest", "--store", s(&dir)], begin);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        for (producer, value) in order {
            set_region(&dir, producer, value);
        }
        winners.push(region(&dir));
    }
    assert_eq!(winners, vec!["SEVEN", "SEVEN"]);
}

#[test]
fn producer_must_be_a_u32() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let o = bamdb(
        &["ingest", "--store", s(&dir), "--producer", "4294967296"],
        "",
    );
    no_panic(&o);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--producer"), "{}", stderr(&o));
}
