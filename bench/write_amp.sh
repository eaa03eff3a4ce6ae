#!/usr/bin/env bash
# Write amplification at batch 100 (issue 14): N completed PurchaseOrder
# instances (bamdb-process-data, 3 events each) loaded by
# `bamdb ingest --threshold 100` (a commit every 100 events) under strace;
# prints the bytes written per event to the message box, to import files
# and to the rest (checkpoints, manifest), and the total as a multiple of
# the message box's bytes (the log's own).
#
#   bench/write_amp.sh [--n 100000]
#
# Needs strace (installed with apt-get if missing) and python3.
set -euo pipefail
N=100000
while [ $# -gt 0 ]; do
    case "$1" in
    --n) N="${2:?--n needs a value}"; shift 2 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "write_amp.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$N" in '' | *[!0-9]*) echo "write_amp.sh: --n takes a whole number" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace; } >&2
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-process-data
BAMDB="${CARGO_TARGET_DIR:-$ROOT/target}/release/bamdb"
GEN="${CARGO_TARGET_DIR:-$ROOT/bench/target}/release/bamdb-process-data"
W="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-write-amp.XXXXXX")"
trap 'rm -rf "$W"' EXIT
"$GEN" --n "$N" --out "$W" --group "$N" >/dev/null
"$BAMDB" deploy --store "$W/store" "$W/definitions.json" >/dev/null
strace -f -qq -y -e trace=write,pwrite64,pwritev,pwritev2 -o "$W/trace" \
    "$BAMDB" ingest --quiet --threshold 100 --store "$W/store" "$W/events.jsonl"
python3 - "$W/trace" "$W/events.jsonl" <<'PY'
import collections, re, sys
events = sum(1 for line in open(sys.argv[2]) if '"op":"flush"' not in line)
written = collections.Counter()
call = re.compile(r'\b(?:write|pwrite64|pwritev2?)\(\d+<([^>]*)>.*= (\d+)\s*$')
for line in open(sys.argv[1]):
    m = call.search(line)
    if not m or "/store/" not in m.group(1):
        continue
    path, n = m.group(1), int(m.group(2))
    kind = "message box" if "/wal/" in path else "import files" if ".seg" in path else "other"
    written[kind] += n
log = written["message box"]
for kind in ("message box", "import files", "other"):
    print(f"{kind:13} {written[kind] / events:8.2f} bytes per event")
total = sum(written.values())
print(f"{'total':13} {total / events:8.2f} bytes per event, {total / max(log, 1):.2f}x the log's bytes ({events} events)")
PY
