//! `bamdb definitions`: the deployed activities and their items, as JSON
//! (the form `deploy` reads, so it copies definitions to another store)
//! and as a table. New command (issue 12: a user could not see what was
//! deployed).

mod cli_common;

use cli_common::*;

#[test]
fn json_and_table_show_every_activity_and_item() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    // Nothing deployed yet: an empty array.
    let o = bamdb(&["ingest", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = bamdb(&["definitions", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap(),
        serde_json::json!([])
    );

    deploy_defs(&dir);
    let shipment = tmp.path().join("shipment.json");
    std::fs::write(
        &shipment,
        r#"{"name":"Shipment","items":[{"name":"Shipped","type":"timestamp"},{"name":"Express","type":"bool"},{"name":"Parcels","type":"int"}]}"#,
    )
    .unwrap();
    assert_eq!(
        code(&bamdb(&["deploy", "--store", s(&dir), s(&shipment)], "")),
        0
    );

    let o = bamdb(&["definitions", "--store", s(&dir)], "");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"name":"PurchaseOrder","items":[
                {"name":"Customer","type":"text","max_len":64},
                {"name":"Region","type":"text","max_len":16},
                {"name":"Amount","type":"float"}]},
            {"name":"Shipment","items":[
                {"name":"Shipped","type":"timestamp"},
                {"name":"Express","type":"bool"},
                {"name":"Parcels","type":"int"}]}
        ])
    );

    // The JSON deploys as it is into another store.
    let copy = tmp.path().join("copy.json");
    std::fs::write(&copy, stdout(&o)).unwrap();
    let other = tmp.path().join("other");
    let o2 = bamdb(&["deploy", "--store", s(&other), s(&copy)], "");
    assert_eq!(code(&o2), 0, "{}", stderr(&o2));
    let o3 = bamdb(&["definitions", "--store", s(&other)], "");
    assert_eq!(stdout(&o3), stdout(&o));

    let o = bamdb(
        &["definitions", "--store", s(&dir), "--format", "table"],
        "",
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "activity       item      type       max_len
-------------  --------  ---------  -------
PurchaseOrder  Customer  text            64
PurchaseOrder  Region    text            16
PurchaseOrder  Amount    float
Shipment       Shipped   timestamp
Shipment       Express   bool
Shipment       Parcels   int
(2 activities, 6 items)
"
    );
}
