//! `Stream`: a buffered or direct event stream, with the batch calls
//! (`update_columns`, `update_many`, `begin_many`, `end_many`) that keep
//! Python loops out of bulk ingest, and the `with` idiom (flush on
//! success, clear on an exception).

use std::time::Instant;

use bamdb::model::ValueRef;
use bamdb::{BufferedEventStream, DirectEventStream, EventStream, Receipt, StoreError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::convert::{timestamp, value_ref};
use crate::errors::{invalid, to_py};
use crate::store::PyStore;

/// What a flush committed: the message box LSN of its frame and its
/// number of events.
#[pyclass(name = "Receipt", module = "bamdb._bamdb", frozen, get_all)]
pub struct PyReceipt {
    /// The message box LSN of the batch's frame.
    lsn: u64,
    /// Events in the batch.
    events: usize,
}

#[pymethods]
impl PyReceipt {
    fn __repr__(&self) -> String {
        format!("Receipt(lsn={}, events={})", self.lsn, self.events)
    }
}

fn receipt(r: Receipt) -> PyReceipt {
    PyReceipt {
        lsn: r.lsn,
        events: r.events,
    }
}

/// An event without data: a part begins or ends.
#[derive(Clone, Copy)]
enum Mark {
    Begin,
    End,
}

enum Inner {
    Buffered(BufferedEventStream),
    Direct(DirectEventStream),
}

/// Calls the same method on either stream type (their `update` is generic,
/// so there is no `dyn EventStream` to call it through).
macro_rules! either {
    ($inner:expr, $s:ident => $body:expr) => {
        match $inner {
            Inner::Buffered($s) => $body,
            Inner::Direct($s) => $body,
        }
    };
}

/// An event stream of a store (see `Store.buffered_stream` and
/// `Store.direct_stream`).
#[pyclass(name = "Stream", module = "bamdb._bamdb")]
pub struct PyStream {
    inner: Inner,
    /// Flush by itself once this many events are buffered (0: never).
    threshold: usize,
}

impl PyStream {
    pub fn buffered(stream: BufferedEventStream, threshold: usize) -> PyStream {
        PyStream {
            inner: Inner::Buffered(stream),
            threshold,
        }
    }

    pub fn direct(stream: DirectEventStream) -> PyStream {
        PyStream {
            inner: Inner::Direct(stream),
            threshold: 0,
        }
    }

    /// The receipt of a push, then the threshold's flush, if any (with the
    /// GIL released).
    fn after_push(
        &mut self,
        py: Python<'_>,
        pushed: Result<Option<Receipt>, StoreError>,
    ) -> PyResult<Option<PyReceipt>> {
        let mut committed = pushed.map_err(to_py)?;
        if self.threshold > 0 && self.pending() >= self.threshold {
            committed = self.flush_now(py, None)?.or(committed);
        }
        Ok(committed.map(receipt))
    }

    /// Pushes the begin or the end of `id`, then [`Self::after_push`].
    fn push_mark(
        &mut self,
        py: Python<'_>,
        activity: &str,
        id: &str,
        mark: Mark,
    ) -> PyResult<Option<PyReceipt>> {
        let pushed = match mark {
            Mark::Begin => either!(&mut self.inner, s => s.begin(activity, id)),
            Mark::End => either!(&mut self.inner, s => s.end(activity, id)),
        };
        self.after_push(py, pushed)
    }

    /// [`Self::push_mark`] for every id of `ids`; the number of ids.
    fn mark_many(
        &mut self,
        py: Python<'_>,
        activity: &str,
        ids: &Bound<'_, PyAny>,
        mark: Mark,
    ) -> PyResult<usize> {
        let ids = as_list(ids, "ids")?;
        for id in ids.iter() {
            self.push_mark(py, activity, id_of(&id)?, mark)?;
        }
        Ok(ids.len())
    }

    fn pending(&self) -> usize {
        either!(&self.inner, s => s.pending_events())
    }

    fn flush_now(&mut self, py: Python<'_>, seq: Option<u64>) -> PyResult<Option<Receipt>> {
        let inner = &mut self.inner;
        py.detach(move || match seq {
            Some(seq) => either!(inner, s => s.flush_sequenced(seq)),
            None => either!(inner, s => s.flush()),
        })
        .map_err(to_py)
    }

    /// One update of `id` from `(name, value)` pairs, without copying text.
    fn update_pairs(
        &mut self,
        activity: &str,
        id: &str,
        pairs: &[(Bound<'_, PyAny>, Bound<'_, PyAny>)],
    ) -> PyResult<Result<Option<Receipt>, StoreError>> {
        let mut items: Vec<(&str, ValueRef<'_>)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let name = k
                .cast::<PyString>()
                .map_err(|_| invalid(format!("item names are text, not {k}")))?
                .to_str()?;
            items.push((name, value_ref(name, v)?));
        }
        Ok(either!(&mut self.inner, s => s.update(activity, id, items.iter().copied())))
    }
}

/// A stream dropped with events still buffered writes nothing (as in
/// Rust); Python is told with a `ResourceWarning`, which Rust's log
/// line would not reach.
impl Drop for PyStream {
    fn drop(&mut self) {
        let pending = self.pending();
        if pending > 0 {
            Python::attach(|py| {
                let message = std::ffi::CString::new(format!(
                    "a bamdb stream was dropped with {pending} events not flushed; \
                     they are not written (flush, or use a with block)"
                ))
                .unwrap_or_default();
                let category = py.get_type::<pyo3::exceptions::PyResourceWarning>();
                // A warning turned into an error cannot be raised from a
                // destructor; it is reported as unraisable instead.
                if let Err(e) = PyErr::warn(py, &category, &message, 1) {
                    e.write_unraisable(py, None);
                }
            });
        }
    }
}

/// The items of a dict (or `None`) as pairs; `None` values are left out
/// (an item not given stays unset).
fn pairs_of<'py>(
    items: Option<&Bound<'py, PyAny>>,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    let Some(items) = items.filter(|i| !i.is_none()) else {
        return Ok(Vec::new());
    };
    let dict = items
        .cast::<PyDict>()
        .map_err(|_| invalid("items: give a dict of item name to value"))?;
    Ok(dict.iter().filter(|(_, v)| !v.is_none()).collect())
}

/// A sequence as a list (lists are used as they are).
fn as_list<'py>(seq: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyList>> {
    if let Ok(list) = seq.cast::<PyList>() {
        return Ok(list.clone());
    }
    let list = seq
        .py()
        .import("builtins")?
        .getattr("list")?
        .call1((seq,))
        .map_err(|_| invalid(format!("{what}: give a sequence")))?;
    Ok(list.cast_into::<PyList>()?)
}

fn id_of<'a>(id: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    id.cast::<PyString>()
        .map_err(|_| invalid(format!("ids are text, not {id}")))?
        .to_str()
}

#[pymethods]
impl PyStream {
    /// `"buffered"` or `"direct"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner {
            Inner::Buffered(_) => "buffered",
            Inner::Direct(_) => "direct",
        }
    }

    /// Events buffered and not yet flushed.
    #[getter]
    fn pending_events(&self) -> usize {
        self.pending()
    }

    /// The instance `id` of `activity` begins.
    fn begin(&mut self, py: Python<'_>, activity: &str, id: &str) -> PyResult<Option<PyReceipt>> {
        self.push_mark(py, activity, id, Mark::Begin)
    }

    /// Sets item values: `update("PurchaseOrder", "PO-1", Customer="Contoso",
    /// Amount=125.5)`. Values are str, int, float, bool or aware datetimes;
    /// an item given `None` is left out.
    #[pyo3(signature = (activity, id, /, **items))]
    fn update(
        &mut self,
        py: Python<'_>,
        activity: &str,
        id: &str,
        items: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<PyReceipt>> {
        let pairs = pairs_of(items.map(|d| d.as_any()))?;
        let pushed = self.update_pairs(activity, id, &pairs)?;
        self.after_push(py, pushed)
    }

    /// The instance (or this continuation of it) ends.
    fn end(&mut self, py: Python<'_>, activity: &str, id: &str) -> PyResult<Option<PyReceipt>> {
        self.push_mark(py, activity, id, Mark::End)
    }

    /// Lets another application report into this instance under `token`.
    fn enable_continuation(
        &mut self,
        py: Python<'_>,
        activity: &str,
        id: &str,
        token: &str,
    ) -> PyResult<Option<PyReceipt>> {
        let pushed = either!(&mut self.inner, s => s.enable_continuation(activity, id, token));
        self.after_push(py, pushed)
    }

    /// Attaches a reference (a document, a URL, ...).
    #[pyo3(signature = (activity, id, ref_type, name, data, long_data=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_reference(
        &mut self,
        py: Python<'_>,
        activity: &str,
        id: &str,
        ref_type: &str,
        name: &str,
        data: &str,
        long_data: Option<&str>,
    ) -> PyResult<Option<PyReceipt>> {
        let pushed = either!(&mut self.inner,
            s => s.add_reference(activity, id, ref_type, name, data, long_data));
        self.after_push(py, pushed)
    }

    /// Relates another activity instance to this one.
    fn add_related_activity(
        &mut self,
        py: Python<'_>,
        activity: &str,
        id: &str,
        related_activity: &str,
        related_id: &str,
    ) -> PyResult<Option<PyReceipt>> {
        let pushed = either!(&mut self.inner,
            s => s.add_related_activity(activity, id, related_activity, related_id));
        self.after_push(py, pushed)
    }

    /// Begins every id of `ids` (one event each).
    fn begin_many(
        &mut self,
        py: Python<'_>,
        activity: &str,
        ids: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        self.mark_many(py, activity, ids, Mark::Begin)
    }

    /// Ends every id of `ids` (one event each).
    fn end_many(
        &mut self,
        py: Python<'_>,
        activity: &str,
        ids: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        self.mark_many(py, activity, ids, Mark::End)
    }

    /// One update per `(id, items)` pair of `rows`, `items` a dict.
    fn update_many(
        &mut self,
        py: Python<'_>,
        activity: &str,
        rows: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        let mut n = 0;
        for row in rows.try_iter()? {
            let row = row?;
            let pair = row
                .cast::<PyTuple>()
                .ok()
                .filter(|t| t.len() == 2)
                .ok_or_else(|| invalid("update_many: each row is a pair (id, {item: value})"))?;
            let id = pair.get_item(0)?;
            let pairs = pairs_of(Some(&pair.get_item(1)?))?;
            let pushed = self.update_pairs(activity, id_of(&id)?, &pairs)?;
            self.after_push(py, pushed)?;
            n += 1;
        }
        Ok(n)
    }

    /// Records instances column by column: for row `i`, an update of
    /// `ids[i]` with `{name: column[i]}` for each column (`None` cells
    /// left out), preceded by a begin and followed by an end when asked.
    /// Every column has as many values as `ids`. Returns the rows done.
    #[pyo3(signature = (activity, ids, columns, *, begin=false, end=false))]
    fn update_columns(
        &mut self,
        py: Python<'_>,
        activity: &str,
        ids: &Bound<'_, PyAny>,
        columns: &Bound<'_, PyDict>,
        begin: bool,
        end: bool,
    ) -> PyResult<usize> {
        let ids = as_list(ids, "ids")?;
        let mut cols: Vec<(Bound<'_, PyAny>, Bound<'_, PyList>)> =
            Vec::with_capacity(columns.len());
        for (name, values) in columns.iter() {
            let values = as_list(&values, "columns")?;
            if values.len() != ids.len() {
                return Err(invalid(format!(
                    "column {name}: {} values for {} ids",
                    values.len(),
                    ids.len()
                )));
            }
            cols.push((name, values));
        }
        let mut pairs = Vec::with_capacity(cols.len());
        for (i, id) in ids.iter().enumerate() {
            let id = id_of(&id)?;
            if begin {
                self.push_mark(py, activity, id, Mark::Begin)?;
            }
            pairs.clear();
            for (name, values) in &cols {
                let v = values.get_item(i)?;
                if !v.is_none() {
                    pairs.push((name.clone(), v));
                }
            }
            if !pairs.is_empty() {
                let pushed = self.update_pairs(activity, id, &pairs)?;
                self.after_push(py, pushed)?;
            }
            if end {
                self.push_mark(py, activity, id, Mark::End)?;
            }
        }
        Ok(ids.len())
    }

    /// [`update_columns`] from an Arrow table (or record batch): the
    /// column `id_column` holds the ids, every other column an item.
    #[pyo3(signature = (activity, table, *, id_column="id", begin=false, end=false))]
    fn update_arrow(
        &mut self,
        py: Python<'_>,
        activity: &str,
        table: &Bound<'_, PyAny>,
        id_column: &str,
        begin: bool,
        end: bool,
    ) -> PyResult<usize> {
        let names: Vec<String> = table
            .getattr("column_names")
            .and_then(|n| n.extract())
            .map_err(|_| invalid("update_arrow: give a pyarrow Table or RecordBatch"))?;
        if !names.iter().any(|n| n == id_column) {
            return Err(invalid(format!(
                "update_arrow: no column {id_column:?} for the ids (columns: {})",
                names.join(", ")
            )));
        }
        let mut ids = None;
        let columns = PyDict::new(py);
        for name in &names {
            let values = table
                .call_method1("column", (name,))?
                .call_method0("to_pylist")?;
            if name == id_column {
                ids = Some(values);
            } else {
                columns.set_item(name, values)?;
            }
        }
        let ids = ids.ok_or_else(|| invalid("update_arrow: no id column"))?;
        self.update_columns(py, activity, &ids, &columns, begin, end)
    }

    /// Commits the buffered events as one frame (the GIL is released
    /// meanwhile); `None` when nothing was buffered. With `seq`, as this
    /// producer's batch number `seq`: imported at most once.
    #[pyo3(signature = (seq=None))]
    fn flush(&mut self, py: Python<'_>, seq: Option<u64>) -> PyResult<Option<PyReceipt>> {
        Ok(self.flush_now(py, seq)?.map(receipt))
    }

    /// Drops every buffered event: they are never written.
    fn clear(&mut self) {
        either!(&mut self.inner, s => s.clear())
    }

    /// Fixes the timestamp of later events (an aware datetime), or returns
    /// to the clock with `None`.
    fn set_time(&mut self, time: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let at = match time.filter(|t| !t.is_none()) {
            Some(t) => Some(timestamp(t).map_err(invalid)?),
            None => None,
        };
        either!(&mut self.inner, s => s.set_time(at));
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Leaving a `with` block: flush when it ended normally, clear (roll
    /// back) when it raised. The exception is never swallowed.
    #[pyo3(signature = (exc_type, _exc, _tb))]
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_some_and(|t| !t.is_none()) {
            self.clear();
        } else {
            self.flush_now(py, None)?;
        }
        Ok(false)
    }
}

/// The Python ingest benchmark's workload done by Rust alone, for the
/// comparison in the same process and run: `activities` purchase orders
/// (begin, an update of four items, end), flushed every `per_flush`.
/// Returns the seconds taken. Not part of the API.
#[pyfunction]
pub fn rust_baseline_ingest(
    py: Python<'_>,
    store: &PyStore,
    activity: &str,
    activities: usize,
    per_flush: usize,
) -> PyResult<f64> {
    let mut stream = store.rust_buffered_stream()?;
    const REGIONS: [&str; 4] = ["EU", "US", "APAC", "LATAM"];
    py.detach(move || {
        let start = Instant::now();
        let mut customer = String::new();
        for i in 0..activities {
            use std::fmt::Write as _;
            let id = format!("R-{i}");
            customer.clear();
            let _ = write!(customer, "C-{}", i % 1000);
            stream.begin(activity, &id)?;
            stream.update(
                activity,
                &id,
                [
                    ("Customer", ValueRef::Text(&customer)),
                    ("Region", ValueRef::Text(REGIONS[i % 4])),
                    ("Amount", ValueRef::Float(i as f64 * 1.5)),
                    ("Quantity", ValueRef::Int((i % 17) as i64)),
                ],
            )?;
            stream.end(activity, &id)?;
            if (i + 1) % per_flush.max(1) == 0 {
                stream.flush()?;
            }
        }
        stream.flush()?;
        Ok::<f64, StoreError>(start.elapsed().as_secs_f64())
    })
    .map_err(to_py)
}
