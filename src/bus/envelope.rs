//! What a message box frame carries. The first byte tells: an event batch
//! (its own format version byte, 1), a definition deployment, or a replay of
//! a quarantined batch. Deployments and replays travel through the message
//! box so that the bus applies them in LSN order with the events, and a
//! restart replays them exactly as the first run did.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::model::FORMAT_VERSION;

// Format: { 0xD1 | a definition, or an array of definitions, as JSON (UTF-8) }
const DEPLOY: u8 = 0xD1;
// Format: { 0xD2 | quarantine entry id u64 LE | event batch }
const REPLAY: u8 = 0xD2;
// Format: { 0xD3 | postcard(AdminOp) }
const ADMIN: u8 = 0xD3;
// Format: { 0xD4 | sequence u64 LE | event batch }: a batch its producer
// numbered, imported at most once per (the batch's producer id, sequence).
const SEQUENCED: u8 = 0xD4;
// Format: { 0xD5 | box id u64 LE | LSN in the box u64 LE | the box frame's
// payload (an event batch, or a sequenced one) }: a frame the bus process
// copied from a producer's message box, imported at most once per (box, LSN).
const BOXED: u8 = 0xD5;

/// A decoded frame payload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Payload<'a> {
    /// An event batch (model codec).
    Batch(&'a [u8]),
    /// An activity definition to deploy, JSON.
    Deploy(&'a [u8]),
    /// A quarantined batch sent again after its cause was fixed.
    Replay { entry: u64, batch: &'a [u8] },
    /// An operator's action on an active instance (postcard `AdminOp`).
    Admin(&'a [u8]),
    /// An event batch with its producer's sequence number for it (see
    /// `idempotency`).
    Sequenced { seq: u64, batch: &'a [u8] },
    /// A frame copied from a producer's message box: `inner` is what the
    /// producer committed there.
    Boxed {
        box_id: u64,
        lsn: u64,
        inner: &'a [u8],
    },
    /// Something this version does not know.
    Unknown(Option<u8>),
}

pub(crate) fn parse(payload: &[u8]) -> Payload<'_> {
    match payload.split_first() {
        Some((&b, _)) if b == FORMAT_VERSION => Payload::Batch(payload),
        Some((&DEPLOY, json)) => Payload::Deploy(json),
        Some((&REPLAY, rest)) => match rest.split_first_chunk::<8>() {
            Some((id, batch)) => Payload::Replay {
                entry: u64::from_le_bytes(*id),
                batch,
            },
            None => Payload::Unknown(Some(REPLAY)),
        },
        Some((&ADMIN, op)) => Payload::Admin(op),
        Some((&SEQUENCED, rest)) => match rest.split_first_chunk::<8>() {
            Some((seq, batch)) => Payload::Sequenced {
                seq: u64::from_le_bytes(*seq),
                batch,
            },
            None => Payload::Unknown(Some(SEQUENCED)),
        },
        Some((&BOXED, rest)) => {
            let parts = rest
                .split_first_chunk::<8>()
                .and_then(|(id, rest)| Some((id, rest.split_first_chunk::<8>()?)));
            match parts {
                Some((id, (lsn, inner))) => Payload::Boxed {
                    box_id: u64::from_le_bytes(*id),
                    lsn: u64::from_le_bytes(*lsn),
                    inner,
                },
                None => Payload::Unknown(Some(BOXED)),
            }
        }
        Some((&b, _)) => Payload::Unknown(Some(b)),
        None => Payload::Unknown(None),
    }
}

/// What a producer's message box may carry: an event batch, plain or
/// sequenced. Anything else is refused (the bus quarantines it).
pub(crate) fn parse_box_payload(inner: &[u8]) -> Result<(Option<u64>, &[u8]), String> {
    match parse(inner) {
        Payload::Batch(batch) => Ok((None, batch)),
        Payload::Sequenced { seq, batch } => Ok((Some(seq), batch)),
        other => Err(format!(
            "a message box frame must hold an event batch, not {}",
            other.kind_name()
        )),
    }
}

impl Payload<'_> {
    /// What the payload is, for messages.
    pub(crate) fn kind_name(&self) -> String {
        match self {
            Payload::Batch(_) => "an event batch".into(),
            Payload::Deploy(_) => "a deployment".into(),
            Payload::Replay { .. } => "a quarantine replay".into(),
            Payload::Admin(_) => "an operator action".into(),
            Payload::Sequenced { .. } => "a sequenced event batch".into(),
            Payload::Boxed { .. } => "a copied message box frame".into(),
            Payload::Unknown(kind) => format!("unknown payload kind {kind:?}"),
        }
    }
}

/// The store frame payload of the frame at `lsn` of message box `box_id`
/// whose payload is `inner`.
pub(crate) fn boxed(box_id: u64, lsn: u64, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(17 + inner.len());
    out.push(BOXED);
    out.extend_from_slice(&box_id.to_le_bytes());
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(inner);
    out
}

/// The definitions a deployment carries: one JSON object, or an array of
/// them deployed all or nothing.
pub(crate) fn parse_definitions(
    json: &[u8],
) -> Result<Vec<crate::model::ActivityDefinition>, String> {
    let parsed = if json.first() == Some(&b'[') {
        serde_json::from_slice(json)
    } else {
        serde_json::from_slice(json).map(|def| vec![def])
    };
    parsed.map_err(|e| format!("the deployed definition does not parse: {e}"))
}

/// The frame payload of `batch` numbered `seq` by its producer.
pub(crate) fn sequenced(seq: u64, batch: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + batch.len());
    out.push(SEQUENCED);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(batch);
    out
}

pub(crate) fn deploy(json: &str) -> Vec<u8> {
    let mut out = vec![DEPLOY];
    out.extend_from_slice(json.as_bytes());
    out
}

/// An operator's action (on an active or pending instance, or on the
/// declared aggregations), applied by the bus in LSN order like everything
/// else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum AdminOp {
    /// Complete it now, at `time` (µs), whatever parts have not ended.
    Complete {
        activity: String,
        id: String,
        time: i64,
    },
    /// Remove it (all its parts) from the active state.
    Remove { activity: String, id: String },
    /// Declare (or replace) a real-time aggregation.
    Declare(super::aggregations::AggregationSpec),
    /// Drop a real-time aggregation.
    Undeclare { name: String },
    /// Apply retention now: completed instances that ended more than
    /// `window_secs` ago leave the online store (archived unless `drop`).
    Retain { window_secs: u64, drop: bool },
}

pub(crate) fn admin(op: &AdminOp) -> Vec<u8> {
    let mut out = vec![ADMIN];
    // Encoding a plain enum of strings and integers cannot fail.
    out.extend(postcard::to_allocvec(op).unwrap_or_default());
    out
}

pub(crate) fn replay(entry: u64, batch: &[u8]) -> Vec<u8> {
    let mut out = vec![REPLAY];
    out.extend_from_slice(&entry.to_le_bytes());
    out.extend_from_slice(batch);
    out
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
