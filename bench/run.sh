#!/usr/bin/env bash
# Builds the side-by-side benchmark in release mode and runs it. Arguments
# pass through: `bench/run.sh --quick` (under a minute), `bench/run.sh`
# (the full run, about 15 minutes), `bench/run.sh --help`.
# Stores go to $TMPDIR (or /tmp): put it on the disk you want to measure.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/bamdb-bench" "$@"
