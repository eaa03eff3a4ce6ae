//! `bamdb._bamdb`: the Python extension of bamdb, built with PyO3.
//!
//! The Python package `bamdb` (in `python/bamdb/`) wraps these classes:
//! the result types with `to_arrow()`/`to_pandas()`, Arrow ingest and the
//! exception classes live on the Python side, where the optional imports
//! (pyarrow, pandas) belong. Everything that touches the store is here:
//! opening it, its event streams, and its queries.
//!
//! The GIL is released while the store works on its own data: flushes
//! (the fsync, or the import a direct stream waits for), queries, opening
//! and closing. Building events from Python objects holds it, since it
//! reads them.

mod convert;
mod errors;
mod queries;
mod store;
mod stream;

use pyo3::prelude::*;

/// The extension module `bamdb._bamdb`.
#[pymodule]
fn _bamdb(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<store::PyStore>()?;
    m.add_class::<store::PyReader>()?;
    m.add_class::<stream::PyStream>()?;
    m.add_class::<stream::PyReceipt>()?;
    m.add_function(wrap_pyfunction!(stream::rust_baseline_ingest, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
