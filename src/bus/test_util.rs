//! Building blocks of the bus's unit tests: a state with one deployed
//! activity, and frames of events with chosen timestamps.

use super::state::{BusState, Key};
use crate::model::{ActivityDefinition, Batch, Event, EventKind, Timestamp, Value};

/// The activity the unit tests deploy.
pub(super) const PO: &str = "PO";

/// A state with `PO` deployed (items Amount: float, Region: text,
/// Count: int).
pub(super) fn deployed() -> BusState {
    let mut st = BusState::default();
    let def: ActivityDefinition = serde_json::from_str(
        r#"{"name":"PO","items":[
            {"name":"Amount","type":"float"},
            {"name":"Region","type":"text","max_len":8},
            {"name":"Count","type":"int"}]}"#,
    )
    .expect("a valid definition");
    st.deploy_all(vec![def]).expect("deploys");
    st
}

pub(super) fn key(id: &str) -> Key {
    (PO.to_owned(), id.to_owned())
}

/// An event of `PO` at time `ts` (microseconds).
pub(super) fn ev(ts: i64, id: &str, kind: EventKind) -> Event {
    Event {
        ts: Timestamp::from_micros(ts),
        activity: PO.to_owned(),
        id: id.to_owned(),
        kind,
    }
}

pub(super) fn update(ts: i64, id: &str, items: &[(&str, Value)]) -> Event {
    let items = items
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect();
    ev(ts, id, EventKind::Update(items))
}

pub(super) fn link(ts: i64, id: &str, token: &str) -> Event {
    ev(
        ts,
        id,
        EventKind::EnableContinuation {
            token: token.to_owned(),
        },
    )
}

/// A frame of producer 1 with sequence number `seq`.
pub(super) fn frame(seq: u64, events: Vec<Event>) -> Batch {
    Batch {
        producer: 1,
        seq,
        events,
    }
}
