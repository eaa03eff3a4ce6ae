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

    let def = dir.path().join("discount.json");
    std::fs::write(
        &def,
        r#"{"name":"PurchaseOrder","items":[
  {"name":"PO_Number","type":"text","max_len":32},
  {"name":"Customer","type":"text","max_len":64},
  {"name":"Region","type":"text","max_len":16},
  {"name":"Amount","type":"float"},
  {"name":"Quantity","type":"int"},
  {"name":"Status","type":"text","max_len":16},
  {"name":"Received","type":"timestamp"},
  {"name":"Shipped","type":"timestamp"},
  {"name":"Discount","type":"float"}]}"#,
    )
    .unwrap();
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
