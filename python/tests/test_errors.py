"""Errors come as the exception classes of bamdb.errors, with the
store's message, and nothing is written by a call that failed."""

from datetime import datetime

import pytest

import bamdb

A = "PurchaseOrder"


def test_not_a_store_without_create(tmp_path):
    with pytest.raises(bamdb.NotAStoreError, match="not a bamdb store|segments"):
        bamdb.Store(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()


def test_second_writer_is_locked_out(store):
    with pytest.raises(bamdb.LockedError):
        bamdb.Store(store.path)


def test_closed_store(tmp_path):
    s = bamdb.Store(tmp_path / "s")
    s.close()
    s.close()  # closing twice is fine
    with pytest.raises(bamdb.ClosedError):
        s.get(A, "x")
    with pytest.raises(bamdb.ClosedError):
        s.buffered_stream()


def test_bad_definitions(store):
    with pytest.raises(bamdb.InvalidInputError):
        store.deploy({"name": "X", "items": [{"name": "a", "type": "blob"}]})
    with pytest.raises(bamdb.InvalidInputError, match="not valid JSON"):
        store.deploy("{")
    with pytest.raises(bamdb.Error):
        # an item's type may not change
        store.deploy({"name": A, "items": [{"name": "Amount", "type": "text", "max_len": 4}]})


@pytest.mark.parametrize("value, message", [
    ([1, 2], "a list is not an item value"),
    (datetime(2026, 1, 1), "naive datetime"),
    (2**70, "does not fit in 64 bits"),
])
def test_bad_values_buffer_nothing(store, value, message):
    s = store.buffered_stream()
    with pytest.raises(bamdb.InvalidInputError, match=message):
        s.update(A, "PO-1", Amount=value)
    assert s.pending_events == 0
    with pytest.raises(ValueError):  # InvalidInputError is a ValueError too
        s.update(A, "PO-1", Amount=value)


def test_direct_stream_rejects_what_does_not_fit(store):
    s = store.direct_stream()
    s.begin("Invoice", "INV-1")
    s.update(A, "PO-1", Amount="lots")
    with pytest.raises(bamdb.RejectedError) as err:
        s.flush()
    assert len(err.value.reasons) == 2
    assert any("Invoice" in r for r in err.value.reasons)
    assert s.pending_events == 0
    assert store.get(A, "PO-1") is None


def test_buffered_stream_quarantines_what_does_not_fit(store):
    s = store.buffered_stream()
    s.begin("Invoice", "INV-1")
    s.flush()  # durable: the bus sets it aside, nothing is lost
    assert store.sync(30)
    assert store.stats()["quarantine"]["unresolved"] == 1


def test_query_errors(store):
    with pytest.raises(bamdb.QueryError, match="where"):
        store.search(A, where="Amount >")
    with pytest.raises(bamdb.QueryError, match="Colour"):
        store.search(A, where="Colour = red")
    with pytest.raises(bamdb.QueryError, match="status"):
        store.search(A, status="done")
    with pytest.raises(bamdb.QueryError, match="measures"):
        store.aggregate(A, measures="mean:Amount")
    with pytest.raises(bamdb.Error, match="Invoice"):
        store.search("Invoice")
    with pytest.raises(bamdb.QueryError, match="after"):
        store.search(A, after="not-a-cursor")


def test_bad_arguments(store):
    s = store.buffered_stream()
    with pytest.raises(bamdb.InvalidInputError, match="ids are text"):
        s.begin_many(A, [1, 2])
    with pytest.raises(bamdb.InvalidInputError, match="pair"):
        s.update_many(A, ["PO-1"])
    with pytest.raises(TypeError):
        s.begin(A)
