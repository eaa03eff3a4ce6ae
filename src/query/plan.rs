//! An aggregation compiled for evaluation: the [`Plan`] (key fields,
//! bucket, measures) and the state of each [`Group`], shared by the row
//! path ([`super::aggregate`]), the column path ([`super::columnar`]) and
//! the maintained form ([`super::incremental`]).

use std::collections::BTreeMap;

use crate::model::ActivityInstance;

use super::bucket::{bucket_cell, BucketUnit};
use super::cell::{Cell, OrdCell};
use super::error::QueryError;
use super::field::{Field, ValueRef};
use super::measure::{Acc, Measure};
use super::result::{AggRow, AggregateResult};
use super::zone::Zone;

/// A group key: one cell per key column.
pub(crate) type GroupKey = Vec<OrdCell>;

/// An aggregation compiled for evaluation.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) group_by: Vec<Field>,
    pub(crate) bucket: Option<(BucketUnit, Field)>,
    /// The zone buckets are cut in.
    pub(crate) zone: Zone,
    measures: Vec<Measure>,
    columns: Vec<String>,
    removable: bool,
}

/// An aggregation's column names: `group_by`, then `<unit>(<field>)` for
/// the bucket (`day(end)`), then each measure's spec.
pub(crate) fn columns(
    group_by: &[String],
    bucket: Option<&(BucketUnit, String)>,
    measures: &[Measure],
) -> Vec<String> {
    let mut cols = group_by.to_vec();
    if let Some((unit, field)) = bucket {
        cols.push(format!("{}({field})", unit.name()));
    }
    cols.extend(measures.iter().map(ToString::to_string));
    cols
}

impl Plan {
    /// The plan of an aggregation's groups, bucket and measures;
    /// `removable` when instances will also be taken out of its groups
    /// (the maintained form), which min and max must prepare for.
    pub(crate) fn new(
        group_by: &[String],
        bucket: Option<&(BucketUnit, String)>,
        zone: &Zone,
        measures: &[Measure],
        removable: bool,
    ) -> Plan {
        Plan {
            group_by: group_by.iter().map(|g| Field::new(g)).collect(),
            bucket: bucket.map(|(u, f)| (*u, Field::new(f))),
            zone: zone.clone(),
            measures: measures.to_vec(),
            columns: columns(group_by, bucket, measures),
            removable,
        }
    }

    pub(crate) fn key(&self, inst: &ActivityInstance) -> GroupKey {
        let mut key: GroupKey = self
            .group_by
            .iter()
            .map(|f| OrdCell(Cell::key(f.get(inst))))
            .collect();
        if let Some((unit, field)) = &self.bucket {
            key.push(OrdCell(match field.get(inst) {
                Some(ValueRef::Timestamp(t)) => {
                    bucket_cell(unit.start(t.as_micros(), &self.zone), t, &self.zone)
                }
                _ => Cell::Null,
            }));
        }
        key
    }

    /// The fields the measures read.
    pub(crate) fn measure_fields(&self) -> Vec<Field> {
        let template = self.new_group();
        template
            .accs()
            .iter()
            .flat_map(|acc| {
                let (a, b) = acc.fields();
                [a.cloned(), b.cloned()]
            })
            .flatten()
            .collect()
    }

    pub(crate) fn new_group(&self) -> Group {
        Group {
            count: 0,
            accs: self
                .measures
                .iter()
                .map(|m| m.accumulator(self.removable))
                .collect(),
        }
    }

    /// The first measure of a group whose value overflows, as an error.
    pub(crate) fn check_overflow(
        &self,
        groups: &BTreeMap<GroupKey, Group>,
    ) -> Result<(), QueryError> {
        for (key, group) in groups.iter().filter(|(_, g)| g.count > 0) {
            for (measure, acc) in self.measures.iter().zip(&group.accs) {
                if acc.overflows() {
                    let cells: Vec<String> = key.iter().map(|c| c.0.to_string()).collect();
                    return Err(QueryError::Overflow {
                        measure: measure.to_string(),
                        group: format!("[{}]", cells.join(", ")),
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(&self, groups: &BTreeMap<GroupKey, Group>) -> AggregateResult {
        let mut rows: Vec<AggRow> = groups
            .iter()
            .filter(|(_, g)| g.count > 0)
            .map(|(key, g)| AggRow {
                cells: key.iter().map(|c| c.0.clone()).chain(g.results()).collect(),
            })
            .collect();
        if rows.is_empty() && self.group_by.is_empty() && self.bucket.is_none() {
            rows.push(AggRow {
                cells: self.new_group().results().collect(),
            });
        }
        AggregateResult {
            columns: self.columns.clone(),
            rows,
        }
    }
}

/// The state of one group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) count: u64,
    accs: Vec<Acc>,
}

impl Group {
    pub(crate) fn update(&mut self, inst: &ActivityInstance, add: bool) {
        if add {
            self.count += 1;
        } else {
            self.count = self.count.saturating_sub(1);
        }
        for acc in &mut self.accs {
            acc.update(inst, add);
        }
    }

    /// Adds what `other` (a group of the same plan) holds.
    pub(crate) fn merge(&mut self, other: &Group) {
        self.count += other.count;
        for (acc, o) in self.accs.iter_mut().zip(&other.accs) {
            acc.merge(o);
        }
    }

    /// Adds `group` to `groups` under `key`: merged into the group there,
    /// or inserted.
    pub(crate) fn merge_into(groups: &mut BTreeMap<GroupKey, Group>, key: GroupKey, group: Group) {
        match groups.get_mut(&key) {
            Some(g) => g.merge(&group),
            None => {
                groups.insert(key, group);
            }
        }
    }

    /// The accumulators, in measure order.
    pub(crate) fn accs(&self) -> &[Acc] {
        &self.accs
    }

    /// The accumulators, to feed them one measure at a time (the caller
    /// counts the instance once with [`Self::count_one`]).
    pub(crate) fn accs_mut(&mut self) -> &mut [Acc] {
        &mut self.accs
    }

    /// Counts one more instance, whose values the caller gives each
    /// accumulator through [`Self::accs_mut`].
    pub(crate) fn count_one(&mut self) {
        self.count += 1;
    }

    fn results(&self) -> impl Iterator<Item = Cell> + '_ {
        self.accs.iter().map(|a| a.result(self.count))
    }
}
