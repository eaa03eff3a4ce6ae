//! What an operator (or a deployment) does to the state, through control
//! frames in the message box so it is applied in order and replayed after
//! a crash: deploy definitions all or nothing, complete an active instance
//! now, remove an active or pending one.

use std::collections::BTreeMap;

use super::state::{BusState, Key, Stamp};
use crate::model::ActivityDefinition;

/// The producer id of operator actions' stamps: greater than any stream's,
/// so an operator's completion sorts after the events it overrides.
pub(super) const OPERATOR: u32 = u32::MAX;

impl BusState {
    /// Completes the instance `key` belongs to now, at `time`, whatever
    /// parts have not ended (an operator's decision, as in BAM).
    pub fn force_complete(&mut self, key: &Key, time: i64) -> Result<(), String> {
        let top = self.visible_top(key)?;
        let before = self.versions(std::slice::from_ref(key));
        let stamp = Stamp {
            ts: time,
            producer: OPERATOR,
            seq: u64::MAX,
            index: 0,
        };
        if let Some(root) = self.nodes.get_mut(&top) {
            if root.ended.is_none() {
                root.ended = Some(stamp);
            }
            root.forced = root.forced.min(Some(stamp)).or(Some(stamp));
        }
        self.complete(&top);
        let after = self.versions(std::slice::from_ref(&top));
        self.update_aggregations(before, after);
        Ok(())
    }

    /// Removes the instance `key` belongs to (every part) from the active
    /// state; pending trees can be removed too.
    pub fn remove(&mut self, key: &Key) -> Result<(), String> {
        if !self.nodes.contains_key(key) {
            return Err(format!(
                "{}/{} is not an active or pending instance",
                key.0, key.1
            ));
        }
        let before = self.versions(std::slice::from_ref(key));
        let top = self.top(key);
        for k in self.subtree(&top) {
            self.nodes.remove(&k);
        }
        self.update_aggregations(before, BTreeMap::new());
        Ok(())
    }

    fn visible_top(&self, key: &Key) -> Result<Key, String> {
        if !self.nodes.contains_key(key) {
            return Err(format!("{}/{} is not an active instance", key.0, key.1));
        }
        let top = self.top(key);
        if self.nodes.get(&top).is_some_and(|n| n.begun.is_some()) {
            Ok(top)
        } else {
            Err(format!(
                "{}/{} is pending (never begun); remove it instead",
                key.0, key.1
            ))
        }
    }

    /// Deploys several definitions all or nothing: each is checked against
    /// the deployed ones and the earlier ones in the list first.
    pub fn deploy_all(&mut self, defs: Vec<ActivityDefinition>) -> Result<(), String> {
        let mut staged = self.definitions.clone();
        let count = defs.len();
        for (i, def) in defs.into_iter().enumerate() {
            let named = |e: String| {
                format!(
                    "definition {} of {count} ({}): {e}; nothing was deployed",
                    i + 1,
                    def.name
                )
            };
            def.validate().map_err(|e| named(e.to_string()))?;
            if let Some(old) = staged.get(&def.name) {
                crate::model::check_upgrade(old, &def).map_err(|e| named(e.to_string()))?;
            }
            staged.insert(def.name.clone(), def);
        }
        self.definitions = staged;
        Ok(())
    }
}

#[cfg(test)]
#[path = "operator_tests.rs"]
mod tests;
