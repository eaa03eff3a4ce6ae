"""Python ingest against the Rust buffered stream, in one process and run.

The workload (the same in both): purchase orders, each a begin, one update
of four items (Customer, Region, Amount, Quantity) and an end, flushed
every PER_FLUSH orders into a fresh store. Rust runs it through
`_bamdb.rust_baseline_ingest` (a loop over `BufferedEventStream` compiled
into the extension); Python runs it three ways: `update_columns` (the batch
call), `update_many`, and one call per event. Events/s are medians of
RUNS runs each, taken in turns so drift hits every row alike.

    MATURIN_RELEASE=1 python/run-tests.sh -k nothing   # builds the release extension into target/pyvenv
    target/pyvenv/bin/python python/bench/ingest.py [ORDERS] [PER_FLUSH ...]
"""

import shutil
import statistics
import sys
import tempfile
import time

import bamdb
from bamdb import _bamdb

A = "PurchaseOrder"
REGIONS = ["EU", "US", "APAC", "LATAM"]
DEFINITION = {"name": A, "items": [
    {"name": "Customer", "type": "text", "max_len": 32},
    {"name": "Region", "type": "text", "max_len": 8},
    {"name": "Amount", "type": "float"},
    {"name": "Quantity", "type": "int"},
]}
RUNS = 7


def fresh_store():
    store = bamdb.Store(tempfile.mkdtemp(prefix="bamdb-pybench-"))
    store.deploy(DEFINITION)
    return store


def rust(store, n, per_flush):
    return _bamdb.rust_baseline_ingest(store, A, n, per_flush)


def py_columns(store, n, per_flush):
    s = store.buffered_stream()
    start = time.perf_counter()
    for lo in range(0, n, per_flush):
        r = range(lo, min(n, lo + per_flush))
        s.update_columns(A, [f"R-{i}" for i in r], {
            "Customer": [f"C-{i % 1000}" for i in r],
            "Region": [REGIONS[i % 4] for i in r],
            "Amount": [i * 1.5 for i in r],
            "Quantity": [i % 17 for i in r],
        }, begin=True, end=True)
        s.flush()
    return time.perf_counter() - start


def py_columns_ready(store, n, per_flush):
    """`update_columns` on lists built before the clock starts: the cost
    of the call itself."""
    chunks = []
    for lo in range(0, n, per_flush):
        r = range(lo, min(n, lo + per_flush))
        chunks.append(([f"R-{i}" for i in r], {
            "Customer": [f"C-{i % 1000}" for i in r],
            "Region": [REGIONS[i % 4] for i in r],
            "Amount": [i * 1.5 for i in r],
            "Quantity": [i % 17 for i in r],
        }))
    s = store.buffered_stream()
    start = time.perf_counter()
    for ids, columns in chunks:
        s.update_columns(A, ids, columns, begin=True, end=True)
        s.flush()
    return time.perf_counter() - start


def py_many(store, n, per_flush):
    s = store.buffered_stream()
    start = time.perf_counter()
    for lo in range(0, n, per_flush):
        r = range(lo, min(n, lo + per_flush))
        ids = [f"R-{i}" for i in r]
        s.begin_many(A, ids)
        s.update_many(A, [(f"R-{i}", {"Customer": f"C-{i % 1000}", "Region": REGIONS[i % 4],
                                       "Amount": i * 1.5, "Quantity": i % 17}) for i in r])
        s.end_many(A, ids)
        s.flush()
    return time.perf_counter() - start


def py_calls(store, n, per_flush):
    s = store.buffered_stream()
    start = time.perf_counter()
    for i in range(n):
        oid = f"R-{i}"
        s.begin(A, oid)
        s.update(A, oid, Customer=f"C-{i % 1000}", Region=REGIONS[i % 4], Amount=i * 1.5,
                 Quantity=i % 17)
        s.end(A, oid)
        if (i + 1) % per_flush == 0:
            s.flush()
    s.flush()
    return time.perf_counter() - start


WAYS = [("Rust BufferedEventStream", rust), ("Python update_columns", py_columns),
        ("Python update_columns, lists ready", py_columns_ready),
        ("Python update_many + begin/end_many", py_many), ("Python one call per event", py_calls)]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    per_flushes = [int(a) for a in sys.argv[2:]] or [100, 10_000]
    for per_flush in per_flushes:
        times = {name: [] for name, _ in WAYS}
        for _ in range(RUNS):
            for name, way in WAYS:
                store = fresh_store()
                times[name].append(way(store, n, per_flush))
                store.close()
                shutil.rmtree(store.path)
        base = statistics.median(times[WAYS[0][0]])
        print(f"\n{n} orders ({3 * n} events), {per_flush} orders per flush, median of {RUNS}:")
        print(f"{'way':38} {'events/s':>12} {'of Rust':>8}")
        for name, _ in WAYS:
            t = statistics.median(times[name])
            print(f"{name:38} {3 * n / t:12,.0f} {base / t:8.0%}")


if __name__ == "__main__":
    main()
