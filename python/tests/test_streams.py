"""Streams from Python: the transaction idiom, continuations across two
streams, the batch calls, thresholds and numbered flushes."""

from datetime import datetime, timedelta, timezone

import pytest

import bamdb

A = "PurchaseOrder"


def test_with_block_flushes_on_success(store):
    with store.direct_stream() as s:
        s.begin(A, "PO-1")
        s.update(A, "PO-1", Customer="Contoso", Amount=10.0)
        assert s.pending_events == 2
    assert s.pending_events == 0
    assert store.get(A, "PO-1")["items"] == {"Customer": "Contoso", "Amount": 10.0}


def test_with_block_rolls_back_on_exception(store):
    stream = store.direct_stream()
    with pytest.raises(RuntimeError, match="payment failed"):
        with stream as s:
            s.begin(A, "PO-2")
            s.update(A, "PO-2", Customer="Fabrikam")
            raise RuntimeError("payment failed")
    assert stream.pending_events == 0
    stream.flush()  # nothing left to write
    assert store.sync(30)
    assert store.get(A, "PO-2") is None
    assert store.stats()["counters"]["events_imported"] == 0


def test_clear_drops_buffered_events(store):
    s = store.buffered_stream()
    s.begin(A, "PO-3")
    s.clear()
    assert s.flush() is None
    assert store.sync(30)
    assert store.get(A, "PO-3") is None


def test_continuation_across_two_streams(store):
    orders = store.buffered_stream()
    orders.begin(A, "PO-1")
    orders.update(A, "PO-1", Customer="Contoso", Region="EU")
    orders.enable_continuation(A, "PO-1", "SHIP-1")
    orders.end(A, "PO-1")
    receipt = orders.flush()
    assert receipt.events == 4 and receipt.lsn >= 1

    shipping = store.direct_stream()
    shipped = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
    shipping.update(A, "SHIP-1", Shipped=shipped, Rush=True)
    shipping.end(A, "SHIP-1")
    shipping.flush()
    assert store.sync(30)

    po = store.get(A, "PO-1")
    assert po["status"] == "completed"
    assert po["continuations"] == ["SHIP-1"]
    assert po["items"] == {"Customer": "Contoso", "Region": "EU", "Rush": True, "Shipped": shipped}
    assert po["end"] is not None and po["end"].tzinfo is not None


def test_continuation_before_its_root_is_pending_then_merged(store):
    shipping = store.direct_stream()
    shipping.update(A, "SHIP-9", Quantity=3)
    shipping.flush()
    assert store.get(A, "SHIP-9") is None
    with store.direct_stream() as orders:
        orders.begin(A, "PO-9")
        orders.enable_continuation(A, "PO-9", "SHIP-9")
    assert store.get(A, "PO-9")["items"] == {"Quantity": 3}


def test_threshold_flushes_by_itself(store):
    s = store.buffered_stream(3)
    assert s.begin(A, "T-1") is None
    assert s.update(A, "T-1", Quantity=1) is None
    receipt = s.end(A, "T-1")
    assert receipt is not None and receipt.events == 3
    assert s.pending_events == 0


def test_update_columns_records_whole_activities(store):
    s = store.buffered_stream()
    ids = [f"C-{i}" for i in range(50)]
    columns = {
        "Customer": [f"cust{i % 7}" for i in range(50)],
        "Amount": [float(i) for i in range(50)],
        "Quantity": [i if i % 2 else None for i in range(50)],  # None: left unset
    }
    assert s.update_columns(A, ids, columns, begin=True, end=True) == 50
    assert s.pending_events == 150
    s.flush()
    assert store.sync(30)
    c3 = store.get(A, "C-3")
    assert c3["status"] == "completed"
    assert c3["items"] == {"Customer": "cust3", "Amount": 3.0, "Quantity": 3}
    assert "Quantity" not in store.get(A, "C-4")["items"]


def test_update_columns_checks_lengths(store):
    s = store.buffered_stream()
    with pytest.raises(bamdb.InvalidInputError, match="2 values for 3 ids"):
        s.update_columns(A, ["a", "b", "c"], {"Amount": [1.0, 2.0]})
    assert s.pending_events == 0


def test_update_many_begin_many_end_many(store):
    s = store.buffered_stream()
    s.begin_many(A, ["M-1", "M-2"])
    assert s.update_many(A, [("M-1", {"Region": "EU"}), ("M-2", {"Region": "US", "Rush": False})]) == 2
    s.end_many(A, ("M-1",))
    s.flush()
    assert store.sync(30)
    assert store.get(A, "M-1")["status"] == "completed"
    assert store.get(A, "M-2")["items"] == {"Region": "US", "Rush": False}


def test_update_arrow_ingests_a_table(store):
    pa = pytest.importorskip("pyarrow")
    shipped = datetime(2026, 11, 30, tzinfo=timezone.utc)
    table = pa.table({
        "id": ["AR-1", "AR-2"],
        "Customer": ["Contoso", None],
        "Amount": [1.5, 2.5],
        "Shipped": pa.array([shipped, shipped + timedelta(hours=1)], pa.timestamp("us", tz="UTC")),
    })
    s = store.buffered_stream()
    assert s.update_arrow(A, table, begin=True) == 2
    s.flush()
    assert store.sync(30)
    assert store.get(A, "AR-2")["items"] == {"Amount": 2.5, "Shipped": shipped + timedelta(hours=1)}
    with pytest.raises(bamdb.InvalidInputError, match='no column "key"'):
        s.update_arrow(A, table, id_column="key")


def test_set_time_stamps_events(store):
    s = store.direct_stream()
    t0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    s.set_time(t0)
    s.begin(A, "TS-1")
    s.set_time(t0 + timedelta(days=2))
    s.end(A, "TS-1")
    s.flush()
    got = store.get(A, "TS-1")
    assert got["begin"] == t0 and got["end"] == t0 + timedelta(days=2)


def test_numbered_flush_is_imported_once(store):
    for _ in range(3):
        s = store.direct_stream(producer=7)
        s.begin(A, "SEQ-1")
        s.update(A, "SEQ-1", Quantity=1)
        s.flush(seq=1)
    assert store.last_sequence(7) == 1
    assert store.stats()["duplicates"] == 2


def test_references_and_relationships(store):
    with store.direct_stream() as s:
        s.begin(A, "R-1")
        s.add_reference(A, "R-1", "DocumentUrl", "invoice", "https://example.com/i/1")
        s.add_related_activity(A, "R-1", "Shipment", "SH-1")
    got = store.get(A, "R-1")
    assert got["references"] == [{"type": "DocumentUrl", "name": "invoice",
                                  "data": "https://example.com/i/1", "long_data": None}]
    assert got["relationships"] == [{"activity": "Shipment", "id": "SH-1"}]


def test_dropping_a_stream_with_events_warns(store):
    s = store.buffered_stream()
    s.begin(A, "LOST-1")
    with pytest.warns(ResourceWarning, match="1 events not flushed"):
        del s
        import gc
        gc.collect()
    assert store.sync(30)
    assert store.get(A, "LOST-1") is None


def test_numpy_and_pandas_values(store):
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "Quantity": np.array([1, 2], dtype=np.int64),
        "Amount": np.array([0.5, 1.5]),
        "Rush": np.array([True, False]),
        "Shipped": pd.to_datetime(["2026-12-01T10:00:00Z", "2026-12-02T10:00:00Z"]),
    })
    s = store.buffered_stream()
    s.update_columns(A, ["NP-1", "NP-2"], {c: list(frame[c]) for c in frame.columns}, begin=True)
    s.flush()
    assert store.sync(30)
    got = store.get(A, "NP-2")["items"]
    assert got == {"Amount": 1.5, "Quantity": 2, "Rush": False,
                   "Shipped": datetime(2026, 12, 2, 10, tzinfo=timezone.utc)}
    assert type(got["Quantity"]) is int and type(got["Rush"]) is bool
