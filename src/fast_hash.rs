//! Hash maps for the import path's short keys (activity names, ids, item
//! names): foldhash instead of std's SipHash, which cost a fifth of a
//! pushed event's instructions before the encoder got its own table, and
//! about a tenth of an imported event's. Still seeded per process, so keys
//! chosen by a client cannot be aimed at one bucket ahead of time.

/// A `HashMap` with the fast seeded hash.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// A `HashSet` with the fast seeded hash.
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
