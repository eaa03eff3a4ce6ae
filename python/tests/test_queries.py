"""Queries from Python: get, search (filters, order, pages, columns),
aggregate, the Arrow and pandas forms, and a read-only Reader."""

from datetime import datetime, timedelta, timezone

import pytest

import bamdb

A = "PurchaseOrder"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
ORDERS = [
    # id, customer, region, amount, quantity, ends
    ("PO-1", "Contoso", "EU", 125.5, 3, True),
    ("PO-2", "Fabrikam", "US", 80.0, 1, True),
    ("PO-3", "contoso gmbh", "EU", 300.0, 7, False),
    ("PO-4", "Tailspin", "APAC", 99.5, None, True),
]


@pytest.fixture
def filled(store):
    s = store.direct_stream()
    for i, (oid, customer, region, amount, quantity, ends) in enumerate(ORDERS):
        s.set_time(T0 + timedelta(hours=i))
        s.begin(A, oid)
        s.update(A, oid, Customer=customer, Region=region, Amount=amount, Quantity=quantity)
        if ends:
            s.set_time(T0 + timedelta(hours=i, minutes=30 * (i + 1)))
            s.end(A, oid)
    s.flush()
    return store


def test_get_merges_and_types(filled):
    po = filled.get(A, "PO-1")
    assert po["activity"] == A and po["id"] == "PO-1"
    assert po["status"] == "completed"
    assert po["begin"] == T0 and po["end"] == T0 + timedelta(minutes=30)
    assert po["items"] == {"Customer": "Contoso", "Region": "EU", "Amount": 125.5, "Quantity": 3}
    assert filled.get(A, "nope") is None


def test_search_filters_and_orders(filled):
    rows = filled.search(A, where="Amount > 90", order_by="Amount desc")
    assert [r["id"] for r in rows] == ["PO-3", "PO-1", "PO-4"]
    rows = filled.search(A, where=["Region = EU", "Customer icontains contoso"], status="completed")
    assert [r["id"] for r in rows] == ["PO-1"]
    assert rows[0]["Amount"] == 125.5 and rows[0]["status"] == "completed"
    assert filled.search(A, status="active", columns=["id", "Region"]) == [{"id": "PO-3", "Region": "EU"}]
    # since/until bound last_modified: PO-2 ended at T0+2h
    assert [r["id"] for r in filled.search(A, since=T0 + timedelta(hours=2))] == ["PO-2", "PO-4", "PO-3"]
    assert [r["id"] for r in filled.search(A, until="2026-11-01T01:00:00Z")] == ["PO-1"]


def test_search_pages_with_cursor(filled):
    seen, after = [], None
    while True:
        page = filled.search(A, order_by="id", limit=3, after=after)
        seen += [r["id"] for r in page]
        if page.next is None:
            break
        after = page.next
    assert seen == ["PO-1", "PO-2", "PO-3", "PO-4"]


def test_aggregate_groups_and_measures(filled):
    result = filled.aggregate(A, group_by="Region", measures=["count", "sum:Amount", "max:Quantity"])
    assert result.columns == ["Region", "count", "sum:Amount", "max:Quantity"]
    assert result == [
        {"Region": "APAC", "count": 1, "sum:Amount": 99.5, "max:Quantity": None},
        {"Region": "EU", "count": 2, "sum:Amount": 425.5, "max:Quantity": 7},
        {"Region": "US", "count": 1, "sum:Amount": 80.0, "max:Quantity": 1},
    ]
    top = filled.aggregate(A, group_by="Region", measures="count", having="count > 1")
    assert top == [{"Region": "EU", "count": 2}]
    waits = filled.aggregate(A, measures="max:duration(begin,end)", status="completed")
    assert waits == [{"max:duration(begin,end)": timedelta(hours=2)}]
    days = filled.aggregate(A, bucket="day:begin", tz="Europe/Paris")
    assert days[0]["count"] == 4 and days[0]["day(begin)"].utcoffset() == timedelta(hours=1)


def test_to_arrow_has_the_definitions_types(filled):
    pa = pytest.importorskip("pyarrow")
    table = filled.search(A, order_by="id").to_arrow()
    assert table.num_rows == 4
    assert table.schema.field("begin").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("Customer").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("Quantity").type == pa.int64()
    assert table.schema.field("Rush").type == pa.bool_()
    assert table.column("id").to_pylist() == ["PO-1", "PO-2", "PO-3", "PO-4"]
    assert table.column("Quantity").to_pylist() == [3, 1, 7, None]
    empty = filled.search(A, where="Amount > 10000").to_arrow()
    assert empty.num_rows == 0 and empty.schema == table.schema


def test_to_pandas(filled):
    pytest.importorskip("pandas")
    df = filled.search(A, order_by="id").to_pandas()
    assert list(df["id"]) == ["PO-1", "PO-2", "PO-3", "PO-4"]
    assert str(df["begin"].dtype).startswith("datetime64[us, UTC]")
    groups = filled.aggregate(A, group_by="Region", measures="sum:Amount").to_pandas()
    assert dict(zip(groups["Region"], groups["sum:Amount"])) == {"APAC": 99.5, "EU": 425.5, "US": 80.0}


def test_reader_reads_what_the_writer_checkpointed(tmp_path):
    from conftest import ORDER

    path = tmp_path / "store"
    with bamdb.Store(path) as writer:
        writer.deploy(ORDER)
        with writer.direct_stream() as s:
            s.begin(A, "PO-1")
            s.update(A, "PO-1", Region="EU")
    with bamdb.Reader(path) as reader:
        assert reader.get(A, "PO-1")["items"] == {"Region": "EU"}
        assert [r["id"] for r in reader.search(A, where="Region = EU")] == ["PO-1"]
        assert reader.aggregate(A) == [{"count": 1}]
        assert [d["name"] for d in reader.definitions()] == [A]
