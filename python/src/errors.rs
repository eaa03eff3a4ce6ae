//! Store errors as Python exceptions. The classes are defined in
//! `bamdb/errors.py` (so each can also derive from the built-in class a
//! Python caller expects: `ValueError`, `OSError`, `TimeoutError`) and
//! looked up here when an error is raised.

use bamdb::wal::WalError;
use bamdb::StoreError;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

/// The `bamdb.errors` class a store error is raised as.
fn class_of(err: &StoreError) -> &'static str {
    match err {
        StoreError::Locked { .. } | StoreError::BoxLocked { .. } => "LockedError",
        StoreError::NotAStore { .. } => "NotAStoreError",
        StoreError::Corrupt { .. } => "CorruptError",
        StoreError::InvalidInput { .. } | StoreError::Model(_) => "InvalidInputError",
        StoreError::Rejected { .. } => "RejectedError",
        StoreError::Query(_) => "QueryError",
        StoreError::Closed => "ClosedError",
        StoreError::Timeout { .. } => "StoreTimeoutError",
        StoreError::BoxFull { .. } => "BoxFullError",
        StoreError::Wal(WalError::Corrupt { .. }) => "CorruptError",
        StoreError::Wal(WalError::Locked { .. }) => "LockedError",
        StoreError::Wal(WalError::FrameTooLarge { .. }) => "InvalidInputError",
        StoreError::Io { .. } | StoreError::Wal(_) => "StoreIOError",
        StoreError::Degraded { .. } | StoreError::Halted { .. } => "StoreIOError",
        _ => "Error",
    }
}

/// `err` as an instance of its `bamdb.errors` class (a `RuntimeError` if
/// that module cannot be imported, which only a broken install can cause).
pub fn to_py(err: StoreError) -> PyErr {
    Python::attach(|py| match raise_as(py, &err) {
        Ok(e) => e,
        Err(import_failed) => PyRuntimeError::new_err(format!("{err} ({import_failed})")),
    })
}

fn raise_as(py: Python<'_>, err: &StoreError) -> PyResult<PyErr> {
    let class = py.import("bamdb.errors")?.getattr(class_of(err))?;
    let value = class.call1((err.to_string(),))?;
    if let StoreError::Rejected { reasons } = err {
        value.setattr("reasons", PyList::new(py, reasons)?)?;
    }
    Ok(PyErr::from_value(value))
}

/// A Python exception of `bamdb.errors` by class name, for errors the
/// bindings find themselves (a bad argument).
pub fn named(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("bamdb.errors")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.call1((message.clone(),)));
        match made {
            Ok(value) => PyErr::from_value(value),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// [`named`] `InvalidInputError`.
pub fn invalid(message: impl Into<String>) -> PyErr {
    named("InvalidInputError", message.into())
}

/// [`named`] `QueryError`.
pub fn query(message: impl Into<String>) -> PyErr {
    named("QueryError", message.into())
}
