//! The static checks of a frame: whether it is valid depends only on the
//! frame and the deployed definitions (activities deployed, items defined,
//! values of or coercible to the item's type, no token equal to its own id,
//! no cycle of links within the frame), never on which frames arrived
//! before it. Checked events come out [`Prepared`]: keyed, stamped and
//! coerced, ready for `apply`.

use crate::fast_hash::{FastMap, FastSet};

use super::state::{BusState, Key, Stamp};
use crate::model::{coerce, Batch, EventKind};

/// An event that passed validation, with its values coerced.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(super) key: Key,
    pub(super) stamp: Stamp,
    pub(super) kind: EventKind,
}

/// Whether a value already has the declared type (and fits it), so no
/// coercion (and no copy) is needed.
fn value_fits(value: &crate::model::Value, ty: &crate::model::ItemType) -> bool {
    use crate::model::{ItemType, Value};
    match (value, ty) {
        (Value::Text(t), ItemType::Text { max_len }) => {
            t.len() <= *max_len as usize || t.chars().count() <= *max_len as usize
        }
        (Value::Int(_), ItemType::Int)
        | (Value::Float(_), ItemType::Float)
        | (Value::Bool(_), ItemType::Bool)
        | (Value::Timestamp(_), ItemType::Timestamp) => true,
        _ => false,
    }
}

impl BusState {
    /// Checks a batch against the definitions, without changing anything.
    /// What is checked depends only on the frame and the definitions:
    /// activities deployed, items defined, values of (or coercible to) the
    /// item's type, no token equal to its own id, no cycle of links within
    /// the frame.
    pub fn validate(&self, batch: Batch) -> Result<Vec<Prepared>, Vec<String>> {
        let mut reasons = Vec::new();
        let mut prepared = Vec::with_capacity(batch.events.len());
        let (producer, seq) = (batch.producer, batch.seq);
        for (i, ev) in batch.events.into_iter().enumerate() {
            // Built only when something is wrong: this loop is the import's
            // hot path.
            let what = |ev_op: &str, activity: &str, id: &str| {
                format!("event {i} ({ev_op} {activity}/{id})")
            };
            let crate::model::Event {
                ts,
                activity,
                id,
                mut kind,
            } = ev;
            let op = kind.op();
            let Some(def) = self.definitions.get(&activity) else {
                reasons.push(format!(
                    "{}: activity {activity} is not deployed",
                    what(op, &activity, &id)
                ));
                continue;
            };
            let key: Key = (activity, id);
            match &mut kind {
                EventKind::Update(items) => {
                    for (name, value) in items.iter_mut() {
                        match def.item(name) {
                            None => reasons.push(format!(
                                "{}: item {name} is not defined for activity {}",
                                what(op, &key.0, &key.1),
                                def.name
                            )),
                            Some(item) if value_fits(value, &item.ty) => {}
                            Some(item) => match coerce(value, &item.ty) {
                                Ok(v) => *value = v,
                                Err(e) => reasons.push(format!(
                                    "{}: item {name}: {e}",
                                    what(op, &key.0, &key.1)
                                )),
                            },
                        }
                    }
                }
                EventKind::EnableContinuation { token } if *token == key.1 => {
                    reasons.push(format!(
                        "{}: a continuation token cannot be the instance's own id",
                        what(op, &key.0, &key.1)
                    ));
                }
                _ => {}
            }
            prepared.push(Prepared {
                key,
                stamp: Stamp {
                    ts: ts.as_micros(),
                    producer,
                    seq,
                    index: i as u32,
                },
                kind,
            });
        }
        if let Some(cycle) = link_cycle(&prepared) {
            reasons.push(cycle);
        }
        if reasons.is_empty() {
            Ok(prepared)
        } else {
            Err(reasons)
        }
    }
}

/// A cycle of links within one frame (`a` continues as `b`, `b` as `a`),
/// named with the event that closes it. Links across frames that would
/// form a cycle are resolved by [`BusState::relink`]; within one frame the
/// producer sent a contradiction, so the frame is refused.
fn link_cycle(prepared: &[Prepared]) -> Option<String> {
    let mut parent_of: FastMap<(&str, &str), Vec<&str>> = FastMap::default();
    let mut links = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        if let EventKind::EnableContinuation { token } = &p.kind {
            links.push((i, p.key.0.as_str(), p.key.1.as_str(), token.as_str()));
        }
    }
    if links.len() < 2 {
        return None;
    }
    for &(i, activity, from, token) in &links {
        // Is `from` reachable from `token` through the links before this
        // one? Then this link closes a cycle.
        let mut stack = vec![from];
        let mut seen: FastSet<&str> = FastSet::default();
        while let Some(id) = stack.pop() {
            if id == token {
                return Some(format!(
                    "event {i} (continue {activity}/{from}): token {token} closes a cycle of \
                     continuations within the frame"
                ));
            }
            if seen.insert(id) {
                if let Some(parents) = parent_of.get(&(activity, id)) {
                    stack.extend(parents.iter().copied());
                }
            }
        }
        parent_of.entry((activity, token)).or_default().push(from);
    }
    None
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
