use super::*;
use crate::bus::state::{Node, Stamp};
use crate::segments::record::StoredValue;

fn stamp(ts: i64) -> Stamp {
    Stamp {
        ts,
        producer: 1,
        seq: 1,
        index: 0,
    }
}

fn key(activity: &str, id: &str) -> Key {
    (activity.to_owned(), id.to_owned())
}

#[test]
fn lists_pending_trees_not_visible_ones() {
    let mut st = BusState::default();
    // A visible instance: begun.
    st.nodes.insert(
        key("PO", "A"),
        Node {
            begun: Some(stamp(1)),
            ..Node::default()
        },
    );
    // A pending tree: R never begun, with token T under it that ended.
    let mut r = Node {
        last_modified: Some(5),
        ..Node::default()
    };
    r.tokens.insert("T".into(), stamp(4));
    r.items.insert("X".into(), (StoredValue::Int(1), stamp(5)));
    st.nodes.insert(key("PO", "R"), r);
    let mut t = Node {
        parent: Some("R".into()),
        linked_by: ["R".to_string()].into(),
        ended: Some(stamp(7)),
        last_modified: Some(7),
        ..Node::default()
    };
    t.items.insert("X".into(), (StoredValue::Int(2), stamp(7)));
    st.nodes.insert(key("PO", "T"), t);
    // Another activity's pending id.
    st.nodes.insert(
        key("Ship", "S"),
        Node {
            ended: Some(stamp(3)),
            last_modified: Some(3),
            ..Node::default()
        },
    );

    let all = st.pending_instances(None).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let r = &all[0];
    assert_eq!((r.activity.as_str(), r.id.as_str()), ("PO", "R"));
    assert_eq!(r.ids, ["R", "T"]);
    assert_eq!(r.items, [("X".to_owned(), Value::Int(2))], "latest wins");
    assert!(!r.ended, "R itself has not ended");
    assert_eq!(r.last_modified, Some(Timestamp::from_micros(7)));
    assert!(all[1].ended);
    assert_eq!(all[1].activity, "Ship");

    let po = st.pending_instances(Some("PO")).unwrap();
    assert_eq!(po.len(), 1);
    assert_eq!(po[0].id, "R");
    assert!(st.pending_instances(Some("Nothing")).unwrap().is_empty());
}
