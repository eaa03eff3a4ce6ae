//! The typical PurchaseOrder activity: begin; update PO_Number (10 chars),
//! Customer (16), Region (6); update Amount (float), Quantity (int); update
//! Status ("Shipped"); end. Five events, ~170 bytes encoded.

use bamdb::model::{encode_batch, ActivityDefinition, Event, EventKind, Limits, Timestamp, Value};
use bamdb::{EventStream, StoreError};

/// The activity name every row uses.
pub const ACTIVITY: &str = "PurchaseOrder";

/// Events per activity.
pub const EVENTS_PER_ACTIVITY: usize = 5;

/// The definition deployed into bamdb stores.
pub fn definition() -> ActivityDefinition {
    serde_json::from_str(
        r#"{"name":"PurchaseOrder","items":[
            {"name":"PO_Number","type":"text","max_len":10},
            {"name":"Customer","type":"text","max_len":16},
            {"name":"Region","type":"text","max_len":6},
            {"name":"Amount","type":"float"},
            {"name":"Quantity","type":"int"},
            {"name":"Status","type":"text","max_len":16}
        ]}"#,
    )
    .expect("the PurchaseOrder definition is valid JSON")
}

/// The field values of activity `n` of producer `thread`. Fixed-width ids
/// keep every batch of a given size the same encoded length.
pub struct Po {
    pub id: String,
    pub po_number: String,
    pub customer: String,
    pub region: &'static str,
    pub amount: f64,
    pub quantity: i64,
}

const REGIONS: [&str; 4] = ["EMEA-N", "EMEA-S", "AMER-W", "APAC-E"];

impl Po {
    pub fn new(thread: usize, n: u64) -> Po {
        Po {
            id: format!("PO{thread:02}{n:012}"),
            po_number: format!("N{:09}", n % 1_000_000_000),
            customer: format!("Customer-{:07}", n % 10_000_000),
            region: REGIONS[(n % 4) as usize],
            amount: 100.0 + (n % 10_000) as f64 * 0.25,
            quantity: (n % 100) as i64 + 1,
        }
    }

    /// Pushes the five events into a bamdb stream through its public API.
    pub fn report<S: EventStream>(&self, s: &mut S) -> Result<(), StoreError> {
        s.begin(ACTIVITY, &self.id)?;
        s.update(
            ACTIVITY,
            &self.id,
            [
                ("PO_Number", Value::from(self.po_number.as_str())),
                ("Customer", Value::from(self.customer.as_str())),
                ("Region", Value::from(self.region)),
            ],
        )?;
        s.update(
            ACTIVITY,
            &self.id,
            [
                ("Amount", Value::from(self.amount)),
                ("Quantity", Value::from(self.quantity)),
            ],
        )?;
        s.update(ACTIVITY, &self.id, [("Status", "Shipped")])?;
        s.end(ACTIVITY, &self.id)?;
        Ok(())
    }

    /// The same five events as values, for encoding with `encode_batch`.
    pub fn events(&self, ts: Timestamp) -> [Event; EVENTS_PER_ACTIVITY] {
        let ev = |kind| Event {
            ts,
            activity: ACTIVITY.to_owned(),
            id: self.id.clone(),
            kind,
        };
        [
            ev(EventKind::Begin),
            ev(EventKind::Update(vec![
                ("PO_Number".into(), self.po_number.as_str().into()),
                ("Customer".into(), self.customer.as_str().into()),
                ("Region".into(), self.region.into()),
            ])),
            ev(EventKind::Update(vec![
                ("Amount".into(), self.amount.into()),
                ("Quantity".into(), self.quantity.into()),
            ])),
            ev(EventKind::Update(vec![("Status".into(), "Shipped".into())])),
            ev(EventKind::End),
        ]
    }
}

/// The encoded batch of activities `first..first + count` of `thread`: the
/// exact bytes a bamdb stream would commit for them.
pub fn encode(thread: usize, first: u64, count: usize, seq: u64) -> Vec<u8> {
    let ts = Timestamp::now();
    let events: Vec<Event> = (0..count as u64)
        .flat_map(|i| Po::new(thread, first + i).events(ts))
        .collect();
    encode_batch(thread as u32, seq, &events, &Limits::default())
        .expect("the PurchaseOrder workload encodes within the default limits")
}
