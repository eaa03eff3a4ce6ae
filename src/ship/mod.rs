//! Beyond one machine: edge boxes ship their producers' message boxes
//! through NATS JetStream to a central event bus.
//!
//! ```text
//!  edge box                         NATS JetStream               central
//!  app -> MessageBox --bamdb ship--> stream (bamdb.S.<box id>) --> bamdb bus --nats -> store
//! ```
//!
//! - The **shipper** (`Shipper`, `bamdb ship`) reads a box's committed
//!   frames in LSN order and publishes runs of them as [`message`]s to the
//!   box's subject, with a message id of (box id, LSNs) for JetStream's
//!   de-duplication and the expected last sequence of the subject, so the
//!   stream holds each box's frames once and in order. It advances the
//!   box's `APPLIED` mark (the producer then deletes what is shipped) only
//!   after JetStream acknowledged.
//! - The **central bus** (`NatsSource`, `bamdb bus --nats`) reads the
//!   stream through a durable consumer, hands the frames to
//!   [`crate::Store::append_shipped`] (exactly once per (box, LSN), in
//!   order, by the store's own per-box mark) and acknowledges a message
//!   only once its frames are imported.
//!
//! The transport needs the `nats` cargo feature (an async runtime and the
//! NATS client); the message format is always built, so the store and the
//! fuzz targets read it without them.

#[cfg(feature = "nats")]
mod central;
#[cfg(feature = "nats")]
mod error;
#[cfg(feature = "nats")]
mod jetstream;
pub mod message;
#[cfg(feature = "nats")]
mod shipper;
mod status;

#[cfg(feature = "nats")]
pub use central::{NatsSource, SourceOptions, SourceReport};
#[cfg(feature = "nats")]
pub use error::ShipError;
#[cfg(feature = "nats")]
pub use jetstream::StreamSettings;
#[cfg(feature = "nats")]
pub use shipper::{ShipOptions, ShipReport, Shipper};
pub use status::{read_sources, SourceStatus, SOURCES_FILE};
