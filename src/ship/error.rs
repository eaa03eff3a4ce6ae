//! The errors of shipping through NATS, for the shipper and the central
//! bus alike.

use crate::error::StoreError;
use crate::wal::{Lsn, WalError};

/// What went wrong shipping or receiving frames. Outages (the server down,
/// timeouts, a lost connection) are not errors: both sides wait and try
/// again until stopped.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// A setting is not usable (the stream's name, the URL, a size).
    #[error("invalid setting: {0}")]
    InvalidInput(String),
    /// The message box or the store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The NATS server refused something trying again will not fix.
    #[error("NATS: {what}: {reason}")]
    Nats {
        /// What was being done.
        what: String,
        /// What the server or client said.
        reason: String,
    },
    /// A frame of the box is larger than one message may be: raise the
    /// server's `max_payload` (and the shipper's message size), or flush
    /// smaller batches.
    #[error("frame {lsn} of the box is {bytes} bytes, but a message takes at most {max_message} bytes of frames (the NATS server's max_payload, or the shipper's max_message_bytes): raise them, or flush smaller batches")]
    FrameTooLarge {
        /// The frame's LSN.
        lsn: Lsn,
        /// Its size.
        bytes: usize,
        /// The most a message may carry.
        max_message: usize,
    },
}

impl From<WalError> for ShipError {
    fn from(e: WalError) -> Self {
        ShipError::Store(e.into())
    }
}
