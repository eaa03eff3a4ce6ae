"""Shared fixtures: a fresh store directory, the PurchaseOrder definition,
and the `bamdb` command for the differential tests."""

import os
import pathlib
import shutil

import pytest

import bamdb

ROOT = pathlib.Path(__file__).resolve().parents[2]

ORDER = {
    "name": "PurchaseOrder",
    "items": [
        {"name": "Customer", "type": "text", "max_len": 64},
        {"name": "Region", "type": "text", "max_len": 16},
        {"name": "Amount", "type": "float"},
        {"name": "Quantity", "type": "int"},
        {"name": "Rush", "type": "bool"},
        {"name": "Shipped", "type": "timestamp"},
    ],
}


@pytest.fixture
def store(tmp_path):
    s = bamdb.Store(tmp_path / "store")
    s.deploy(ORDER)
    yield s
    s.close()


def bamdb_command():
    """The `bamdb` binary: $BAMDB_BIN, else a built one in target/."""
    env = os.environ.get("BAMDB_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "bamdb"
        if candidate.exists():
            return str(candidate)
    return shutil.which("bamdb")


@pytest.fixture
def bamdb_bin():
    command = bamdb_command()
    if command is None:
        pytest.skip("no bamdb command: set BAMDB_BIN or run cargo build")
    return command
