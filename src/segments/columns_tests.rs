use super::*;

fn rec(id: &str, items: Vec<(&str, StoredValue)>, end: Option<i64>) -> StoredInstance {
    StoredInstance {
        parts: Vec::new(),
        activity: "A".into(),
        id: id.into(),
        begin: Some(1),
        end,
        last_modified: end,
        items: items.into_iter().map(|(n, v)| (n.into(), v)).collect(),
        continuations: vec![],
        references: vec![],
        relationships: vec![],
    }
}

#[test]
fn unset_values_are_padded_and_mixed_types_give_up() {
    let records = vec![
        rec(
            "1",
            vec![
                ("X", StoredValue::Float(1.5)),
                ("R", StoredValue::Text("EU".into())),
            ],
            Some(5),
        ),
        rec("2", vec![("M", StoredValue::Int(1))], None),
        rec(
            "3",
            vec![
                ("R", StoredValue::Text("EU".into())),
                ("M", StoredValue::Float(2.0)),
            ],
            Some(7),
        ),
    ];
    let cols = FileColumns::build(
        records
            .into_iter()
            .enumerate()
            .map(|(i, r)| Ok((i as u64 * 100, r))),
    )
    .unwrap();
    let a = &cols.activities["A"];
    let offsets: Vec<u64> = (0..a.rows()).filter_map(|r| a.offsets.get(r)).collect();
    assert_eq!(offsets, vec![0, 100, 200]);
    assert_eq!(a.offsets.get(3), None);
    match &*a.items["X"] {
        Column::Float { values, set } => {
            assert_eq!(values, &vec![1.5, 0.0, 0.0]);
            assert_eq!(set, &vec![true, false, false]);
        }
        other => panic!("{other:?}"),
    }
    match &*a.items["R"] {
        Column::Text { codes, dict } => {
            assert_eq!(dict, &vec!["EU".to_string()]);
            assert_eq!(codes, &vec![0, UNSET, 0]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(*a.items["M"], Column::Unavailable));
    match &*a.end {
        Column::Timestamp { values, set } => {
            assert_eq!(values, &vec![5, 0, 7]);
            assert_eq!(set, &vec![true, false, true]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_text_column_of_unique_values_is_not_a_dictionary() {
    let n = 3 * SMALL_DICTIONARY;
    let cols = FileColumns::build((0..n).map(|i| {
        Ok((
            i as u64,
            rec(
                &i.to_string(),
                vec![("N", StoredValue::Text(format!("n{i}")))],
                Some(1),
            ),
        ))
    }))
    .unwrap();
    assert!(matches!(
        *cols.activities["A"].items["N"],
        Column::Unavailable
    ));
}

#[test]
fn a_text_column_of_many_repeated_values_is_a_dictionary_whatever_their_order() {
    // 5,000 customers round-robin over 20,000 rows: the first 5,000 rows
    // are all distinct, yet the column is a quarter distinct in the end.
    let customers = SMALL_DICTIONARY + 904;
    let n = 4 * customers;
    let cols = FileColumns::build((0..n).map(|i| {
        Ok((
            i as u64,
            rec(
                &i.to_string(),
                vec![("C", StoredValue::Text(format!("c{}", i % customers)))],
                Some(1),
            ),
        ))
    }))
    .unwrap();
    match &*cols.activities["A"].items["C"] {
        Column::Text { codes, dict } => {
            assert_eq!(dict.len(), customers);
            assert_eq!(codes.len(), n);
            assert_eq!(dict[codes[customers + 7] as usize], "c7");
        }
        other => panic!("{other:?}"),
    }
}
