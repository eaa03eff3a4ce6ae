//! The bus's state as what a query reads ([`crate::query::run::Source`]):
//! the store takes a query's snapshot from it under the state's read lock
//! and leaves the running to `query::run`.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::bus::state::BusState;
use crate::model::{ActivityInstance, StatusFilter};
use crate::query::run::Source;
use crate::query::Selection;
use crate::segments::error::ImportFileError;
use crate::segments::file::ImportFile;

impl Source for BusState {
    fn instances_in_memory(
        &self,
        activity: &str,
        status: StatusFilter,
        first: Option<(&Selection, usize)>,
    ) -> Result<Vec<ActivityInstance>, ImportFileError> {
        BusState::instances_in_memory(self, activity, status, first)
    }

    fn import_files(&self) -> &[Arc<ImportFile>] {
        &self.files
    }

    fn superseded_in(&self, file: &ImportFile, activity: &str) -> BTreeSet<String> {
        BusState::superseded_in(self, file)
            .into_iter()
            .filter(|(a, _)| a == activity)
            .map(|(_, id)| id)
            .collect()
    }
}
