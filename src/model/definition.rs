//! Activity definitions: the named, typed items an activity type carries,
//! their validation rules, and which re-deployments are compatible.
//!
//! JSON form (this is also what the store persists):
//!
//! ```json
//! {"name":"PurchaseOrder","items":[{"name":"Customer","type":"text","max_len":64},
//!  {"name":"Amount","type":"float"},{"name":"Received","type":"timestamp"}]}
//! ```
//!
//! Rules checked by [`ActivityDefinition::validate`]:
//! - activity and item names: 1 to [`MAX_NAME_LEN`] ASCII letters, digits or
//!   `_`, starting with a letter;
//! - text `max_len`: 1 to [`MAX_TEXT_LEN`] characters;
//! - at most [`MAX_ITEMS`] items, no two with the same name ignoring case;
//! - no item named exactly like a system field ([`SYSTEM_FIELDS`], lowercase).

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ModelError;

/// Longest activity or item name, in characters.
pub const MAX_NAME_LEN: usize = 128;
/// Largest `max_len` of a text item, in characters.
pub const MAX_TEXT_LEN: u32 = 4000;
/// Most items one activity definition may declare.
pub const MAX_ITEMS: usize = 1000;
/// Field names the store itself uses on every activity record.
pub const SYSTEM_FIELDS: [&str; 9] = [
    "id",
    "status",
    "begin",
    "end",
    "last_modified",
    "activity",
    "continuations",
    "references",
    "relationships",
];

/// A named activity type with typed items.
///
/// ```
/// use bamdb::model::{ActivityDefinition, ItemType};
///
/// let def: ActivityDefinition = serde_json::from_str(
///     r#"{"name":"PurchaseOrder","items":[{"name":"Customer","type":"text","max_len":64}]}"#,
/// )?;
/// def.validate()?;
/// assert_eq!(def.items[0].ty, ItemType::Text { max_len: 64 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityDefinition {
    /// The activity name, e.g. `PurchaseOrder`.
    pub name: String,
    /// The items, in declaration order.
    pub items: Vec<ItemDefinition>,
}

/// One typed item of an activity definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawItem", into = "RawItem")]
pub struct ItemDefinition {
    /// The item name, e.g. `Customer`.
    pub name: String,
    /// Its type.
    pub ty: ItemType,
}

/// The type of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    /// Text of at most `max_len` characters (1..=4000).
    Text {
        /// Longest accepted value, in characters.
        max_len: u32,
    },
    /// A signed 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// A boolean.
    Bool,
    /// A point in time (UTC microseconds).
    Timestamp,
}

impl ItemType {
    /// The JSON `type` string: `text`, `int`, `float`, `bool`, `timestamp`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ItemType::Text { .. } => "text",
            ItemType::Int => "int",
            ItemType::Float => "float",
            ItemType::Bool => "bool",
            ItemType::Timestamp => "timestamp",
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemType::Text { max_len } => write!(f, "text(max_len {max_len})"),
            other => f.write_str(other.type_name()),
        }
    }
}

/// The flat JSON shape of an item, `{"name", "type", "max_len"?}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_len: Option<u32>,
}

impl TryFrom<RawItem> for ItemDefinition {
    type Error = String;

    fn try_from(raw: RawItem) -> Result<Self, String> {
        let ty = match (raw.ty.as_str(), raw.max_len) {
            ("text", Some(max_len)) => ItemType::Text { max_len },
            ("text", None) => return Err(format!("text item {:?} needs a max_len", raw.name)),
            (other, Some(_)) if TYPES.contains(&other) => {
                return Err(format!(
                    "item {:?} has type {other}, only text takes a max_len",
                    raw.name
                ))
            }
            ("int", None) => ItemType::Int,
            ("float", None) => ItemType::Float,
            ("bool", None) => ItemType::Bool,
            ("timestamp", None) => ItemType::Timestamp,
            (other, _) => {
                return Err(format!(
                    "item {:?} has unknown type {other:?}, expected one of {}",
                    raw.name,
                    TYPES.join(", ")
                ))
            }
        };
        Ok(ItemDefinition { name: raw.name, ty })
    }
}

const TYPES: [&str; 5] = ["text", "int", "float", "bool", "timestamp"];

impl From<ItemDefinition> for RawItem {
    fn from(item: ItemDefinition) -> Self {
        let max_len = match item.ty {
            ItemType::Text { max_len } => Some(max_len),
            _ => None,
        };
        RawItem {
            name: item.name,
            ty: item.ty.type_name().to_string(),
            max_len,
        }
    }
}

/// Checks a name: 1..=128 ASCII letters, digits or `_`, starting with a letter.
fn check_name(what: &str, name: &str) -> Result<(), ModelError> {
    let reason = if name.is_empty() {
        format!("{what} name is empty")
    } else if name.chars().count() > MAX_NAME_LEN {
        format!(
            "{what} name {:?}... is {} characters, the limit is {MAX_NAME_LEN}",
            name.chars().take(32).collect::<String>(),
            name.chars().count()
        )
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("{what} name {name:?} must start with an ASCII letter")
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        format!("{what} name {name:?} contains {c:?}; only ASCII letters, digits and _ are allowed")
    } else {
        return Ok(());
    };
    Err(ModelError::InvalidDefinition { reason })
}

impl ActivityDefinition {
    /// Looks an item up by exact name.
    pub fn item(&self, name: &str) -> Option<&ItemDefinition> {
        self.items.iter().find(|i| i.name == name)
    }

    /// Checks every rule listed in the module docs; the error names the
    /// first offending item.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |reason: String| ModelError::InvalidDefinition { reason };
        check_name("activity", &self.name)?;
        if self.items.len() > MAX_ITEMS {
            return Err(invalid(format!(
                "activity {} has {} items, the limit is {MAX_ITEMS}",
                self.name,
                self.items.len()
            )));
        }
        let mut seen = HashSet::with_capacity(self.items.len());
        for item in &self.items {
            check_name("item", &item.name)?;
            // System fields are lowercase and compared exactly: an item
            // `Status` (the business status, "Shipped") is not the system
            // field `status` (active/completed), as in BAM.
            if SYSTEM_FIELDS.contains(&item.name.as_str()) {
                return Err(invalid(format!(
                    "item {} clashes with the system field of that name; system fields are {}",
                    item.name,
                    SYSTEM_FIELDS.join(", ")
                )));
            }
            let lower = item.name.to_ascii_lowercase();
            if let ItemType::Text { max_len } = item.ty {
                if !(1..=MAX_TEXT_LEN).contains(&max_len) {
                    return Err(invalid(format!(
                        "item {} has max_len {max_len}, it must be 1..={MAX_TEXT_LEN}",
                        item.name
                    )));
                }
            }
            if !seen.insert(lower) {
                return Err(invalid(format!(
                    "item {} is declared twice (names are compared ignoring case)",
                    item.name
                )));
            }
        }
        Ok(())
    }
}

/// Checks that `new` may replace the deployed `old`.
///
/// `new` must be valid and have the same name. Re-deploying an identical
/// definition and adding items are fine; removing an item or changing its
/// type (including shrinking a text `max_len`) is refused, because stored
/// records would no longer fit. Growing a text `max_len` is fine.
pub fn check_upgrade(old: &ActivityDefinition, new: &ActivityDefinition) -> Result<(), ModelError> {
    new.validate()?;
    let refuse = |reason: String| Err(ModelError::IncompatibleDefinition { reason });
    if old.name != new.name {
        return refuse(format!(
            "cannot replace activity {} with a definition named {}",
            old.name, new.name
        ));
    }
    for old_item in &old.items {
        let Some(new_item) = new.item(&old_item.name) else {
            return refuse(format!(
                "activity {}: item {} was removed; items can be added but not removed",
                old.name, old_item.name
            ));
        };
        let compatible = match (old_item.ty, new_item.ty) {
            (ItemType::Text { max_len: a }, ItemType::Text { max_len: b }) => b >= a,
            (a, b) => a == b,
        };
        if !compatible {
            return refuse(format!(
                "activity {}: item {} changes from {} to {}; an item's type cannot change \
                 and a text max_len can only grow",
                old.name, old_item.name, old_item.ty, new_item.ty
            ));
        }
    }
    Ok(())
}
