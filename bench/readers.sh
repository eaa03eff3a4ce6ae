#!/usr/bin/env bash
# Readers alongside a writer (issue 16): `bamdb ingest` imports N
# PurchaseOrders (begin, update, end; 100 per commit) while R reader
# processes each run `bamdb get` of an imported order every PACE seconds
# (read-only opens: the ingest holds the store's lock). The same ingest runs
# first with no readers, then with R, into fresh stores, in one invocation.
# Reports the ingest's wall time and events/s both ways, and the readers'
# whole-process `get` times (median, p99, max; microseconds, fork+exec
# included) and how many answered read-only.
#
#   bench/readers.sh [--n 300000] [--readers 4] [--pace 0.1]
set -euo pipefail

N=300000
READERS=4
PACE=0.1
while [ $# -gt 0 ]; do
    case "$1" in
    --n) N="${2:?}"; shift 2 ;;
    --readers) READERS="${2:?}"; shift 2 ;;
    --pace) PACE="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "readers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
BAMDB="$ROOT/target/release/bamdb"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-readers.XXXXXX")"
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$WORK"' EXIT
echo "readers.sh: N=$N readers=$READERS pace=${PACE}s; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD)" >&2

cat > "$WORK/defs.json" <<'DEFS'
[{"name":"PurchaseOrder","items":[
  {"name":"Customer","type":"text","max_len":64},
  {"name":"Region","type":"text","max_len":16},
  {"name":"Amount","type":"float"}]}]
DEFS
# The preload (so readers have something to find) and the measured load.
gen() { # first, count
    awk -v first="$1" -v n="$2" 'BEGIN {
        for (i = first; i < first + n; i++) {
            printf "{\"op\":\"begin\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-%d\"}\n", i
            printf "{\"op\":\"update\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-%d\",\"data\":{\"Customer\":\"C%d\",\"Region\":\"EU\",\"Amount\":%d.5}}\n", i, i % 997, i % 5000
            printf "{\"op\":\"end\",\"activity\":\"PurchaseOrder\",\"id\":\"PO-%d\"}\n", i
            if ((i - first) % 100 == 99) print "{\"op\":\"flush\"}"
        }
    }'
}
gen 0 10000 > "$WORK/preload.jsonl"
gen 10000 "$N" > "$WORK/load.jsonl"

reader() { # store, out file: one line per get, "<us> <read-only 0/1> <exit>"
    local store="$1" out="$2" i=0 s e code err="$WORK/err.$BASHPID"
    while [ ! -e "$WORK/stop" ]; do
        s=$(date +%s%N)
        code=0
        "$BAMDB" get --store "$store" PurchaseOrder "PO-$(( (i * 7919) % 10000 ))" >/dev/null 2>"$err" || code=$?
        e=$(date +%s%N)
        echo "$(( (e - s) / 1000 )) $(grep -c read-only "$err" || true) $code" >> "$out"
        [ "$code" = 0 ] || { echo "exit $code:"; cat "$err"; } >> "$WORK/failures.txt"
        i=$((i + 1))
        sleep "$PACE"
    done
}

run() { # label, readers
    local label="$1" readers="$2" store="$WORK/$1"
    "$BAMDB" deploy --store "$store" "$WORK/defs.json" >/dev/null
    "$BAMDB" ingest --store "$store" "$WORK/preload.jsonl" >/dev/null 2>&1
    rm -f "$WORK/stop"
    local pids=()
    local s e
    s=$(date +%s%N)
    "$BAMDB" ingest --store "$store" "$WORK/load.jsonl" >/dev/null 2>"$WORK/$label.ingest.err" &
    local ingest=$!
    for r in $(seq 1 "$readers"); do
        reader "$store" "$WORK/$label.times$r" &
        pids+=($!)
    done
    wait "$ingest"
    e=$(date +%s%N)
    touch "$WORK/stop"
    for p in "${pids[@]}"; do wait "$p"; done
    local secs events
    secs=$(awk -v d=$(( e - s )) 'BEGIN { printf "%.2f", d / 1e9 }')
    events=$(( N * 3 ))
    echo "{\"run\":\"$label\",\"readers\":$readers,\"ingest_s\":$secs,\"events_per_s\":$(awk -v n=$events -v t="$secs" 'BEGIN { printf "%.0f", n / t }')}"
    if [ "$readers" -gt 0 ]; then
        cat "$WORK/$label".times[0-9]* | sort -n -k1 > "$WORK/$label.all"
        local count
        count=$(wc -l < "$WORK/$label.all")
        awk -v c="$count" '
            { t[NR] = $1; ro += $2; if ($3 != 0) bad++ }
            END {
                p = int(c * 0.99); if (p < 1) p = 1
                printf "{\"run\":\"gets\",\"count\":%d,\"median_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"read_only\":%d,\"failed\":%d}\n",
                    c, t[int((c + 1) / 2)], t[p], t[c], ro, bad + 0
            }' "$WORK/$label.all"
    fi
}

run alone 0
run with_readers "$READERS"
if [ -s "$WORK/failures.txt" ]; then
    echo "readers.sh: failed gets (first 20 lines):" >&2
    head -20 "$WORK/failures.txt" >&2
fi
