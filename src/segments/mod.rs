//! The primary import: completed activity instances in immutable, indexed,
//! memory-mapped segment files, the manifest that names the live files, and
//! the checkpoint container for the bus's active state.

pub(crate) mod blob;
pub(crate) mod columns;
pub(crate) mod file;
pub(crate) mod manifest;
pub(crate) mod record;
