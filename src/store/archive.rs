//! Reads of the archive: completed instances that left the online store
//! past the retention window (see [`crate::StoreOptions::retention`]).
//! Searches and aggregations read it too when their selection asks
//! ([`Selection::include_archived`](crate::query::Selection::include_archived)).

use super::{queries, Store, StoreError};
use crate::ActivityInstance;

impl Store {
    /// Archived instances of `activity` (past the retention window, see
    /// [`StoreOptions::retention`](crate::StoreOptions::retention)).
    pub fn archived(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        queries::archived(self, activity)
    }

    /// An archived instance by id or continuation token.
    pub fn get_archived(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<ActivityInstance>, StoreError> {
        queries::get_archived(self, activity, id)
    }
}
