#!/usr/bin/env bash
# Producer processes and the bus as a process (issue 16), in one run:
# 1. Throughput: one producer process, then 8 at once, each committing one
#    Order per flush to its own message box as fast as it can for --secs
#    seconds, while `bamdb bus` imports them; aggregate commits/s and the
#    ratio (fresh store each time).
# 2. Latency: 8 producer processes at a steady total of --rate commits/s,
#    `bamdb bus`, and a reader (StoreReader::open_fresh) looking for each
#    box's next order; flush-returned to visible-to-the-reader percentiles.
# (bench/src/bin/producers.rs)
#
#   bench/producers.sh [--secs 10] [--rate 10000] [--producers 8]
set -euo pipefail

SECS=10
RATE=10000
PRODUCERS=8
while [ $# -gt 0 ]; do
    case "$1" in
    --secs) SECS="${2:?}"; shift 2 ;;
    --rate) RATE="${2:?}"; shift 2 ;;
    --producers) PRODUCERS="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "producers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-producers
BAMDB="$ROOT/target/release/bamdb"
BIN="$ROOT/bench/target/release/bamdb-producers"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-producers.XXXXXX")"
BUS=""
cleanup() { [ -z "$BUS" ] || kill "$BUS" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
echo "producers.sh: secs=$SECS rate=$RATE producers=$PRODUCERS; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD)" >&2
echo '{"name":"Order","items":[]}' > "$WORK/defs.json"

fresh_store() { # name: a deployed store with a bus running on it
    local store="$WORK/$1"
    "$BAMDB" deploy --store "$store" "$WORK/defs.json" >/dev/null
    "$BAMDB" bus --store "$store" --poll-ms 1 &
    BUS=$!
}
stop_bus() { kill "$BUS"; wait "$BUS" || true; BUS=""; }

throughput() { # label, producers: prints commits/s
    local label="$1" n="$2" pids=() i
    fresh_store "$label"
    for i in $(seq 1 "$n"); do
        "$BIN" --role producer --dir "$WORK/$label" --box "p$i" --secs "$SECS" > "$WORK/$label.p$i.json" &
        pids+=($!)
    done
    wait "${pids[@]}"
    stop_bus
    cat "$WORK/$label".p*.json | awk -F'[:,}]' '{c += $4; if ($6 > s) s = $6} END {printf "%.0f\n", c / s}'
}

ONE=$(throughput one 1)
MANY=$(throughput many "$PRODUCERS")
echo "{\"producers\":1,\"commits_per_s\":$ONE}"
echo "{\"producers\":$PRODUCERS,\"commits_per_s\":$MANY,\"ratio\":$(awk -v a="$MANY" -v b="$ONE" 'BEGIN {printf "%.2f", a / b}')}"

# Latency at a steady rate.
fresh_store latency
BOXES=$(seq -s, -f 'p%g' 1 "$PRODUCERS")
PER=$(awk -v r="$RATE" -v n="$PRODUCERS" 'BEGIN {print r / n}')
"$BIN" --role reader --dir "$WORK/latency" --boxes "$BOXES" --secs 3 &
READER=$!
pids=()
for i in $(seq 1 "$PRODUCERS"); do
    "$BIN" --role producer --dir "$WORK/latency" --box "p$i" --rate "$PER" --secs "$SECS" > "$WORK/latency.p$i.json" &
    pids+=($!)
done
wait "${pids[@]}"
wait "$READER"
stop_bus
COMMITS=$(cat "$WORK"/latency.p*.json | awk -F'[:,}]' '{c += $4} END {print c}')
echo "producers.sh: latency run: $COMMITS commits in $SECS s ($(( COMMITS / SECS )) per s)" >&2
"$BIN" --role report --dir "$WORK/latency" --boxes "$BOXES"
