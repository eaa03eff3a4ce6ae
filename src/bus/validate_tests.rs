use crate::bus::test_util::*;
use crate::model::{EventKind, Value};

#[test]
fn a_valid_frame_comes_out_stamped_and_coerced() {
    let st = deployed();
    let batch = frame(
        7,
        vec![
            ev(10, "A", EventKind::Begin),
            update(
                11,
                "A",
                &[("Amount", Value::Int(5)), ("Count", Value::Int(2))],
            ),
        ],
    );
    let prepared = st.validate(batch).unwrap();
    assert_eq!(prepared.len(), 2);
    assert_eq!(prepared[1].key, key("A"));
    assert_eq!(
        (
            prepared[1].stamp.ts,
            prepared[1].stamp.seq,
            prepared[1].stamp.index
        ),
        (11, 7, 1)
    );
    let EventKind::Update(items) = &prepared[1].kind else {
        panic!("an update");
    };
    assert_eq!(items[0].1, Value::Float(5.0), "coerced to the item's type");
    assert_eq!(items[1].1, Value::Int(2), "already fits: unchanged");
}

#[test]
fn every_bad_event_is_named_and_nothing_is_prepared() {
    let st = deployed();
    let mut other = ev(1, "B", EventKind::Begin);
    other.activity = "Invoice".into();
    let batch = frame(
        1,
        vec![
            other,
            update(2, "A", &[("Colour", Value::Text("red".into()))]),
            update(3, "A", &[("Count", Value::Text("many".into()))]),
            update(4, "A", &[("Region", Value::Text("far too long".into()))]),
            link(5, "A", "A"),
        ],
    );
    let reasons = st.validate(batch).unwrap_err();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].contains("activity Invoice is not deployed"));
    assert!(reasons[1].contains("item Colour is not defined"));
    assert!(reasons[2].starts_with("event 2 (update PO/A): item Count"));
    assert!(reasons[3].contains("item Region"));
    assert!(reasons[4].contains("cannot be the instance's own id"));
}

#[test]
fn a_cycle_of_links_within_one_frame_is_refused_but_a_chain_is_not() {
    let st = deployed();
    let chain = frame(1, vec![link(1, "A", "B"), link(2, "B", "C")]);
    assert!(st.validate(chain).is_ok());
    let cycle = frame(
        1,
        vec![link(1, "A", "B"), link(2, "B", "C"), link(3, "C", "A")],
    );
    let reasons = st.validate(cycle).unwrap_err();
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].contains("closes a cycle"), "{reasons:?}");
}

#[test]
fn validity_does_not_depend_on_the_state_beyond_the_definitions() {
    // An update for an id never begun, or for an instance that completed,
    // is valid: what it means is decided when it is applied.
    let mut st = deployed();
    let done = frame(
        1,
        vec![ev(1, "A", EventKind::Begin), ev(2, "A", EventKind::End)],
    );
    st.apply_batch(done).unwrap();
    let late = frame(2, vec![update(3, "A", &[("Count", Value::Int(1))])]);
    assert!(st.validate(late.clone()).is_ok());
    assert!(deployed().validate(late).is_ok());
}
