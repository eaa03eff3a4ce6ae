#!/usr/bin/env bash
# The Python package's checks, as CI runs them: a virtual environment
# (target/pyvenv), a wheel built with maturin and installed into it, the type stubs
# checked against it (mypy's stubtest), then pytest. Needs python3 with
# venv and pip, and the registries (PyPI) for the packages.
#
# BAMDB_BIN may name the `bamdb` command for the differential and export
# tests (default: target/debug/bamdb or target/release/bamdb if built).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
venv="$root/target/pyvenv"

# No wheel cache: the packages are installed once per venv, and the cache
# would only hold a second copy of them on a CI machine short of disk.
export PIP_NO_CACHE_DIR=1
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# pm4py and duckdb read the exports back (tests/test_export.py); they are
# large, so a failure to install them skips those checks instead of
# failing (the tests say "skipped").
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest pyarrow pandas mypy jsonschema
"$venv/bin/pip" install -q --disable-pip-version-check duckdb pm4py ||
    echo "duckdb/pm4py could not be installed; their checks will be skipped"

export VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH"
export CARGO_TARGET_DIR="${PYTHON_TARGET_DIR:-$root/target/python}"
# A wheel, as a user would install it (not an editable build): the tests
# then run against what `pip install` put in the environment.
rm -rf "$root/target/wheels"
maturin build --quiet ${MATURIN_RELEASE:+--release} -o "$root/target/wheels"
pip install -q --disable-pip-version-check --force-reinstall --no-deps "$root"/target/wheels/bamdb-*.whl

echo "== python: stubs match the extension (stubtest)"
(cd /tmp && python -m mypy.stubtest bamdb._bamdb --allowlist "$root/python/stubtest-allowlist.txt")
echo "== python: mypy over the package"
python -m mypy bamdb
echo "== python: pytest (from outside python/, so the installed wheel is what is imported)"
cd /tmp
pytest -q -p no:cacheprovider "$root/python/tests" "$@"
