//! The typical PurchaseOrder activity of `bamdb::fixture` (begin; update
//! PO_Number, Customer, Region; update Amount, Quantity; update Status;
//! end: five events, ~170 bytes encoded), and its encoded batches for the
//! peers that store bytes.

use bamdb::fixture::{self, TypicalOrder};
use bamdb::model::{encode_batch, ActivityDefinition, Event, Limits, Timestamp};

pub use bamdb::fixture::{ACTIVITY, TYPICAL_EVENTS as EVENTS_PER_ACTIVITY};

/// The field values of activity `n` of producer `thread`.
pub type Po = TypicalOrder;

/// The definition deployed into bamdb stores.
pub fn definition() -> ActivityDefinition {
    fixture::definition(fixture::TYPICAL_ITEMS)
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
