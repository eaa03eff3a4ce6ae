#!/usr/bin/env bash
# Open activities (issue 15): N PurchaseOrders begin with five items and
# stay open; 1% of them are then updated; then a second producer's
# continuation parts complete them all. Each phase is its own process
# (bench/src/bin/open_activities.rs), 100 activities per commit; between
# phases the CLI asks `stats`, `get` of a missing and of an open id, and
# `search --status active --limit 10` as whole processes (/usr/bin/time:
# wall seconds and peak RSS). After the open phase, a real-time aggregation
# is declared, and one more process opens the store and reads it (its
# `open_ms` is what an open costs with a declared aggregation).
#
#   bench/open_activities.sh [--n 100000] [--old DIR] [--keep]
#
# --old DIR: a checkout of an older bamdb whose bench crate holds the same
# bamdb-open-activities source (copy bench/src/bin/open_activities.rs and
# bench/Cargo.toml there); its open and complete phases run on their own
# store right after ours, for throughput and memory in one run.
# Prints JSON lines, then a summary; the store is under $TMPDIR (or /tmp),
# removed unless --keep.
set -euo pipefail

N=100000
OLD=""
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --n) N="${2:?--n needs a value}"; shift 2 ;;
    --old) OLD="${2:?--old needs a directory}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "open_activities.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$N" in *[!0-9]*|"") echo "open_activities.sh: --n takes a whole number" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "open_activities.sh: $*" >&2; }
command -v /usr/bin/time >/dev/null || { apt-get update -qq >&2 || true; apt-get install -y -qq time >&2; }

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-open-activities
BAMDB="$ROOT/target/release/bamdb"
BENCH="$ROOT/bench/target/release/bamdb-open-activities"
if [ -n "$OLD" ]; then
    cargo build --release --quiet --manifest-path "$OLD/bench/Cargo.toml" --bin bamdb-open-activities
    OLD_BENCH="$OLD/bench/target/release/bamdb-open-activities"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-open.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
say "N=$N, stores under $WORK; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

cli() { # label, command...: one whole process: wall ms, peak RSS (KiB)
    local label="$1"; shift
    local t="$WORK/time.txt" runs=() rss="" start end
    for i in 1 2 3 4 5; do
        start=$(date +%s%N)
        /usr/bin/time -o "$t" -f '%M' "$@" >/dev/null 2>&1 || true
        end=$(date +%s%N)
        runs+=("$(( (end - start) / 1000 ))")
        [ "$i" = 1 ] && rss="$(tail -1 "$t")"
    done
    # The first run (right after the phase), then the median of all five
    # (files in the page cache); microseconds, /usr/bin/time included.
    local median
    median="$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)"
    echo "{\"cli\":\"$label\",\"n\":$N,\"first_us\":${runs[0]},\"median_us\":$median,\"rss_kib\":$rss}"
}

queries() {
    local dir="$1"
    cli stats "$BAMDB" stats --store "$dir"
    cli get-missing "$BAMDB" get --store "$dir" PurchaseOrder PO-missing || true
    cli get-open "$BAMDB" get --store "$dir" PurchaseOrder PO-000000007
    cli search-active-10 "$BAMDB" search --store "$dir" PurchaseOrder --status active --limit 10
}

STORE="$WORK/new"
"$BENCH" --dir "$STORE" --n "$N" --phase open
queries "$STORE"
du -sb "$STORE/segments" | awk -v n="$N" '{print "{\"segments_bytes\":" $1 ",\"n\":" n "}"}'
"$BENCH" --dir "$STORE" --n "$N" --phase declare
"$BENCH" --dir "$STORE" --n "$N" --phase aggregation
"$BENCH" --dir "$STORE" --n "$N" --phase touch --percent 1
"$BENCH" --dir "$STORE" --n "$N" --phase complete
queries "$STORE"
if [ -n "$OLD" ]; then
    say "the older bamdb ($OLD), same phases"
    "$OLD_BENCH" --dir "$WORK/old" --n "$N" --phase open
    OLD_CLI="$OLD/target/release/bamdb"
    if [ -x "$OLD_CLI" ] || cargo build --release --quiet --manifest-path "$OLD/Cargo.toml" --bin bamdb; then
        BAMDB="$OLD_CLI" queries "$WORK/old" | sed 's/"cli":"/"cli":"old-/'
    fi
    "$OLD_BENCH" --dir "$WORK/old" --n "$N" --phase declare
    "$OLD_BENCH" --dir "$WORK/old" --n "$N" --phase aggregation
    "$OLD_BENCH" --dir "$WORK/old" --n "$N" --phase complete
fi
