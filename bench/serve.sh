#!/usr/bin/env bash
# `bamdb serve` figures (issue 17), in one run, with bench/src/bin/http_load.rs
# as the second process on loopback:
# 1. Ingest at --per-request activities per request (typical PurchaseOrder,
#    5 events each) from --clients concurrent clients over HTTP, against the
#    same activities through in-process buffered streams (one flush per
#    request's worth), --runs times alternating, fresh store each; events/s
#    until the import caught up, and the acknowledgement latency.
# 2. A store of --instances completed + 10,000 active instances: GET of one
#    instance (p50/p99 over 20,000 requests), and the portal's search,
#    aggregation and home pages (20 requests each).
#
#   bench/serve.sh [--secs 10] [--runs 3] [--clients 8] [--per-request 100] [--instances 1000000]
set -euo pipefail

SECS=10
RUNS=3
CLIENTS=8
PER=100
INSTANCES=1000000
while [ $# -gt 0 ]; do
    case "$1" in
    --secs) SECS="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --clients) CLIENTS="${2:?}"; shift 2 ;;
    --per-request) PER="${2:?}"; shift 2 ;;
    --instances) INSTANCES="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-http-load
BAMDB="$ROOT/target/release/bamdb"
LOAD="$ROOT/bench/target/release/bamdb-http-load"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-serve.XXXXXX")"
SERVER=""
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
echo "serve.sh: secs=$SECS runs=$RUNS clients=$CLIENTS per-request=$PER instances=$INSTANCES; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), commit $(git -C "$ROOT" rev-parse --short HEAD)" >&2

serve() { # store: starts `bamdb serve` on a free port, sets SERVER and ADDR
    "$BAMDB" serve --store "$1" --listen 127.0.0.1:0 > "$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVER=$!
    until grep -q "listening on" "$WORK/serve.out" 2>/dev/null; do
        kill -0 "$SERVER" || { cat "$WORK/serve.err" >&2; exit 1; }
        sleep 0.05
    done
    ADDR="$(sed -n 's/.*http:\/\/\([^ ]*\).*/\1/p' "$WORK/serve.out")"
}
stop() { kill -TERM "$SERVER"; wait "$SERVER" || true; SERVER=""; }

# The typical activity's definition, as the in-process run deploys it.
"$LOAD" inprocess --dir "$WORK/defs-store" --clients 1 --per-request 1 --secs 0.1 > /dev/null
"$BAMDB" definitions --store "$WORK/defs-store" > "$WORK/typical.json"

for run in $(seq 1 "$RUNS"); do
    "$LOAD" inprocess --dir "$WORK/in-$run" --clients "$CLIENTS" --per-request "$PER" --secs "$SECS"
    rm -rf "$WORK/in-$run"
    "$BAMDB" deploy --store "$WORK/http-$run" "$WORK/typical.json" > /dev/null
    serve "$WORK/http-$run"
    "$LOAD" ingest --addr "$ADDR" --clients "$CLIENTS" --per-request "$PER" --secs "$SECS"
    stop
    rm -rf "$WORK/http-$run"
done

"$LOAD" fill --dir "$WORK/big" --instances "$INSTANCES" --active 10000
serve "$WORK/big"
"$LOAD" get --addr "$ADDR" --instances "$INSTANCES" --requests 20000 --clients 1
"$LOAD" get --addr "$ADDR" --instances "$INSTANCES" --requests 20000 --clients 8
for path in \
    "/" \
    "/activities/PurchaseOrder" \
    "/activities/PurchaseOrder?where=Region+%3D+EU&where=Amount+%3E%3D+920" \
    "/activities/PurchaseOrder/aggregate" \
    "/activities/PurchaseOrder/aggregate?group_by=Region&measure=count&measure=avg%3AAmount" \
    "/activities/PurchaseOrder/aggregate?group_by=Region&bucket_unit=day&bucket_field=end" \
    "/activities/PurchaseOrder/aggregate?group_by=Customer"; do
    "$LOAD" pages --addr "$ADDR" --path "$path" --requests 20
done
stop
