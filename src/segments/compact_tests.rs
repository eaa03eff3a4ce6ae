#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use proptest::prelude::*;

use super::*;

/// Every kind of value, floats that are short decimals and ones that
/// are not (`-0.0`, NaN, infinities, long fractions) included.
fn value() -> impl Strategy<Value = StoredValue> {
    prop_oneof![
        "\\PC{0,8}".prop_map(StoredValue::Text),
        any::<i64>().prop_map(StoredValue::Int),
        prop_oneof![
            Just(-0.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(0.1 + 0.2),
            (-1_000_000i64..1_000_000, 0u32..7).prop_map(|(n, d)| n as f64 / 10f64.powi(d as i32)),
            any::<f64>(),
        ]
        .prop_map(StoredValue::Float),
        any::<bool>().prop_map(StoredValue::Bool),
        any::<i64>().prop_map(StoredValue::Timestamp),
    ]
}

fn record(items: Vec<(String, StoredValue)>, times: [Option<i64>; 3]) -> StoredInstance {
    StoredInstance {
        activity: "PurchaseOrder".into(),
        id: "PO-1".into(),
        begin: times[0],
        end: times[1],
        last_modified: times[2],
        items,
        continuations: vec!["SHIP-1".into()],
        references: Vec::new(),
        relationships: Vec::new(),
        parts: vec![0, 1, 2, 3],
    }
}

proptest! {
    /// A record comes back as it went in (but for the activity and id,
    /// which the reader takes from the key it names), whatever its times
    /// and items.
    #[test]
    fn records_round_trip(
        times in proptest::array::uniform3(proptest::option::of(any::<i64>())),
        values in proptest::collection::btree_map("[A-E][a-z]{0,6}", value(), 0..6),
        key in any::<u32>(),
    ) {
        let items = values.into_iter().collect();
        let rec = record(items, times);
        let names = NameTable::of(&[&rec], ["PurchaseOrder"].into_iter());
        let body = encode_record(&rec, key, &names).unwrap();
        let stored_names = decode_names(&names.to_bytes().unwrap(), 1).unwrap();
        let back = decode_record(&body, &stored_names.items).unwrap();
        prop_assert_eq!(back.key, key);
        let mut back = back.record;
        back.activity = rec.activity.clone();
        back.id = rec.id.clone();
        // Equal bit for bit (postcard writes floats' bits; NaN != NaN).
        prop_assert_eq!(postcard::to_allocvec(&back).unwrap(), postcard::to_allocvec(&rec).unwrap());
    }

    /// Damaged bodies and name tables are errors, never panics.
    #[test]
    fn damage_is_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_names(&bytes, 3);
        let _ = decode_record(&bytes, &["A".to_owned()]);
    }
}

/// A record naming an item past the table is damage, with a reason.
#[test]
fn an_item_past_the_name_table_is_reported() {
    let rec = record(
        vec![("Amount".into(), StoredValue::Int(1))],
        [Some(1), None, Some(2)],
    );
    let names = NameTable::of(&[&rec], std::iter::empty());
    let body = encode_record(&rec, 0, &names).unwrap();
    let err = decode_record(&body, &[]).err().unwrap();
    assert!(
        err.contains("item 0, the file's name table holds 0"),
        "{err}"
    );
}

/// The compact form is smaller than the plain one for the typical order.
#[test]
fn names_and_ids_are_not_repeated() {
    let rec = record(
        vec![
            ("Amount".into(), StoredValue::Float(412.5)),
            ("Customer".into(), StoredValue::Text("Contoso Ltd".into())),
            ("Quantity".into(), StoredValue::Int(7)),
            ("Region".into(), StoredValue::Text("EU".into())),
        ],
        [
            Some(1_790_000_000_000_000),
            Some(1_790_003_600_000_000),
            Some(1_790_003_600_000_000),
        ],
    );
    let names = NameTable::of(&[&rec], std::iter::empty());
    let body = encode_record(&rec, 7, &names).unwrap();
    let plain = postcard::to_allocvec(&rec).unwrap();
    for name in rec
        .items
        .iter()
        .map(|(n, _)| n)
        .chain([&rec.id, &rec.activity])
    {
        assert!(
            !body.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} is repeated in the record"
        );
    }
    assert!(
        body.len() + 40 < plain.len(),
        "{} vs {}",
        body.len(),
        plain.len()
    );
}

/// The activities' first keys partition the index: each activity's keys
/// are found, and a table that does not partition it is damage.
#[test]
fn activities_are_found_by_key_position() {
    let keys = ["A", "A", "B", "C", "C", "C"];
    let names = NameTable::of(&[], keys.into_iter());
    let stored = decode_names(&names.to_bytes().unwrap(), keys.len()).unwrap();
    for (i, activity) in keys.iter().enumerate() {
        assert_eq!(stored.activity_of(i), Some(*activity));
    }
    for (activities, key_count) in [
        (vec![("A".to_owned(), 1u64)], 3),
        (vec![("A".to_owned(), 0), ("B".to_owned(), 0)], 3),
        (vec![("A".to_owned(), 0), ("B".to_owned(), 3)], 3),
        (vec![], 3),
    ] {
        let bytes = postcard::to_allocvec(&FileNames {
            activities,
            items: Vec::new(),
        })
        .unwrap();
        let err = decode_names(&bytes, key_count).unwrap_err();
        assert!(err.contains("do not partition"), "{err}");
    }
}

/// Records are written with the borrowed value and read back as the owned
/// one: every variant must give the same bytes both ways.
#[test]
fn the_borrowed_value_writes_the_owned_values_bytes() {
    let pairs = [
        (
            CompactValueRef::Text("Shipped"),
            CompactValue::Text("Shipped".into()),
        ),
        (CompactValueRef::Text(""), CompactValue::Text(String::new())),
        (CompactValueRef::Int(-7), CompactValue::Int(-7)),
        (CompactValueRef::Float(0.1), CompactValue::Float(0.1)),
        (CompactValueRef::Bool(true), CompactValue::Bool(true)),
        (CompactValueRef::Timestamp(-3), CompactValue::Timestamp(-3)),
        (
            CompactValueRef::Decimal(12345, 2),
            CompactValue::Decimal(12345, 2),
        ),
    ];
    for (borrowed, owned) in pairs {
        assert_eq!(
            postcard::to_allocvec(&borrowed).unwrap(),
            postcard::to_allocvec(&owned).unwrap(),
            "{borrowed:?}"
        );
    }
}
