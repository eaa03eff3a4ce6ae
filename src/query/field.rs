//! [`Field`]: what a filter, column, group-by or measure reads from an
//! instance — an item or one of the system fields — and the borrowed
//! [`ValueRef`] it reads, without cloning.

use std::fmt;

use crate::model::{ActivityDefinition, ActivityInstance, ItemType, Status};

use super::error::QueryError;

/// A field of an activity instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `id`: the instance id (text, never empty).
    Id,
    /// `status`: `active` or `completed` (never empty).
    Status,
    /// `begin`: when it began (timestamp).
    Begin,
    /// `end`: when it completed (timestamp, empty while active).
    End,
    /// `last_modified`: the latest event applied (timestamp).
    LastModified,
    /// An item of the activity definition, by exact name.
    Item(String),
}

impl Field {
    /// The system field spelled exactly `name` (lowercase), else the item
    /// `name`.
    pub fn new(name: &str) -> Field {
        match name {
            "id" => Field::Id,
            "status" => Field::Status,
            "begin" => Field::Begin,
            "end" => Field::End,
            "last_modified" => Field::LastModified,
            other => Field::Item(other.to_owned()),
        }
    }

    /// The field's name as written in queries.
    pub fn name(&self) -> &str {
        match self {
            Field::Id => "id",
            Field::Status => "status",
            Field::Begin => "begin",
            Field::End => "end",
            Field::LastModified => "last_modified",
            Field::Item(name) => name,
        }
    }

    /// Reads the field from `inst`; `None` when it is unset ("empty").
    pub(crate) fn get<'a>(&self, inst: &'a ActivityInstance) -> Option<ValueRef<'a>> {
        match self {
            Field::Id => Some(ValueRef::Text(&inst.id)),
            Field::Status => Some(ValueRef::Text(status_name(inst.status))),
            Field::Begin => inst.begin.map(ValueRef::Timestamp),
            Field::End => inst.end.map(ValueRef::Timestamp),
            Field::LastModified => inst.last_modified.map(ValueRef::Timestamp),
            Field::Item(name) => inst.item(name).map(ValueRef::from),
        }
    }

    /// The field's declared type in `def`, or an error naming `role` when
    /// `def` has no such item. `status` reports [`FieldType::Status`].
    pub(crate) fn resolve(
        &self,
        def: &ActivityDefinition,
        role: &'static str,
    ) -> Result<FieldType, QueryError> {
        Ok(match self {
            Field::Id => FieldType::Text,
            Field::Status => FieldType::Status,
            Field::Begin | Field::End | Field::LastModified => FieldType::Timestamp,
            Field::Item(name) => match def.item(name).map(|i| i.ty) {
                Some(ItemType::Text { .. }) => FieldType::Text,
                Some(ItemType::Int) => FieldType::Int,
                Some(ItemType::Float) => FieldType::Float,
                Some(ItemType::Bool) => FieldType::Bool,
                Some(ItemType::Timestamp) => FieldType::Timestamp,
                None => {
                    return Err(QueryError::UnknownField {
                        role,
                        field: name.clone(),
                        activity: def.name.clone(),
                    })
                }
            },
        })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lowercase text form of a status, as `status` filters compare it.
pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Completed => "completed",
    }
}

/// The type of a field as a query sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Text,
    Int,
    Float,
    Bool,
    Timestamp,
    /// `status`: text restricted to `active` / `completed`.
    Status,
}

impl FieldType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Timestamp => "timestamp",
            FieldType::Status => "status",
        }
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, FieldType::Int | FieldType::Float)
    }
}

/// A field value borrowed from an instance: the model's borrowed value.
pub(crate) use crate::model::ValueRef;
