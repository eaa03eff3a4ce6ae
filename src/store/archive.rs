//! Reads of the archive: completed instances that left the online store
//! past the retention window (see [`crate::StoreOptions::retention`]).

use super::{Store, StoreError};
use crate::ActivityInstance;

impl Store {
    /// Archived instances of `activity` (past the retention window, see
    /// [`StoreOptions::retention`](crate::StoreOptions::retention)).
    pub fn archived(&self, activity: &str) -> Result<Vec<ActivityInstance>, StoreError> {
        let mut out = Vec::new();
        for file in self.bus.archive_files()? {
            for rec in file.records() {
                let rec = rec?;
                if rec.activity == activity {
                    out.push(rec.to_instance());
                }
            }
        }
        Ok(out)
    }

    /// An archived instance by id or continuation token.
    pub fn get_archived(
        &self,
        activity: &str,
        id: &str,
    ) -> Result<Option<ActivityInstance>, StoreError> {
        for file in self.bus.archive_files()?.iter().rev() {
            let found = file.get(activity, id)?;
            if let Some(rec) = found {
                return Ok(Some(rec.to_instance()));
            }
        }
        Ok(None)
    }
}
