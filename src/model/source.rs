//! Where quarantined data came from in the message box.

use serde::{Deserialize, Serialize};

/// Where a quarantined frame came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The message box LSNs it held (one for a frame; a range for a
    /// damaged region).
    pub lsns: (u64, u64),
    /// The message box segment file.
    pub segment: String,
    /// Byte offset in that file.
    pub offset: u64,
}
