//! OCEL 2.0 JSON (the object-centric event log standard,
//! <https://www.ocel-standard.org/>): one JSON object with the members
//! `eventTypes`, `objects`, `events` and `objectTypes`, in that order
//! (the object types last: the other activities that relationships name
//! are known only then).
//!
//! - **Object types**: the activity (e.g. `PurchaseOrder`) and its
//!   continuation parts (`PurchaseOrder continuation`), each with the
//!   definition's items as attributes (`string`, `integer`, `float`,
//!   `boolean`, `time`); plus, for relationships to instances of other
//!   activities, their activity with no attributes.
//! - **Objects**: each instance (`id` = its id, `attributes` = its merged
//!   items as `bamdb search` shows them, each with the time of the event
//!   that set it) and each continuation part (`id` = its token,
//!   `attributes` = the items that part set). Relationships: instance →
//!   part `continuation`, part → the part it continues `continues`,
//!   instance → related instance `related`. A related instance of another
//!   activity has the object id `Activity:id` (ids are unique only within
//!   an activity); one that is not exported itself is written as an
//!   object without attributes, so every relationship resolves.
//! - **Event types**: `Activity begin`, `Activity update` (attributes:
//!   the items) and `Activity end`.
//! - **Events**: the [`super::milestones`] of every part, ids `e1`,
//!   `e2`, ...; each relates to its part (qualifier `part`) and, for a
//!   continuation, to the instance (`instance`).
//!
//! Objects are written as they come and the events go to a temporary
//! file meanwhile, appended after the objects at [`OcelWriter::finish`]:
//! one pass over the instances, and memory bounded by the ids of the
//! relationships' targets (kept to write the objects they name).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};

use serde_json::{json, Value as J};

use crate::model::{ActivityDefinition, ActivityInstance, InstancePart, ItemType, Timestamp};

use super::{milestones, ExportError, MilestoneKind};

/// The OCEL attribute type of an item type.
fn attribute_type(ty: ItemType) -> &'static str {
    match ty {
        ItemType::Text { .. } => "string",
        ItemType::Int => "integer",
        ItemType::Float => "float",
        ItemType::Bool => "boolean",
        ItemType::Timestamp => "time",
    }
}

/// Writes an OCEL 2.0 JSON log of one activity's instances.
pub struct OcelWriter<W: Write> {
    out: W,
    activity: String,
    part_type: String,
    /// The attributes of the activity's object types.
    items: Vec<J>,
    /// The events, written after the objects.
    events: BufWriter<File>,
    event_count: u64,
    objects_written: bool,
    /// Object ids written.
    written: HashSet<String>,
    /// Object ids named by a relationship to another instance, with
    /// their activity.
    named: HashMap<String, String>,
}

impl<W: Write> OcelWriter<W> {
    /// Writes the types of `def`'s log to `out`; the events wait in a
    /// temporary file until [`OcelWriter::finish`].
    pub fn new(mut out: W, def: &ActivityDefinition) -> Result<OcelWriter<W>, ExportError> {
        let items: Vec<J> = def
            .items
            .iter()
            .map(|i| json!({"name": i.name, "type": attribute_type(i.ty)}))
            .collect();
        let part_type = format!("{} continuation", def.name);
        let event_types = json!([
            {"name": format!("{} begin", def.name), "attributes": []},
            {"name": format!("{} update", def.name), "attributes": items},
            {"name": format!("{} end", def.name), "attributes": []},
        ]);
        out.write_all(b"{\"eventTypes\":")?;
        serde_json::to_writer(&mut out, &event_types).map_err(std::io::Error::from)?;
        out.write_all(b",\n\"objects\":[")?;
        Ok(OcelWriter {
            out,
            activity: def.name.clone(),
            items,
            part_type,
            events: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            event_count: 0,
            objects_written: false,
            written: HashSet::new(),
            named: HashMap::new(),
        })
    }

    fn object(&mut self, object: &J) -> Result<(), ExportError> {
        self.out
            .write_all(if self.objects_written { b",\n" } else { b"\n" })?;
        serde_json::to_writer(&mut self.out, object).map_err(std::io::Error::from)?;
        self.objects_written = true;
        Ok(())
    }

    /// Writes `inst` and its `parts` (as `Store::parts` returns them; the
    /// root first) as objects, and their milestones as events.
    pub fn write_instance(
        &mut self,
        inst: &ActivityInstance,
        parts: &[InstancePart],
    ) -> Result<(), ExportError> {
        // The instance: merged items, each stamped with the latest event
        // of any part that set it.
        let set_at = |name: &str| -> Timestamp {
            parts
                .iter()
                .flat_map(|p| p.items.iter())
                .filter(|i| i.name == name)
                .map(|i| i.at)
                .max()
                .or(inst.begin)
                .unwrap_or(Timestamp::EPOCH)
        };
        let attributes: Vec<J> = inst
            .items
            .iter()
            .map(|(n, v)| json!({"name": n, "time": set_at(n), "value": v.to_json()}))
            .collect();
        let mut relationships: Vec<J> = parts
            .iter()
            .filter(|p| p.parent.is_some())
            .map(|p| json!({"objectId": p.id, "qualifier": "continuation"}))
            .collect();
        for r in &inst.relationships {
            let id = if r.activity == self.activity {
                r.id.clone()
            } else {
                format!("{}:{}", r.activity, r.id)
            };
            relationships.push(json!({"objectId": id, "qualifier": "related"}));
            self.named.entry(id).or_insert_with(|| r.activity.clone());
        }
        let object = json!({
            "id": inst.id,
            "type": self.activity,
            "attributes": attributes,
            "relationships": relationships,
        });
        self.object(&object)?;
        self.written.insert(inst.id.clone());
        for part in parts.iter().filter(|p| p.parent.is_some()) {
            let attributes: Vec<J> = part
                .items
                .iter()
                .map(|i| json!({"name": i.name, "time": i.at, "value": i.value.to_json()}))
                .collect();
            let continues = part.parent.as_deref().unwrap_or(&inst.id);
            let object = json!({
                "id": part.id,
                "type": self.part_type,
                "attributes": attributes,
                "relationships": [{"objectId": continues, "qualifier": "continues"}],
            });
            self.object(&object)?;
            self.written.insert(part.id.clone());
        }
        for m in milestones(parts) {
            self.event_count += 1;
            let (what, attributes): (&str, Vec<J>) = match &m.kind {
                MilestoneKind::Begin => ("begin", Vec::new()),
                MilestoneKind::End => ("end", Vec::new()),
                MilestoneKind::Update(items) => (
                    "update",
                    items
                        .iter()
                        .map(|(n, v)| json!({"name": n, "value": v.to_json()}))
                        .collect(),
                ),
            };
            let mut relationships = vec![json!({"objectId": m.part, "qualifier": "part"})];
            if !m.root {
                relationships.push(json!({"objectId": inst.id, "qualifier": "instance"}));
            }
            let event = json!({
                "id": format!("e{}", self.event_count),
                "type": format!("{} {what}", self.activity),
                "time": m.at,
                "attributes": attributes,
                "relationships": relationships,
            });
            self.events
                .write_all(if self.event_count == 1 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut self.events, &event).map_err(std::io::Error::from)?;
        }
        Ok(())
    }

    /// Writes the objects named by relationships but not exported, then
    /// the events; flushes and returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        let mut named: Vec<(String, String)> = std::mem::take(&mut self.named)
            .into_iter()
            .filter(|(id, _)| !self.written.contains(id))
            .collect();
        named.sort();
        let mut other_types: Vec<&str> = named
            .iter()
            .map(|(_, a)| a.as_str())
            .filter(|a| *a != self.activity)
            .collect();
        other_types.sort_unstable();
        other_types.dedup();
        for (id, activity) in &named {
            let object = json!({"id": id, "type": activity, "attributes": [], "relationships": []});
            self.object(&object)?;
        }
        // The object types come last, once the other activities named by
        // relationships are known (a JSON object's members are unordered).
        let mut types = vec![
            json!({"name": self.activity, "attributes": self.items}),
            json!({"name": self.part_type, "attributes": self.items}),
        ];
        types.extend(
            other_types
                .iter()
                .map(|a| json!({"name": a, "attributes": []})),
        );
        self.out.write_all(b"],\n\"events\":[")?;
        let mut events = self.events.into_inner().map_err(|e| e.into_error())?;
        events.seek(SeekFrom::Start(0))?;
        std::io::copy(&mut events, &mut self.out)?;
        self.out.write_all(b"],\n\"objectTypes\":")?;
        serde_json::to_writer(&mut self.out, &types).map_err(std::io::Error::from)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
