#!/usr/bin/env bash
# Flush-to-visible latency across processes (issue 16): a writer process
# commits one Order per flush at a steady --rate from --threads producer
# threads (buffered streams) for --secs seconds; a reader process opened
# fresh (StoreReader::open_fresh) refreshes in a loop and notes when each
# commit becomes visible to it. Prints the latency percentiles as JSON
# (bench/src/bin/visibility.rs).
#
#   bench/visibility.sh [--rate 10000] [--threads 4] [--secs 10]
set -euo pipefail

RATE=10000
THREADS=4
SECS=10
while [ $# -gt 0 ]; do
    case "$1" in
    --rate) RATE="${2:?}"; shift 2 ;;
    --threads) THREADS="${2:?}"; shift 2 ;;
    --secs) SECS="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "visibility.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-visibility
BIN="$ROOT/bench/target/release/bamdb-visibility"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-visibility.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
STORE="$WORK/store"
echo "visibility.sh: rate=$RATE threads=$THREADS secs=$SECS; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD)" >&2

"$BIN" --role writer --dir "$STORE" --rate "$RATE" --threads "$THREADS" --secs "$SECS" &
WRITER=$!
# The reader opens once the writer has made the store (its first
# checkpoint need not exist: the reader reads the message box).
for _ in $(seq 1 200); do
    [ -d "$STORE/segments" ] && [ -d "$STORE/wal" ] && break
    sleep 0.05
done
"$BIN" --role reader --dir "$STORE" --secs 3 &
READER=$!
wait "$WRITER"
wait "$READER"
COMMITS=$(wc -l < "$WORK/writer.times")
echo "visibility.sh: $COMMITS commits in $SECS s ($(( COMMITS / SECS )) per s)" >&2
"$BIN" --role report --dir "$STORE"
