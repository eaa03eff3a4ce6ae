//! The demo's own quarantine entry ("item Discount is not defined") says it
//! is replayable after a fix. Before, after deploying Discount, `quarantine
//! replay 1` answered `still_invalid ... already completed`, because other
//! frames had completed that instance meanwhile. A replayed frame now
//! amends the completed instance, as if it had been valid on arrival.

mod cli_common;

use cli_common::*;

#[test]
fn the_demo_quarantine_entry_replays_after_its_item_is_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = bamdb(&["demo", "--store", s(&store), "--activities", "300"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let list = bamdb(&["quarantine", "list", "--store", s(&store)], "");
    assert!(stdout(&list).contains("item Discount is not defined"));

    // The demo's PurchaseOrder definition, as deployed, with Discount added.
    let defs = bamdb(&["definitions", "--store", s(&store)], "");
    let defs: serde_json::Value = serde_json::from_str(&stdout(&defs)).unwrap();
    let mut po = defs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "PurchaseOrder")
        .unwrap()
        .clone();
    po["items"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "Discount", "type": "float"}));
    let def = dir.path().join("discount.json");
    std::fs::write(&def, po.to_string()).unwrap();
    let deployed = bamdb(&["deploy", "--store", s(&store), s(&def)], "");
    assert_eq!(code(&deployed), 0, "{}", stderr(&deployed));
    let replay = bamdb(&["quarantine", "replay", "--store", s(&store), "1"], "");
    assert_eq!(code(&replay), 0, "{}{}", stdout(&replay), stderr(&replay));
    assert!(
        stdout(&replay).contains("\"imported\""),
        "{}",
        stdout(&replay)
    );
    let po = bamdb(
        &["get", "--store", s(&store), "PurchaseOrder", "PO-000000"],
        "",
    );
    let po: serde_json::Value = serde_json::from_str(&stdout(&po)).unwrap();
    assert_eq!(po["status"], "completed");
    assert_eq!(po["items"]["Discount"], 0.1);
}
