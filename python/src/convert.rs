//! Values between Python and bamdb: `str`, `int`, `float`, `bool` and
//! aware `datetime.datetime` (as UTC microseconds) to item values, and
//! instances, rows and aggregate cells back to plain Python objects.

use bamdb::model::{Timestamp, Value, ValueRef};
use bamdb::query::{Cell, Row};
use bamdb::{ActivityInstance, Status};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::errors::invalid;

/// A Python value as an item value, borrowing text from the Python string
/// (no copy). `None` is refused: an unset item is one not given.
pub fn value_ref<'a>(name: &str, v: &'a Bound<'_, PyAny>) -> PyResult<ValueRef<'a>> {
    // bool before int: Python's bool is an int.
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(ValueRef::Bool(b.is_true()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(ValueRef::Text(s.to_str()?));
    }
    if v.is_instance_of::<PyInt>() {
        return v.extract::<i64>().map(ValueRef::Int).map_err(|_| {
            invalid(format!(
                "item {name:?}: the integer {v} does not fit in 64 bits"
            ))
        });
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(ValueRef::Float(f.value()));
    }
    // NumPy's scalars (a column of a DataFrame or an array): its floats
    // are Python floats already; its integers are not Python ints but
    // have `__index__`, and its bool is `numpy.bool_`.
    if let Some(numpy) = numpy_scalar(name, v)? {
        return Ok(numpy);
    }
    timestamp(v)
        .map(ValueRef::Timestamp)
        .map_err(|why| invalid(format!("item {name:?}: {why}")))
}

/// A NumPy integer or bool as a value; `None` for anything else.
fn numpy_scalar(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Option<ValueRef<'static>>> {
    let ty = v.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    if module != "numpy" {
        return Ok(None);
    }
    let type_name = ty.name().map(|n| n.to_string()).unwrap_or_default();
    if type_name == "bool" || type_name == "bool_" {
        return Ok(Some(ValueRef::Bool(v.is_truthy()?)));
    }
    if v.hasattr("__index__")? {
        let i: i64 = v.call_method0("__index__")?.extract().map_err(|_| {
            invalid(format!(
                "item {name:?}: the integer {v} does not fit in 64 bits"
            ))
        })?;
        return Ok(Some(ValueRef::Int(i)));
    }
    Ok(None)
}

/// An aware `datetime.datetime` as a timestamp.
pub fn timestamp(v: &Bound<'_, PyAny>) -> Result<Timestamp, String> {
    let type_name = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    if type_name != "datetime" && !is_datetime(v) {
        return Err(format!(
            "a {type_name} is not an item value; give str, int, float, bool or an aware datetime"
        ));
    }
    if v.getattr("tzinfo").map(|t| t.is_none()).unwrap_or(true) {
        return Err(
            "a naive datetime has no zone; give an aware one (datetime.now(timezone.utc))".into(),
        );
    }
    let at: jiff::Timestamp = v.extract().map_err(|e| format!("not a time: {e}"))?;
    Ok(Timestamp::from_micros(at.as_microsecond()))
}

fn is_datetime(v: &Bound<'_, PyAny>) -> bool {
    let py = v.py();
    py.import("datetime")
        .and_then(|m| m.getattr("datetime"))
        .and_then(|c| v.is_instance(&c))
        .unwrap_or(false)
}

/// A timestamp as an aware `datetime` in UTC.
pub fn py_time<'py>(py: Python<'py>, t: Timestamp) -> PyResult<Bound<'py, PyAny>> {
    match jiff::Timestamp::from_microsecond(t.as_micros()) {
        Ok(at) => Ok(at.into_pyobject(py)?.into_any()),
        Err(e) => Err(invalid(format!("timestamp out of range: {e}"))),
    }
}

/// An item value as a Python object.
pub fn py_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Text(s) => PyString::new(py, s).into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Timestamp(t) => py_time(py, *t)?,
    })
}

fn py_opt_time<'py>(py: Python<'py>, t: Option<Timestamp>) -> PyResult<Bound<'py, PyAny>> {
    match t {
        Some(t) => py_time(py, t),
        None => Ok(py.None().into_bound(py)),
    }
}

/// `"active"` or `"completed"`.
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Completed => "completed",
    }
}

/// An instance as a dict: `activity`, `id`, `status`, `begin`, `end`,
/// `last_modified`, `items` (a dict in definition order), `continuations`,
/// `references` and `relationships` (lists of dicts).
pub fn py_instance<'py>(py: Python<'py>, inst: &ActivityInstance) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("activity", &inst.activity)?;
    d.set_item("id", &inst.id)?;
    d.set_item("status", status_name(inst.status))?;
    d.set_item("begin", py_opt_time(py, inst.begin)?)?;
    d.set_item("end", py_opt_time(py, inst.end)?)?;
    d.set_item("last_modified", py_opt_time(py, inst.last_modified)?)?;
    let items = PyDict::new(py);
    for (name, value) in &inst.items {
        items.set_item(name, py_value(py, value)?)?;
    }
    d.set_item("items", items)?;
    d.set_item("continuations", PyList::new(py, &inst.continuations)?)?;
    let refs = PyList::empty(py);
    for r in &inst.references {
        let e = PyDict::new(py);
        e.set_item("type", &r.ref_type)?;
        e.set_item("name", &r.name)?;
        e.set_item("data", &r.data)?;
        e.set_item("long_data", &r.long_data)?;
        refs.append(e)?;
    }
    d.set_item("references", refs)?;
    let rels = PyList::empty(py);
    for r in &inst.relationships {
        let e = PyDict::new(py);
        e.set_item("activity", &r.activity)?;
        e.set_item("id", &r.id)?;
        rels.append(e)?;
    }
    d.set_item("relationships", rels)?;
    Ok(d)
}

/// A search row as a dict in column order (`None` where unset).
pub fn py_row<'py>(py: Python<'py>, row: &Row) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, value) in &row.values {
        match value {
            Some(v) => d.set_item(name, py_value(py, v)?)?,
            None => d.set_item(name, py.None())?,
        }
    }
    Ok(d)
}

/// An aggregate cell: text, int, float, bool, an aware datetime (in its
/// zone's offset for a zoned bucket), a `timedelta` for a duration, or
/// `None`.
pub fn py_cell<'py>(py: Python<'py>, c: &Cell) -> PyResult<Bound<'py, PyAny>> {
    Ok(match c {
        Cell::Text(s) => PyString::new(py, s).into_any(),
        Cell::Int(i) => i.into_pyobject(py)?.into_any(),
        Cell::Float(f) => f.into_pyobject(py)?.into_any(),
        Cell::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Cell::Timestamp(t) => py_time(py, *t)?,
        Cell::ZonedTimestamp { at, offset_seconds } => {
            let utc = py_time(py, *at)?;
            let datetime = py.import("datetime")?;
            let delta = datetime.getattr("timedelta")?.call1((0, *offset_seconds))?;
            let zone = datetime.getattr("timezone")?.call1((delta,))?;
            utc.call_method1("astimezone", (zone,))?
        }
        Cell::Duration(us) => {
            let datetime = py.import("datetime")?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("microseconds", *us)?;
            datetime.getattr("timedelta")?.call((), Some(&kwargs))?
        }
        Cell::Null => py.None().into_bound(py),
    })
}

/// A JSON value as the Python object `json.loads` would give.
pub fn py_json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(|e| invalid(e.to_string()))?;
    py.import("json")?.getattr("loads")?.call1((text,))
}

/// A Python object (a dict, a list, or a JSON text) as a JSON value,
/// through `json.dumps`.
pub fn json_of(v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let text: String = if let Ok(s) = v.cast::<PyString>() {
        s.to_str()?.to_owned()
    } else {
        v.py()
            .import("json")?
            .getattr("dumps")?
            .call1((v,))?
            .extract()?
    };
    serde_json::from_str(&text).map_err(|e| invalid(format!("not valid JSON: {e}")))
}
