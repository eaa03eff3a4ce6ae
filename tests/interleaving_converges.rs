//! Random multi-application workloads with continuation chains: applying
//! the frames in any interleaving that keeps each producer's own order
//! yields exactly the same instances as applying them in order.

mod common;

use bamdb::model::{Event, EventKind, Timestamp, Value};
use bamdb::storage::MemStorage;
use bamdb::{ActivityInstance, EventStream};
use common::*;
use proptest::prelude::*;

/// One instance: a root and a chain of continuation parts; which producer
/// reports each part; whether each part ends.
#[derive(Debug, Clone)]
struct Spec {
    parts: Vec<(usize, bool, u8)>, // (producer, ends, status value)
    /// Another producer's update of the root's Status, with a timestamp
    /// before or after the root's own; it may arrive after the instance
    /// completed, and then amends it. (tests/order_independence.rs adds
    /// links that contend, cycles, and quarantine with replay.)
    fix: Option<(usize, i64)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::collection::vec((0usize..3, prop::bool::weighted(0.8), 0u8..4), 1..4),
        proptest::option::of((1usize..3, -5_000i64..5_000)),
    )
        .prop_map(|(parts, fix)| Spec { parts, fix })
}

/// The frames of each producer, in its own order.
fn frames(specs: &[Spec]) -> Vec<Vec<Vec<Event>>> {
    let mut per_producer: Vec<Vec<Vec<Event>>> = vec![Vec::new(); 3];
    let clock = std::cell::Cell::new(1_790_000_000_000_000i64);
    let ev = |id: &str, kind: EventKind| {
        clock.set(clock.get() + 1_000);
        Event {
            ts: Timestamp::from_micros(clock.get()),
            activity: PO.into(),
            id: id.into(),
            kind,
        }
    };
    for (i, spec) in specs.iter().enumerate() {
        let name = |part: usize| {
            if part == 0 {
                format!("PO-{i}")
            } else {
                format!("T-{i}-{part}")
            }
        };
        for (part, &(producer, ends, status)) in spec.parts.iter().enumerate() {
            let id = name(part);
            let mut frame = Vec::new();
            if part == 0 {
                frame.push(ev(&id, EventKind::Begin));
                frame.push(ev(
                    &id,
                    EventKind::Update(vec![("Amount".into(), Value::Float(i as f64))]),
                ));
            }
            frame.push(ev(
                &id,
                EventKind::Update(vec![("Status".into(), Value::Text(format!("S{status}")))]),
            ));
            if part + 1 < spec.parts.len() {
                frame.push(ev(
                    &id,
                    EventKind::EnableContinuation {
                        token: name(part + 1),
                    },
                ));
            }
            // Split into two frames sometimes, to interleave more finely.
            let tail = if ends {
                vec![ev(&id, EventKind::End)]
            } else {
                Vec::new()
            };
            per_producer[producer].push(frame);
            if !tail.is_empty() {
                per_producer[producer].push(tail);
            }
        }
        if let Some((shift, offset)) = spec.fix {
            let producer = (spec.parts[0].0 + shift) % 3;
            // Unique: the offset is in ms, the clock steps by ms, and the
            // instance number is added in micros.
            let ts = Timestamp::from_micros(clock.get() - 20_000 + offset * 1_000 + i as i64);
            let update = EventKind::Update(vec![("Status".into(), Value::Text(format!("F{i}")))]);
            per_producer[producer].push(vec![Event {
                ts,
                activity: PO.into(),
                id: name(0),
                kind: update,
            }]);
        }
    }
    per_producer
}

fn run(per_producer: &[Vec<Vec<Event>>], picks: &[usize]) -> Vec<ActivityInstance> {
    let disk = MemStorage::new();
    let store = open_mem(&disk, mem_options());
    let mut streams: Vec<_> = (0..per_producer.len())
        .map(|_| store.buffered_stream(0))
        .collect();
    let mut next = vec![0usize; per_producer.len()];
    let total: usize = per_producer.iter().map(Vec::len).sum();
    let mut pick = picks.iter().cycle();
    for _ in 0..total {
        // The next producer that still has frames, chosen by the picks.
        let start = *pick.next().unwrap_or(&0);
        let p = (0..per_producer.len())
            .map(|k| (start + k) % per_producer.len())
            .find(|&p| next[p] < per_producer[p].len())
            .unwrap();
        for event in &per_producer[p][next[p]] {
            streams[p].push(event.clone()).unwrap();
        }
        streams[p].flush().unwrap();
        next[p] += 1;
    }
    settle(&store);
    let mut all = store.instances(PO).unwrap();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    // Continuation order follows arrival; compare as sets.
    for i in &mut all {
        i.continuations.sort();
    }
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_keeping_producer_order_gives_the_same_instances(
        specs in proptest::collection::vec(spec(), 1..6),
        picks in proptest::collection::vec(0usize..3, 1..40),
    ) {
        let per_producer = frames(&specs);
        let in_order = run(&per_producer, &[0]);
        let shuffled = run(&per_producer, &picks);
        prop_assert_eq!(&in_order, &shuffled);
        // Every instance whose parts all ended is completed, others active.
        for (i, spec) in specs.iter().enumerate() {
            let inst = in_order.iter().find(|x| x.id == format!("PO-{i}"));
            let inst = inst.expect("every root is visible");
            let all_end = spec.parts.iter().all(|p| p.1);
            prop_assert_eq!(inst.status == bamdb::Status::Completed, all_end, "PO-{}", i);
        }
    }
}
