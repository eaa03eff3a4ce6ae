//! Export of an activity's instances to files other tools read: CSV,
//! OCEL 2.0 JSON and XES for process mining, Arrow IPC and Parquet (the
//! last two behind the cargo features `arrow` and `parquet`). `bamdb
//! export` drives these writers; an application can too. They use only
//! the public query API: the rows of a [`crate::query::Search`] (what
//! `Store::search_stream` returns) for the tables, instances with their
//! parts ([`crate::model::InstancePart`], from `Store::parts`) for the
//! event logs.
//!
//! # Columns of the tables (csv, arrow, parquet)
//!
//! `id`, `status`, `begin`, `end`, `last_modified`, then every item of the
//! activity definition in its order ([`columns`]), typed by the
//! definition:
//!
//! | bamdb | Arrow / Parquet | CSV |
//! |---|---|---|
//! | `id` | Utf8 | text |
//! | `status` | Dictionary(Int32, Utf8): `active`, `completed` | text |
//! | text item | Dictionary(Int32, Utf8) | RFC 4180 field |
//! | int | Int64 | decimal |
//! | float | Float64 | as JSON writes it |
//! | bool | Boolean | `true` / `false` |
//! | timestamp, `begin`, `end`, `last_modified` | Timestamp(Microsecond, "UTC") | RFC 3339, six fraction digits |
//!
//! An unset value is null (CSV: an empty field; the empty text is `""`).
//!
//! # Event logs (ocel, xes)
//!
//! Each instance is turned into [`Milestone`]s, one list per part (the
//! root, then each continuation, as `Store::parts` returns them): its
//! `begin`, the items it set (grouped by the time of the event that set
//! them: an `update`), and its `end`. See [`ocel`] and [`xes`] for how
//! they are written.

use std::fmt;

use crate::model::{ActivityDefinition, InstancePart, ItemType, Timestamp, Value};

#[cfg(feature = "arrow")]
pub mod arrow;
pub mod csv;
pub mod ocel;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod xes;

/// Rows read per page of an ordered search while exporting
/// (65,536: two record batches), so a page fills whole batches.
pub fn arrow_batch_rows() -> usize {
    1 << 16
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values (RFC 4180) with a header line.
    Csv,
    /// OCEL 2.0 JSON: objects (instances and continuation parts) and
    /// events (their milestones).
    Ocel,
    /// IEEE 1849 XES: one trace per instance.
    Xes,
    /// Arrow IPC file (feature `arrow`).
    Arrow,
    /// Parquet (feature `parquet`).
    Parquet,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Parquet,
        Format::Arrow,
        Format::Csv,
        Format::Ocel,
        Format::Xes,
    ];

    /// The name on the command line: `csv`, `ocel`, `xes`, `arrow`, `parquet`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ocel => "ocel",
            Format::Xes => "xes",
            Format::Arrow => "arrow",
            Format::Parquet => "parquet",
        }
    }

    /// Whether this build can write the format (arrow and parquet need
    /// their cargo features).
    // Without the features, clippy sees `false` arms and asks for matches!.
    #[allow(clippy::match_like_matches_macro)]
    pub fn available(self) -> bool {
        match self {
            Format::Arrow => cfg!(feature = "arrow"),
            Format::Parquet => cfg!(feature = "parquet"),
            _ => true,
        }
    }

    /// Whether the format is text (it may go to standard output).
    pub fn is_text(self) -> bool {
        matches!(self, Format::Csv | Format::Ocel | Format::Xes)
    }

    /// Whether the format is an event log, written from instances and
    /// their parts rather than rows.
    pub fn is_event_log(self) -> bool {
        matches!(self, Format::Ocel | Format::Xes)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the output failed.
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    /// A value does not fit its column (an item whose value has another
    /// type than its definition says).
    #[error(
        "instance {id:?}: item {item:?} holds a {found} value, the definition says {expected}"
    )]
    Type {
        /// The instance id.
        id: String,
        /// The item name.
        item: String,
        /// The value's type name.
        found: &'static str,
        /// The definition's type name.
        expected: &'static str,
    },
    /// The Arrow or Parquet writer refused (feature `arrow`/`parquet`).
    #[error("cannot encode the export: {0}")]
    Encode(String),
}

/// The type of an exported column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// The instance id (plain text: every value differs).
    Id,
    /// `active` or `completed`.
    Status,
    /// A text item.
    Text,
    /// A 64-bit integer item.
    Int,
    /// A 64-bit float item.
    Float,
    /// A boolean item.
    Bool,
    /// A time: an item, or `begin`, `end`, `last_modified`.
    Timestamp,
}

impl ColumnType {
    /// The column type of an item type.
    pub fn of(ty: ItemType) -> ColumnType {
        match ty {
            ItemType::Text { .. } => ColumnType::Text,
            ItemType::Int => ColumnType::Int,
            ItemType::Float => ColumnType::Float,
            ItemType::Bool => ColumnType::Bool,
            ItemType::Timestamp => ColumnType::Timestamp,
        }
    }
}

/// One exported column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name: a system field or an item name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
}

/// The number of system columns before the items: `id`, `status`,
/// `begin`, `end`, `last_modified`.
pub const SYSTEM_COLUMNS: usize = 5;

/// The exported columns of `def`: the system fields, then every item in
/// the definition's order (see the module docs).
pub fn columns(def: &ActivityDefinition) -> Vec<Column> {
    let system = [
        ("id", ColumnType::Id),
        ("status", ColumnType::Status),
        ("begin", ColumnType::Timestamp),
        ("end", ColumnType::Timestamp),
        ("last_modified", ColumnType::Timestamp),
    ];
    system
        .into_iter()
        .map(|(n, ty)| Column {
            name: n.to_owned(),
            ty,
        })
        .chain(def.items.iter().map(|i| Column {
            name: i.name.clone(),
            ty: ColumnType::of(i.ty),
        }))
        .collect()
}

/// The values of a search row (default columns: the system fields, then
/// the set items in definition order) laid out as [`columns`]: one slot
/// per column, `None` where unset. Rows with other columns (a search with
/// `columns` set) are matched by name.
pub fn row_values<'r>(
    row: &'r crate::query::Row,
    columns: &[Column],
    out: &mut Vec<Option<&'r Value>>,
) {
    out.clear();
    out.resize(columns.len(), None);
    // The default layout: items follow in definition order, so one walk
    // matches them; anything else falls back to a search by name.
    let mut next = 0;
    for (name, value) in &row.values {
        let at = columns[next..]
            .iter()
            .position(|c| c.name == *name)
            .map(|i| i + next)
            .or_else(|| columns[..next].iter().position(|c| c.name == *name));
        if let Some(at) = at {
            out[at] = value.as_ref();
            next = at + 1;
        }
    }
}

/// What happened to one part of an instance at one time.
#[derive(Debug, Clone, PartialEq)]
pub enum MilestoneKind {
    /// The part began.
    Begin,
    /// The part set these items (name, value) at this time: the latest
    /// value of each item the part holds, stamped with the event that set
    /// it (earlier values of an item are not kept by the store).
    Update(Vec<(String, Value)>),
    /// The part ended.
    End,
}

/// One milestone of an instance's part.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    /// The part: the instance id (root) or a continuation token.
    pub part: String,
    /// Whether the part is the root.
    pub root: bool,
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: MilestoneKind,
}

/// The milestones of an instance's parts, part by part, each part's in
/// time order (begin first and end last at equal times).
pub fn milestones(parts: &[InstancePart]) -> Vec<Milestone> {
    let mut out = Vec::new();
    for part in parts {
        let mut mine: Vec<(Timestamp, u8, MilestoneKind)> = Vec::new();
        if let Some(b) = part.begin {
            mine.push((b, 0, MilestoneKind::Begin));
        }
        let mut times: Vec<Timestamp> = part.items.iter().map(|i| i.at).collect();
        times.sort();
        times.dedup();
        for t in times {
            let items = part
                .items
                .iter()
                .filter(|i| i.at == t)
                .map(|i| (i.name.clone(), i.value.clone()))
                .collect();
            mine.push((t, 1, MilestoneKind::Update(items)));
        }
        if let Some(e) = part.end {
            mine.push((e, 2, MilestoneKind::End));
        }
        mine.sort_by_key(|(t, rank, _)| (*t, *rank));
        out.extend(mine.into_iter().map(|(at, _, kind)| Milestone {
            part: part.id.clone(),
            root: part.parent.is_none(),
            at,
            kind,
        }));
    }
    out
}

/// The parts of an instance whose parts the store no longer keeps (an
/// archived one): its root alone, holding every item, each stamped with
/// the instance's `last_modified`.
pub fn root_part(inst: &crate::model::ActivityInstance) -> InstancePart {
    let at = inst
        .last_modified
        .or(inst.begin)
        .unwrap_or(Timestamp::EPOCH);
    InstancePart {
        id: inst.id.clone(),
        parent: None,
        begin: inst.begin,
        end: inst.end,
        items: inst
            .items
            .iter()
            .map(|(name, value)| crate::model::PartItem {
                name: name.clone(),
                value: value.clone(),
                at,
                producer: 0,
            })
            .collect(),
    }
}
