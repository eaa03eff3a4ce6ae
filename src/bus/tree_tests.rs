use super::*;

fn key(id: &str) -> Key {
    ("PO".to_owned(), id.to_owned())
}

fn stamp(ts: i64) -> Stamp {
    Stamp {
        ts,
        producer: 1,
        seq: 0,
        index: 0,
    }
}

/// Root R links T at stamp 5, S links T at stamp 3 (the earlier link
/// wins), and T links R (R was begun: no effect).
fn contended() -> BusState {
    let mut st = BusState::default();
    let mut r = Node {
        begun: Some(stamp(1)),
        ..Node::default()
    };
    r.tokens.insert("T".into(), stamp(5));
    r.linked_by.insert("T".into());
    let mut s = Node {
        begun: Some(stamp(2)),
        ..Node::default()
    };
    s.tokens.insert("T".into(), stamp(3));
    let mut t = Node::default();
    t.linked_by.extend(["R".to_owned(), "S".to_owned()]);
    t.tokens.insert("R".into(), stamp(6));
    st.nodes.insert(key("R"), r);
    st.nodes.insert(key("S"), s);
    st.nodes.insert(key("T"), t);
    st
}

#[test]
fn the_earliest_link_wins_and_a_begun_node_is_never_linked() {
    let mut st = contended();
    let tops = st.relink(&[key("R")]);
    assert_eq!(tops, [key("R"), key("S")]);
    assert_eq!(
        st.nodes.get(&key("T")).unwrap().parent.as_deref(),
        Some("S")
    );
    assert_eq!(st.nodes.get(&key("R")).unwrap().parent, None, "R was begun");
    assert_eq!(st.subtree(&key("S")), [key("S"), key("T")]);
    assert_eq!(st.subtree(&key("R")), [key("R")]);
    // Relinking from any member gives the same shape.
    let mut again = contended();
    again.relink(&[key("T")]);
    assert_eq!(again.nodes.snapshot(), st.nodes.snapshot());
}

#[test]
fn completion_needs_every_linked_part_ended_or_a_forced_root() {
    let mut st = contended();
    st.relink(&[key("R")]);
    assert!(!st.is_complete(&key("S")), "S has not ended");
    st.nodes.get_mut(&key("S")).unwrap().ended = Some(stamp(7));
    assert!(!st.is_complete(&key("S")), "its part T has not ended");
    st.nodes.get_mut(&key("T")).unwrap().ended = Some(stamp(8));
    assert!(st.is_complete(&key("S")));
    assert!(!st.is_complete(&key("R")), "R has not ended");
    st.nodes.get_mut(&key("R")).unwrap().forced = Some(stamp(9));
    assert!(st.is_complete(&key("R")), "an operator completed it");
}

#[test]
fn parts_round_trip_and_damaged_parts_are_reported() {
    let mut st = contended();
    st.relink(&[key("R")]);
    let keys = st.subtree(&key("S"));
    let mut rec = st.merge_keys(&key("S"), &keys, true);
    let bytes = st.encode_parts(&keys, &rec).unwrap();
    assert_eq!(rec.continuations, ["T"]);
    assert!(check_parts(&rec).is_ok(), "no parts: a version-1 record");
    rec.parts = bytes.clone();
    let parts = decode_parts(&rec).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].1, st.nodes.get(&key("S")).unwrap().clone());
    assert!(check_parts(&rec).is_ok());
    rec.parts.truncate(rec.parts.len() / 2);
    let err = check_parts(&rec).unwrap_err();
    assert!(err.contains("PO/S"), "{err}");
}
