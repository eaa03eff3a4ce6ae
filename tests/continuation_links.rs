//! Which continuation links take effect is decided by the events, in the
//! same way in every arrival order:
//!
//! - a link whose token names another begun instance never absorbs it
//!   (before, it silently merged an active instance into the linking one,
//!   dropping its begin, while the same link was quarantined if that
//!   instance had completed first);
//! - two links that claim one token: the earlier (by stamp) wins;
//! - a cycle formed within one frame fails the frame (before, the closing
//!   link was skipped silently); a cycle across frames: the link that would
//!   close it (the later by stamp) has no effect;
//! - two events with equal stamps (two producers given the same id) are
//!   decided by their values, not by which arrived first.

mod common;

use bamdb::model::{Event, EventKind, Timestamp, Value};
use bamdb::storage::MemStorage;
use bamdb::{ActivityInstance, EventStream, Status, Store};
use common::*;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_micros(1_790_000_000_000_000 + ms * 1_000)
}

fn event(ms: i64, id: &str, kind: EventKind) -> Event {
    Event {
        ts: at(ms),
        activity: PO.into(),
        id: id.into(),
        kind,
    }
}

fn link(ms: i64, id: &str, token: &str) -> Event {
    event(
        ms,
        id,
        EventKind::EnableContinuation {
            token: token.into(),
        },
    )
}

fn amount(ms: i64, id: &str, value: f64) -> Event {
    event(
        ms,
        id,
        EventKind::Update(vec![("Amount".into(), Value::Float(value))]),
    )
}

fn store() -> Store {
    open_mem(&MemStorage::new(), mem_options())
}

/// Sends each frame from its producer (1-based ids), in the given order,
/// and returns every instance and the quarantine's reasons.
fn run(frames: &[(u32, Vec<Event>)], order: &[usize]) -> (Vec<ActivityInstance>, Vec<String>) {
    let store = store();
    for &i in order {
        let (producer, events) = &frames[i];
        let mut s = store.buffered_stream_as(*producer, 0);
        for e in events {
            s.push(e.clone()).unwrap();
        }
        s.flush().unwrap();
    }
    settle(&store);
    let mut all = store.instances(PO).unwrap();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let reasons = store
        .quarantine_entries()
        .unwrap()
        .0
        .into_iter()
        .flat_map(|e| e.reasons)
        .collect();
    (all, reasons)
}

/// Every order of `frames` gives the same instances and quarantine.
fn same_in_every_order(frames: &[(u32, Vec<Event>)]) -> (Vec<ActivityInstance>, Vec<String>) {
    let n = frames.len();
    let mut orders: Vec<Vec<usize>> = vec![(0..n).collect()];
    // Every permutation for up to 4 frames.
    let mut perm: Vec<usize> = (0..n).collect();
    while next_permutation(&mut perm) {
        orders.push(perm.clone());
    }
    let first = run(frames, &orders[0]);
    for order in &orders[1..] {
        assert_eq!(run(frames, order), first, "order {order:?}");
    }
    first
}

fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        return false;
    };
    let j = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]).unwrap();
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

#[test]
fn a_link_never_absorbs_another_begun_instance() {
    let frames = vec![
        (
            1,
            vec![event(1, "A", EventKind::Begin), amount(2, "A", 1.0)],
        ),
        (
            2,
            vec![event(3, "B", EventKind::Begin), amount(4, "B", 2.0)],
        ),
        (1, vec![link(5, "A", "B"), event(6, "A", EventKind::End)]),
        (2, vec![event(7, "B", EventKind::End)]),
    ];
    let (all, quarantined) = same_in_every_order(&frames);
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["A", "B"], "both stay instances of their own");
    for i in &all {
        assert_eq!(i.status, Status::Completed);
        assert!(i.continuations.is_empty(), "{i:?}");
        assert!(i.begin.is_some());
    }
    assert_eq!(all[1].item("Amount"), Some(&Value::Float(2.0)));
}

#[test]
fn the_earlier_of_two_links_claiming_one_token_wins() {
    let frames = vec![
        (1, vec![event(1, "A", EventKind::Begin), link(2, "A", "T")]),
        (
            2,
            vec![
                event(3, "B", EventKind::Begin),
                link(4, "B", "T"),
                event(5, "B", EventKind::End),
            ],
        ),
        (3, vec![amount(6, "T", 7.0), event(7, "T", EventKind::End)]),
        (1, vec![event(8, "A", EventKind::End)]),
    ];
    let (all, quarantined) = same_in_every_order(&frames);
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let a = &all[0];
    assert_eq!((a.id.as_str(), a.status), ("A", Status::Completed));
    assert_eq!(a.continuations, ["T"]);
    assert_eq!(a.item("Amount"), Some(&Value::Float(7.0)));
    let b = &all[1];
    assert_eq!((b.id.as_str(), b.status), ("B", Status::Completed));
    assert!(b.continuations.is_empty(), "B's link came later: no effect");
}

#[test]
fn a_cycle_within_one_frame_fails_the_frame() {
    let frames = vec![(
        1,
        vec![
            event(1, "A", EventKind::Begin),
            link(2, "A", "B"),
            link(3, "B", "C"),
            link(4, "C", "A"),
        ],
    )];
    let (all, quarantined) = run(&frames, &[0]);
    assert!(all.is_empty(), "nothing of the frame is applied: {all:?}");
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert!(quarantined[0].contains("cycle"), "{quarantined:?}");
}

#[test]
fn a_cycle_across_frames_leaves_the_later_link_without_effect() {
    let frames = vec![
        (1, vec![event(1, "A", EventKind::Begin), link(2, "A", "T")]),
        (2, vec![link(3, "T", "A"), event(4, "T", EventKind::End)]),
        (1, vec![event(5, "A", EventKind::End)]),
    ];
    let (all, quarantined) = same_in_every_order(&frames);
    assert!(quarantined.is_empty(), "{quarantined:?}");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, "A");
    assert_eq!(all[0].status, Status::Completed);
    assert_eq!(all[0].continuations, ["T"]);
}

#[test]
fn equal_stamps_are_decided_by_the_values_not_by_arrival() {
    // Two runs of one application (same producer id, same batch number)
    // that sent the same timestamp with different values.
    let frames = [
        (
            1,
            vec![
                event(1, "A", EventKind::Begin),
                amount(2, "A", 1.0),
                event(3, "A", EventKind::End),
            ],
        ),
        (
            1,
            vec![event(1, "B", EventKind::Begin), amount(2, "A", 9.0)],
        ),
    ];
    for order in [[0, 1], [1, 0]] {
        let store = store();
        for i in order {
            // A new stream per frame: both frames are batch 0 of producer 1.
            let mut s = store.buffered_stream_as(frames[i].0, 0);
            for e in &frames[i].1 {
                s.push(e.clone()).unwrap();
            }
            s.flush().unwrap();
        }
        settle(&store);
        let a = store.get(PO, "A").unwrap().unwrap();
        assert_eq!(a.item("Amount"), Some(&Value::Float(9.0)), "{order:?}");
    }
}
