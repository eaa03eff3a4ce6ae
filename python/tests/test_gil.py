"""The GIL is released while a flush waits for the disk and while a query
runs: another Python thread runs meanwhile.

The check is by order, not by time: with the switch interval at a minute
the interpreter never takes the GIL from a running thread, so the other
thread can only run inside the call if the call let go of the GIL. It
stamps the clock once; the stamp must fall between the caller's stamps
just before and just after the call."""

import sys
import threading
import time

import pytest

A = "PurchaseOrder"


def ran_inside(call):
    go = threading.Event()
    stamps = []

    def other():
        go.wait()
        stamps.append(time.perf_counter())

    thread = threading.Thread(target=other)
    thread.start()
    old = sys.getswitchinterval()
    sys.setswitchinterval(60.0)
    try:
        go.set()
        before = time.perf_counter()
        call()
        after = time.perf_counter()
    finally:
        sys.setswitchinterval(old)
    thread.join()
    return before < stamps[0] < after


@pytest.fixture
def big_batch(store):
    s = store.direct_stream()
    ids = [f"G-{i}" for i in range(20_000)]
    s.update_columns(A, ids, {"Amount": [float(i) for i in range(20_000)]}, begin=True, end=True)
    return s


def test_flush_releases_the_gil(big_batch):
    assert ran_inside(big_batch.flush)


def test_queries_release_the_gil(store, big_batch):
    big_batch.flush()
    assert ran_inside(lambda: store.aggregate(A, measures=["count", "p95:Amount"]))
    assert ran_inside(lambda: store.search(A, where="Amount > 100", limit=10))
