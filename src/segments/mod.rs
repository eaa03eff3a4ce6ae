//! The primary import: completed activity instances in immutable, indexed,
//! memory-mapped import files, the manifest that names the live files, and
//! the checkpoint container for the bus's active state. (The folder keeps
//! the design card's name; "segment" itself names only the message box's
//! files, in [`crate::wal`].) Every failure here is an
//! `ImportFileError` (`error.rs`).

pub(crate) mod active_run;
pub(crate) mod bitpack;
pub(crate) mod blob;
pub(crate) mod chunks;
pub(crate) mod columns;
pub(crate) mod compact;
pub(crate) mod compress;
pub(crate) mod decimal;
pub(crate) mod error;
pub(crate) mod file;
pub(crate) mod keys;
pub(crate) mod layout;
pub(crate) mod manifest;
pub(crate) mod record;
pub(crate) mod sealed;
pub(crate) mod stored_columns;
pub(crate) mod write;
