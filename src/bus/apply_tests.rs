use super::*;
use crate::bus::state::value_order;
use crate::bus::test_util::*;
use crate::model::Status;
use crate::model::{EventKind, Value};

fn amount(st: &BusState, id: &str) -> Option<Value> {
    let i = st.get(&key(id)).unwrap()?;
    i.items
        .iter()
        .find(|(n, _)| n == "Amount")
        .map(|(_, v)| v.clone())
}

#[test]
fn the_greatest_stamp_wins_whatever_the_arrival_order() {
    let newer = frame(2, vec![update(20, "A", &[("Amount", Value::Float(2.0))])]);
    let older = frame(1, vec![update(10, "A", &[("Amount", Value::Float(1.0))])]);
    let begin = frame(3, vec![ev(5, "A", EventKind::Begin)]);
    let mut one = deployed();
    for b in [newer.clone(), older.clone(), begin.clone()] {
        one.apply_batch(b).unwrap();
    }
    let mut two = deployed();
    for b in [begin, older, newer] {
        two.apply_batch(b).unwrap();
    }
    assert_eq!(amount(&one, "A"), Some(Value::Float(2.0)));
    assert_eq!(one.get(&key("A")).unwrap(), two.get(&key("A")).unwrap());
}

#[test]
fn equal_stamps_are_ordered_by_value() {
    assert!(value_order(&StoredValue::Int(2), &StoredValue::Int(1)).is_gt());
    assert!(value_order(
        &StoredValue::Text("b".into()),
        &StoredValue::Text("a".into())
    )
    .is_gt());
    assert!(value_order(&StoredValue::Float(f64::NAN), &StoredValue::Float(1.0)).is_gt());
    assert!(value_order(&StoredValue::Int(9), &StoredValue::Float(0.0)).is_lt());
}

#[test]
fn an_instance_completes_when_its_root_and_linked_parts_ended() {
    let mut st = deployed();
    st.apply_batch(frame(
        1,
        vec![
            ev(1, "A", EventKind::Begin),
            link(2, "A", "T"),
            ev(3, "A", EventKind::End),
        ],
    ))
    .unwrap();
    let active = st.get(&key("A")).unwrap().unwrap();
    assert_eq!(active.status, Status::Active, "part T has not ended");
    assert!(st.memtable.is_empty());

    st.apply_batch(frame(2, vec![ev(4, "T", EventKind::End)]))
        .unwrap();
    assert!(st.nodes.is_empty(), "moved out of the active state");
    assert_eq!(st.memtable.len(), 1);
    let done = st.get(&key("T")).unwrap().unwrap();
    assert_eq!((done.id.as_str(), done.status), ("A", Status::Completed));
    assert_eq!(st.counters.instances_completed, 1);
    assert_eq!(st.counters.frames_imported, 2);
    assert_eq!(st.counters.events_imported, 4);
}

#[test]
fn an_event_for_a_completed_instance_amends_it() {
    let mut st = deployed();
    st.apply_batch(frame(
        1,
        vec![
            ev(1, "A", EventKind::Begin),
            update(2, "A", &[("Amount", Value::Float(1.0))]),
            ev(3, "A", EventKind::End),
        ],
    ))
    .unwrap();
    assert_eq!(st.memtable.len(), 1);
    // A late update, stamped before the end: the instance reopens, takes
    // it, and completes again.
    st.apply_batch(frame(
        2,
        vec![update(2, "A", &[("Amount", Value::Float(7.0))])],
    ))
    .unwrap();
    assert_eq!(amount(&st, "A"), Some(Value::Float(7.0)));
    assert_eq!(
        st.get(&key("A")).unwrap().unwrap().status,
        Status::Completed
    );
    assert_eq!(st.memtable.len(), 1);
}

#[test]
fn a_refused_frame_changes_nothing() {
    let mut st = deployed();
    let bad = frame(
        1,
        vec![
            ev(1, "A", EventKind::Begin),
            update(2, "A", &[("Colour", Value::Int(1))]),
        ],
    );
    assert!(st.apply_batch(bad).is_err());
    assert!(st.nodes.is_empty());
    assert_eq!(st.counters.frames_imported, 0);
}
