//! XES (IEEE 1849-2016, eXtensible Event Stream): one `<trace>` per
//! instance, for single-case process mining.
//!
//! - The log declares the Concept, Time and Lifecycle extensions and a
//!   classifier on `concept:name`; its own `concept:name` is the activity.
//! - A trace's attributes: `concept:name` = the instance id,
//!   `bamdb:status` (`active`/`completed`), then its set items, typed by
//!   the definition (`string`, `int`, `float`, `boolean`, `date`).
//! - Its events are the [`super::milestones`] of its parts in time order:
//!   a part's begin (`lifecycle:transition` `start`) and end (`complete`)
//!   are named after the activity (the root) or `Activity continuation`
//!   (a continuation part, whose token is the event's `bamdb:part`); an
//!   update is an event `update` (`complete`) carrying the items it set.
//!   `time:timestamp` is RFC 3339 in UTC.
//!
//! Text is escaped for XML (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`,
//! and tabs and line breaks as character references so that attribute
//! normalisation keeps them); a control character XML 1.0 cannot carry is
//! written as U+FFFD.

use std::io::Write;

use crate::model::{ActivityDefinition, ActivityInstance, InstancePart, Value};

use super::{milestones, ExportError, MilestoneKind};

/// `text` escaped for an XML attribute value (see the module docs).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let plain =
        |c: char| c >= ' ' && !matches!(c, '&' | '<' | '>' | '"' | '\'' | '\u{FFFE}' | '\u{FFFF}');
    if text.chars().all(plain) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One typed XES attribute element.
fn attribute(key: &str, value: &Value) -> String {
    let (tag, text) = match value {
        Value::Text(t) => ("string", escape(t).into_owned()),
        Value::Int(i) => ("int", i.to_string()),
        Value::Float(f) => ("float", format!("{f:?}")),
        Value::Bool(b) => ("boolean", b.to_string()),
        Value::Timestamp(t) => ("date", t.to_string()),
    };
    format!("<{tag} key=\"{}\" value=\"{text}\"/>", escape(key))
}

/// Writes an XES log of one activity's instances.
pub struct XesWriter<W: Write> {
    out: W,
    activity: String,
}

impl<W: Write> XesWriter<W> {
    /// Writes the log's head for `def` to `out`.
    pub fn new(mut out: W, def: &ActivityDefinition) -> Result<XesWriter<W>, ExportError> {
        let head = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000000Z"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="{}"/>
"#,
            escape(&def.name)
        );
        out.write_all(head.as_bytes())?;
        Ok(XesWriter {
            out,
            activity: def.name.clone(),
        })
    }

    /// Writes `inst` as a trace of its `parts`' milestones (the parts as
    /// `Store::parts` returns them).
    pub fn write_instance(
        &mut self,
        inst: &ActivityInstance,
        parts: &[InstancePart],
    ) -> Result<(), ExportError> {
        let mut t = String::with_capacity(1024);
        t.push_str("  <trace>\n    ");
        t.push_str(&attribute("concept:name", &Value::Text(inst.id.clone())));
        let status = match inst.status {
            crate::model::Status::Active => "active",
            crate::model::Status::Completed => "completed",
        };
        t.push_str("\n    ");
        t.push_str(&attribute("bamdb:status", &Value::from(status)));
        for (name, value) in &inst.items {
            t.push_str("\n    ");
            t.push_str(&attribute(name, value));
        }
        t.push('\n');
        let mut events = milestones(parts);
        events.sort_by_key(|m| m.at);
        for m in &events {
            let name = if m.root {
                self.activity.clone()
            } else {
                format!("{} continuation", self.activity)
            };
            let (name, transition, items): (String, &str, &[(String, Value)]) = match &m.kind {
                MilestoneKind::Begin => (name, "start", &[]),
                MilestoneKind::End => (name, "complete", &[]),
                MilestoneKind::Update(items) => ("update".to_owned(), "complete", items),
            };
            t.push_str("    <event>\n      ");
            t.push_str(&attribute("concept:name", &Value::Text(name)));
            t.push_str("\n      ");
            t.push_str(&attribute("lifecycle:transition", &Value::from(transition)));
            t.push_str("\n      ");
            t.push_str(&attribute("time:timestamp", &Value::Timestamp(m.at)));
            if !m.root {
                t.push_str("\n      ");
                t.push_str(&attribute("bamdb:part", &Value::Text(m.part.clone())));
            }
            for (n, v) in items {
                t.push_str("\n      ");
                t.push_str(&attribute(n, v));
            }
            t.push_str("\n    </event>\n");
        }
        t.push_str("  </trace>\n");
        self.out.write_all(t.as_bytes())?;
        Ok(())
    }

    /// Closes the log; flushes and returns the output.
    pub fn finish(mut self) -> Result<W, ExportError> {
        self.out.write_all(b"</log>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}
