use super::*;
use crate::bus::test_util::*;
use crate::model::EventKind;
use crate::model::Status;

#[test]
fn an_operator_completes_an_instance_whose_parts_did_not_end() {
    let mut st = deployed();
    st.apply_batch(frame(
        1,
        vec![ev(1, "A", EventKind::Begin), link(2, "A", "T")],
    ))
    .unwrap();
    st.force_complete(&key("T"), 50).unwrap();
    let done = st.get(&key("A")).unwrap().unwrap();
    assert_eq!(done.status, Status::Completed);
    assert!(st.nodes.is_empty());
    let again = st.force_complete(&key("A"), 60).unwrap_err();
    assert!(again.contains("not an active instance"), "{again}");
}

#[test]
fn a_pending_tree_can_be_removed_but_not_completed() {
    let mut st = deployed();
    st.apply_batch(frame(1, vec![ev(1, "P", EventKind::End)]))
        .unwrap();
    let refused = st.force_complete(&key("P"), 5).unwrap_err();
    assert!(refused.contains("pending"), "{refused}");
    st.remove(&key("P")).unwrap();
    assert!(st.nodes.is_empty());
    assert!(st.remove(&key("P")).is_err(), "nothing left to remove");
}

#[test]
fn deploying_several_definitions_is_all_or_nothing() {
    let mut st = deployed();
    let good: ActivityDefinition = serde_json::from_str(
        r#"{"name":"Ship","items":[{"name":"Carrier","type":"text","max_len":16}]}"#,
    )
    .unwrap();
    // Retypes an item of PO: refused, and Ship is not deployed either.
    let retyped: ActivityDefinition =
        serde_json::from_str(r#"{"name":"PO","items":[{"name":"Amount","type":"int"}]}"#).unwrap();
    let err = st.deploy_all(vec![good.clone(), retyped]).unwrap_err();
    assert!(err.starts_with("definition 2 of 2 (PO)"), "{err}");
    assert!(err.ends_with("nothing was deployed"), "{err}");
    assert!(!st.definitions.contains_key("Ship"));
    st.deploy_all(vec![good]).unwrap();
    assert!(st.definitions.contains_key("Ship"));
}
