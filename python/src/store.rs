//! `Store` (the writer) and `Reader` (read-only, alongside a writer in
//! another process): opening, deploying, streams and queries.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::Duration;

use bamdb::model::ActivityDefinition;
use bamdb::query::{Aggregate, AggregateResult, Search, SearchPage};
use bamdb::{ActivityInstance, Store, StoreError, StoreOptions, StoreReader};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{json_of, py_cell, py_instance, py_json, py_row};
use crate::errors::{invalid, to_py};
use crate::queries::{self, GroupArgs, RowArgs, SelectionArgs};
use crate::stream::PyStream;

/// What `Store` and `Reader` both answer.
trait Queries: Send + Sync {
    fn get(&self, activity: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError>;
    fn search_page(&self, search: &Search) -> Result<SearchPage, StoreError>;
    fn aggregate(&self, agg: &Aggregate) -> Result<AggregateResult, StoreError>;
    fn definition(&self, activity: &str) -> Result<ActivityDefinition, StoreError>;
    fn definitions(&self) -> Vec<ActivityDefinition>;
}

macro_rules! queries_for {
    ($t:ty) => {
        impl Queries for $t {
            fn get(&self, a: &str, id: &str) -> Result<Option<ActivityInstance>, StoreError> {
                <$t>::get(self, a, id)
            }
            fn search_page(&self, s: &Search) -> Result<SearchPage, StoreError> {
                <$t>::search_page(self, s)
            }
            fn aggregate(&self, a: &Aggregate) -> Result<AggregateResult, StoreError> {
                <$t>::aggregate(self, a)
            }
            fn definition(&self, a: &str) -> Result<ActivityDefinition, StoreError> {
                <$t>::definition(self, a)
            }
            fn definitions(&self) -> Vec<ActivityDefinition> {
                <$t>::definitions(self)
            }
        }
    };
}
queries_for!(Store);
queries_for!(StoreReader);

/// Runs `f` on the open store with the GIL released.
fn with_open<T: Queries, R: Send>(
    py: Python<'_>,
    lock: &RwLock<Option<T>>,
    f: impl FnOnce(&T) -> Result<R, StoreError> + Send,
) -> PyResult<R> {
    py.detach(|| {
        let guard = lock.read().map_err(|_| StoreError::Closed)?;
        match guard.as_ref() {
            Some(store) => f(store),
            None => Err(StoreError::Closed),
        }
    })
    .map_err(to_py)
}

/// The `#[pymethods]` of `Store` and `Reader`: the class's own methods,
/// then the query methods both have.
macro_rules! methods_with_queries {
    ($t:ty, { $($own:tt)* }) => {
        #[pymethods]
        impl $t {
        $($own)*
        /// The instance `id` of `activity` with all its parts merged, as a
        /// dict, or `None` when there is none.
        fn get<'py>(
            &self,
            py: Python<'py>,
            activity: &str,
            id: &str,
        ) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
            let found = with_open(py, &self.inner, |s| Queries::get(s, activity, id))?;
            found.map(|inst| py_instance(py, &inst)).transpose()
        }

        /// The rows of a search and the cursor of the next page (or
        /// `None`); `bamdb.Store.search` wraps it.
        #[pyo3(signature = (activity, *, r#where=None, status="all", since=None, until=None,
            archived=false, order_by=None, limit=None, offset=0, after=None, columns=None))]
        #[allow(clippy::too_many_arguments)]
        fn _search<'py>(
            &self,
            py: Python<'py>,
            activity: &str,
            r#where: Option<&Bound<'py, PyAny>>,
            status: &str,
            since: Option<&Bound<'py, PyAny>>,
            until: Option<&Bound<'py, PyAny>>,
            archived: bool,
            order_by: Option<&Bound<'py, PyAny>>,
            limit: Option<usize>,
            offset: usize,
            after: Option<&str>,
            columns: Option<Vec<String>>,
        ) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
            let sel = SelectionArgs { where_: r#where, status, since, until, archived };
            let rows = RowArgs { order_by, limit, offset, after, columns };
            let search = queries::search(activity, &sel, rows)?;
            let page = with_open(py, &self.inner, |s| Queries::search_page(s, &search))?;
            let list = PyList::empty(py);
            for row in &page.rows {
                list.append(py_row(py, row)?)?;
            }
            Ok((list, page.next.map(|c| c.to_string())))
        }

        /// The columns and rows (lists of cells) of an aggregation;
        /// `bamdb.Store.aggregate` wraps it.
        #[pyo3(signature = (activity, *, group_by=None, measures=None, bucket=None, tz=None,
            having=None, order_by=None, limit=None, r#where=None, status="all", since=None,
            until=None, archived=false))]
        #[allow(clippy::too_many_arguments)]
        fn _aggregate<'py>(
            &self,
            py: Python<'py>,
            activity: &str,
            group_by: Option<&Bound<'py, PyAny>>,
            measures: Option<&Bound<'py, PyAny>>,
            bucket: Option<&str>,
            tz: Option<&str>,
            having: Option<&Bound<'py, PyAny>>,
            order_by: Option<&Bound<'py, PyAny>>,
            limit: Option<usize>,
            r#where: Option<&Bound<'py, PyAny>>,
            status: &str,
            since: Option<&Bound<'py, PyAny>>,
            until: Option<&Bound<'py, PyAny>>,
            archived: bool,
        ) -> PyResult<(Vec<String>, Bound<'py, PyList>)> {
            let sel = SelectionArgs { where_: r#where, status, since, until, archived };
            let groups = GroupArgs { group_by, measures, bucket, tz, having, order_by, limit };
            let agg = queries::aggregate(activity, &sel, groups)?;
            let result = with_open(py, &self.inner, |s| Queries::aggregate(s, &agg))?;
            let rows = PyList::empty(py);
            for row in &result.rows {
                let cells = row.cells.iter().map(|c| py_cell(py, c)).collect::<PyResult<Vec<_>>>()?;
                rows.append(PyTuple::new(py, cells)?)?;
            }
            Ok((result.columns, rows))
        }

        /// The deployed definition of `activity`, as a dict in the form
        /// `deploy` reads.
        fn definition<'py>(&self, py: Python<'py>, activity: &str) -> PyResult<Bound<'py, PyAny>> {
            let def = with_open(py, &self.inner, |s| Queries::definition(s, activity))?;
            py_json(py, &serde_json::to_value(def).map_err(|e| invalid(e.to_string()))?)
        }

        /// Every deployed definition, as a list of dicts.
        fn definitions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            let defs = with_open(py, &self.inner, |s| Ok(Queries::definitions(s)))?;
            py_json(py, &serde_json::to_value(defs).map_err(|e| invalid(e.to_string()))?)
        }

        /// The store directory.
        #[getter]
        fn path(&self) -> PathBuf {
            self.dir.clone()
        }

        fn __enter__(slf: Py<Self>) -> Py<Self> {
            slf
        }

        /// Closes on leaving a `with` block, whatever happened in it.
        #[pyo3(signature = (*_exc))]
        fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
            self.close(py)?;
            Ok(false)
        }
        }
    };
}

/// A bamdb store, opened as its writer (one process at a time).
#[pyclass(name = "Store", module = "bamdb._bamdb", subclass)]
pub struct PyStore {
    inner: RwLock<Option<Store>>,
    dir: PathBuf,
}

methods_with_queries!(PyStore, {
    /// Opens the store in `path`, creating it unless `create` is false.
    #[new]
    #[pyo3(signature = (path, *, create=true))]
    fn new(py: Python<'_>, path: PathBuf, create: bool) -> PyResult<Self> {
        let options = StoreOptions {
            create_if_missing: create,
            ..StoreOptions::default()
        };
        let store = py.detach(|| Store::open(&path, options)).map_err(to_py)?;
        Ok(PyStore {
            inner: RwLock::new(Some(store)),
            dir: path,
        })
    }

    /// Deploys a definition (a dict, or its JSON text) or a list of them
    /// (all or nothing).
    fn deploy(&self, py: Python<'_>, definition: &Bound<'_, PyAny>) -> PyResult<()> {
        let json = json_of(definition)?;
        if json.is_array() {
            let defs: Vec<ActivityDefinition> = serde_json::from_value(json)
                .map_err(|e| invalid(format!("not a list of definitions: {e}")))?;
            with_open(py, &self.inner, |s| s.deploy_all(defs))
        } else {
            let def: ActivityDefinition = serde_json::from_value(json)
                .map_err(|e| invalid(format!("not a definition: {e}")))?;
            with_open(py, &self.inner, |s| s.deploy(def))
        }
    }

    /// A buffered stream: `flush` returns once the batch is durable; the
    /// bus imports it in the background. With `threshold` > 0 it flushes
    /// by itself every `threshold` events. `producer` numbers the stream's
    /// batches for `flush(seq=...)`.
    #[pyo3(signature = (threshold=0, *, producer=None))]
    pub(crate) fn buffered_stream(
        &self,
        threshold: usize,
        producer: Option<u32>,
    ) -> PyResult<PyStream> {
        let guard = self.inner.read().map_err(|_| to_py(StoreError::Closed))?;
        let store = guard.as_ref().ok_or_else(|| to_py(StoreError::Closed))?;
        let stream = match producer {
            Some(p) => store.buffered_stream_as(p, 0),
            None => store.buffered_stream(0),
        };
        Ok(PyStream::buffered(stream, threshold))
    }

    /// A direct stream: `flush` validates the batch, then returns once it
    /// is durable and visible to queries.
    #[pyo3(signature = (*, producer=None))]
    fn direct_stream(&self, producer: Option<u32>) -> PyResult<PyStream> {
        let guard = self.inner.read().map_err(|_| to_py(StoreError::Closed))?;
        let store = guard.as_ref().ok_or_else(|| to_py(StoreError::Closed))?;
        let stream = match producer {
            Some(p) => store.direct_stream_as(p),
            None => store.direct_stream(),
        };
        Ok(PyStream::direct(stream))
    }

    /// Waits until everything flushed so far is imported (visible to
    /// queries); `False` if that took longer than `timeout` seconds.
    #[pyo3(signature = (timeout=30.0))]
    fn sync(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = Duration::try_from_secs_f64(timeout)
            .map_err(|_| invalid(format!("timeout {timeout}: give seconds >= 0")))?;
        with_open(py, &self.inner, |s| Ok(s.sync(timeout)))
    }

    /// The highest batch number imported for `producer`, or `None`.
    fn last_sequence(&self, py: Python<'_>, producer: u32) -> PyResult<Option<u64>> {
        with_open(py, &self.inner, |s| Ok(s.last_sequence(producer)))
    }

    /// Counters and state of the store, as a dict (what `bamdb stats`
    /// prints).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = with_open(py, &self.inner, |s| Ok(s.stats()))?;
        py_json(
            py,
            &serde_json::to_value(stats).map_err(|e| invalid(e.to_string()))?,
        )
    }

    /// Closes the store: the bus imports what is committed, checkpoints
    /// and stops. Later calls raise `ClosedError`; closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let store = self
            .inner
            .write()
            .map_err(|_| to_py(StoreError::Closed))?
            .take();
        match store {
            Some(store) => py.detach(|| store.close()).map_err(to_py),
            None => Ok(()),
        }
    }
});

impl PyStore {
    /// A Rust buffered stream of the open store (for the benchmark's
    /// baseline, which runs without Python).
    pub(crate) fn rust_buffered_stream(&self) -> PyResult<bamdb::BufferedEventStream> {
        let guard = self.inner.read().map_err(|_| to_py(StoreError::Closed))?;
        let store = guard.as_ref().ok_or_else(|| to_py(StoreError::Closed))?;
        Ok(store.buffered_stream(0))
    }
}

/// A read-only view of a store that another process may be writing: it
/// answers as of the writer's last checkpoint (with `fresh`, also what the
/// message box committed since), takes no lock and writes nothing.
#[pyclass(name = "Reader", module = "bamdb._bamdb", subclass)]
pub struct PyReader {
    inner: RwLock<Option<StoreReader>>,
    dir: PathBuf,
}

methods_with_queries!(PyReader, {
    #[new]
    #[pyo3(signature = (path, *, fresh=false))]
    fn new(py: Python<'_>, path: PathBuf, fresh: bool) -> PyResult<Self> {
        let reader = py
            .detach(|| {
                if fresh {
                    StoreReader::open_fresh(&path)
                } else {
                    StoreReader::open(&path)
                }
            })
            .map_err(to_py)?;
        Ok(PyReader {
            inner: RwLock::new(Some(reader)),
            dir: path,
        })
    }

    /// Reads the writer's newer checkpoint, if there is one; `True` if the
    /// view changed.
    fn refresh(&self, py: Python<'_>) -> PyResult<bool> {
        with_open(py, &self.inner, |r| r.refresh())
    }

    /// Lets go of the store's files. Later calls raise `ClosedError`.
    fn close(&self, _py: Python<'_>) -> PyResult<()> {
        let reader = self
            .inner
            .write()
            .map_err(|_| to_py(StoreError::Closed))?
            .take();
        drop(reader);
        Ok(())
    }
});
