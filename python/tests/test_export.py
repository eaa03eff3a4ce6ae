"""`bamdb export` read back by the Python tools it is for (issue 21).

Takes the bamdb command from the environment variable BAMDB_BIN (built with
`--features parquet`); every test is skipped when it is unset. Builds a
small store with `bamdb deploy` and `bamdb ingest`, exports it, and checks:
Parquet read with pyarrow and with DuckDB equals `bamdb search --format
json` and has the documented types (timestamp[us, tz=UTC], dictionary text);
the Arrow IPC file likewise; OCEL 2.0 JSON validates against
tests/data/ocel2-schema.json and loads with pm4py; XES parses with
xml.etree (and pm4py where installed).
"""

import datetime as dt
import json
import os
import pathlib
import subprocess
import xml.etree.ElementTree as ET

import pytest

BAMDB = os.environ.get("BAMDB_BIN")
ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
COLUMNS = ["id", "status", "begin", "end", "last_modified",
           "Customer", "Region", "Amount", "Qty", "Paid", "Shipped"]
TIMES = {"begin", "end", "last_modified", "Shipped"}

pytestmark = pytest.mark.skipif(not BAMDB, reason="BAMDB_BIN is not set")


def run(*args):
    out = subprocess.run([BAMDB, *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"bamdb {args}: {out.stderr}"
    return out.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    s = d / "store"
    run("deploy", "--store", s, DATA / "export-defs.json")
    run("ingest", "--store", s, DATA / "export-events.jsonl")
    return s


def search(store, *extra):
    return json.loads(run("search", "--store", store, "PurchaseOrder", "--format", "json", *extra))


def export(store, fmt, out, *extra):
    run("export", "--store", store, "PurchaseOrder", "--format", fmt, "-o", out, *extra)
    return out


def as_search_json(column, value):
    """A value read back, in the form `bamdb search --format json` prints it."""
    if value is None:
        return None
    if column in TIMES:
        assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def check_rows(got, want):
    """The same rows; the export writes them in storage order, so by id."""
    got = sorted(got, key=lambda r: r["id"])
    want = sorted(want, key=lambda r: r["id"])
    assert [r["id"] for r in got] == [r["id"] for r in want]
    for g, w in zip(got, want):
        for c in COLUMNS:
            # search leaves unset items out of its JSON rows
            assert as_search_json(c, g[c]) == w.get(c), (w["id"], c)


def check_arrow_schema(schema):
    import pyarrow as pa
    assert schema.names == COLUMNS
    utc_us = pa.timestamp("us", tz="UTC")
    text = pa.dictionary(pa.int32(), pa.string())
    want = [pa.string(), text, utc_us, utc_us, utc_us, text, text,
            pa.float64(), pa.int64(), pa.bool_(), utc_us]
    for field, t in zip(schema, want):
        assert field.type == t, field.name


@pytest.mark.parametrize("extra", [(), ("--status", "completed"), ("--where", "Paid = true")])
def test_parquet_with_pyarrow_and_duckdb(store, tmp_path, extra):
    pq = pytest.importorskip("pyarrow.parquet")
    out = export(store, "parquet", tmp_path / "orders.parquet", *extra)
    want = search(store, *extra)
    table = pq.read_table(out)
    check_arrow_schema(table.schema)
    check_rows(table.to_pylist(), want)

    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{out}')")
    assert rel.columns == COLUMNS
    types = dict(zip(rel.columns, map(str, rel.types)))
    assert types["begin"] == "TIMESTAMP WITH TIME ZONE"
    assert types["Qty"] == "BIGINT" and types["Amount"] == "DOUBLE"
    con.sql("SET TimeZone = 'UTC'")
    rows = [dict(zip(rel.columns, r)) for r in con.sql(f"SELECT * FROM read_parquet('{out}')").fetchall()]
    check_rows(rows, want)


def test_arrow_ipc_file(store, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.ipc as ipc
    out = export(store, "arrow", tmp_path / "orders.arrow")
    with pa.memory_map(str(out)) as f:
        table = ipc.open_file(f).read_all()
    check_arrow_schema(table.schema)
    check_rows(table.to_pylist(), search(store))


def test_ocel_validates_and_loads(store, tmp_path):
    out = export(store, "ocel", tmp_path / "orders.ocel.json")
    log = json.loads(out.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(log, json.loads((DATA / "ocel2-schema.json").read_text()))
    rows = {r["id"]: r for r in search(store)}
    objects = {o["id"]: o for o in log["objects"] if o["type"] == "PurchaseOrder"}
    assert set(objects) == set(rows)
    for oid, o in objects.items():
        attrs = {a["name"]: a["value"] for a in o["attributes"]}
        assert attrs == {c: v for c, v in rows[oid].items() if c in COLUMNS[5:]}
    try:
        import pm4py
    except ImportError:
        return
    ocel = pm4py.read_ocel2_json(str(out))
    assert set(ocel.objects["ocel:type"]) >= {"PurchaseOrder", "PurchaseOrder continuation"}
    assert len(ocel.events) == len(log["events"])
    assert set(ocel.events["ocel:activity"]) == {
        "PurchaseOrder begin", "PurchaseOrder update", "PurchaseOrder end"}


def test_xes_parses(store, tmp_path):
    out = export(store, "xes", tmp_path / "orders.xes")
    ns = {"x": "http://www.xes-standard.org/"}
    root = ET.parse(out).getroot()
    traces = sorted(root.findall("x:trace", ns),
                    key=lambda t: t.find("x:string[@key='concept:name']", ns).get("value"))
    rows = sorted(search(store), key=lambda r: r["id"])
    assert len(traces) == len(rows)
    for trace, row in zip(traces, rows):
        attrs = {a.get("key"): a.get("value") for a in trace if a.tag != f"{{{ns['x']}}}event"}
        assert attrs["concept:name"] == row["id"]
        assert attrs["bamdb:status"] == row["status"]
        for item in ("Customer", "Region"):
            assert attrs.get(item) == row.get(item), (row["id"], item)
        events = trace.findall("x:event", ns)
        assert events, row["id"]
        first = {a.get("key"): a.get("value") for a in events[0]}
        assert first["lifecycle:transition"] == "start"
        assert first["time:timestamp"] == row["begin"]
    try:
        import pm4py
    except ImportError:
        return
    df = pm4py.read_xes(str(out))
    assert set(df["case:concept:name"]) == {r["id"] for r in rows}
