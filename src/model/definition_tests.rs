//! Tests of activity definitions: JSON form, validation rules, upgrades.

use super::*;

const EXAMPLE: &str = r#"{"name":"PurchaseOrder","items":[{"name":"Customer","type":"text","max_len":64},{"name":"Amount","type":"float"},{"name":"Quantity","type":"int"},{"name":"Received","type":"timestamp"},{"name":"Paid","type":"bool"}]}"#;

fn example() -> ActivityDefinition {
    serde_json::from_str(EXAMPLE).unwrap()
}

fn item(name: &str, ty: ItemType) -> ItemDefinition {
    ItemDefinition {
        name: name.into(),
        ty,
    }
}

#[test]
fn json_round_trip_is_exact() {
    let def = example();
    assert_eq!(def.name, "PurchaseOrder");
    assert_eq!(
        def.items,
        vec![
            item("Customer", ItemType::Text { max_len: 64 }),
            item("Amount", ItemType::Float),
            item("Quantity", ItemType::Int),
            item("Received", ItemType::Timestamp),
            item("Paid", ItemType::Bool),
        ]
    );
    assert_eq!(serde_json::to_string(&def).unwrap(), EXAMPLE);
    def.validate().unwrap();
}

#[test]
fn bad_json_items_are_refused_with_a_reason() {
    let parse = |items: &str| {
        serde_json::from_str::<ActivityDefinition>(&format!(r#"{{"name":"A","items":[{items}]}}"#))
            .unwrap_err()
            .to_string()
    };
    assert!(parse(r#"{"name":"X","type":"text"}"#).contains("text item \"X\" needs a max_len"));
    assert!(parse(r#"{"name":"X","type":"int","max_len":3}"#).contains("only text takes a max_len"));
    assert!(parse(r#"{"name":"X","type":"decimal"}"#).contains("unknown type \"decimal\""));
    assert!(parse(r#"{"name":"X","type":"int","extra":1}"#).contains("unknown field `extra`"));
    assert!(
        serde_json::from_str::<ActivityDefinition>(r#"{"name":"A","items":[],"v":1}"#).is_err()
    );
}

fn invalid(def: &ActivityDefinition) -> String {
    match def.validate() {
        Err(ModelError::InvalidDefinition { reason }) => reason,
        other => panic!("expected InvalidDefinition, got {other:?}"),
    }
}

#[test]
fn names_follow_the_rules() {
    let mut def = example();
    for good in ["A", "a_1", &format!("A{}", "b".repeat(127))] {
        def.name = good.to_string();
        def.validate().unwrap();
    }
    def.name = String::new();
    assert_eq!(invalid(&def), "activity name is empty");
    def.name = "A".repeat(129);
    assert!(invalid(&def).contains("is 129 characters, the limit is 128"));
    def.name = "1A".into();
    assert_eq!(
        invalid(&def),
        "activity name \"1A\" must start with an ASCII letter"
    );
    def.name = "_A".into();
    assert!(invalid(&def).contains("must start with an ASCII letter"));
    def.name = "Purchase-Order".into();
    assert_eq!(
        invalid(&def),
        "activity name \"Purchase-Order\" contains '-'; only ASCII letters, digits and _ are allowed"
    );
    def.name = "Prüfung".into();
    assert!(invalid(&def).contains("contains 'ü'"));
    let mut def = example();
    def.items[1].name = "Amount Due".into();
    assert!(invalid(&def).starts_with("item name \"Amount Due\" contains ' '"));
}

#[test]
fn text_max_len_must_be_1_to_4000() {
    let mut def = example();
    for (max_len, ok) in [(0, false), (1, true), (4000, true), (4001, false)] {
        def.items[0].ty = ItemType::Text { max_len };
        assert_eq!(def.validate().is_ok(), ok, "max_len {max_len}");
    }
    def.items[0].ty = ItemType::Text { max_len: 0 };
    assert_eq!(
        invalid(&def),
        "item Customer has max_len 0, it must be 1..=4000"
    );
}

#[test]
fn at_most_1000_items() {
    let mut def = ActivityDefinition {
        name: "Big".into(),
        items: (0..1000)
            .map(|i| item(&format!("i{i}"), ItemType::Int))
            .collect(),
    };
    def.validate().unwrap();
    def.items.push(item("one_more", ItemType::Int));
    assert_eq!(
        invalid(&def),
        "activity Big has 1001 items, the limit is 1000"
    );
}

#[test]
fn duplicate_names_ignoring_case_are_refused() {
    let mut def = example();
    def.items.push(item("customer", ItemType::Int));
    assert_eq!(
        invalid(&def),
        "item customer is declared twice (names are compared ignoring case)"
    );
}

#[test]
fn system_field_names_are_reserved_exactly() {
    for field in SYSTEM_FIELDS {
        let mut def = example();
        def.items.push(item(field, ItemType::Int));
        assert!(
            invalid(&def).starts_with(&format!(
                "item {field} clashes with the system field of that name"
            )),
            "{field}"
        );
        // A capitalised business item (Status, End) is allowed.
        let mut def = example();
        let mut capital = field.to_string();
        capital[..1].make_ascii_uppercase();
        def.items.push(item(&capital, ItemType::Int));
        assert!(def.validate().is_ok(), "{capital}");
    }
}

fn incompatible(old: &ActivityDefinition, new: &ActivityDefinition) -> String {
    match check_upgrade(old, new) {
        Err(ModelError::IncompatibleDefinition { reason }) => reason,
        other => panic!("expected IncompatibleDefinition, got {other:?}"),
    }
}

#[test]
fn upgrade_rules() {
    let old = example();
    check_upgrade(&old, &old).unwrap();

    let mut added = old.clone();
    added
        .items
        .insert(0, item("Region", ItemType::Text { max_len: 8 }));
    check_upgrade(&old, &added).unwrap();

    let mut grown = old.clone();
    grown.items[0].ty = ItemType::Text { max_len: 65 };
    check_upgrade(&old, &grown).unwrap();

    let mut renamed = old.clone();
    renamed.name = "Order".into();
    assert_eq!(
        incompatible(&old, &renamed),
        "cannot replace activity PurchaseOrder with a definition named Order"
    );

    let mut removed = old.clone();
    removed.items.remove(1);
    assert_eq!(
        incompatible(&old, &removed),
        "activity PurchaseOrder: item Amount was removed; items can be added but not removed"
    );

    let mut retyped = old.clone();
    retyped.items[2].ty = ItemType::Float;
    assert_eq!(
        incompatible(&old, &retyped),
        "activity PurchaseOrder: item Quantity changes from int to float; an item's type cannot \
         change and a text max_len can only grow"
    );

    let mut shrunk = old.clone();
    shrunk.items[0].ty = ItemType::Text { max_len: 63 };
    assert!(incompatible(&old, &shrunk).starts_with(
        "activity PurchaseOrder: item Customer changes from text(max_len 64) to text(max_len 63)"
    ));

    let mut bad = old.clone();
    bad.items.push(item("status", ItemType::Int));
    assert!(matches!(
        check_upgrade(&old, &bad),
        Err(ModelError::InvalidDefinition { .. })
    ));
}
