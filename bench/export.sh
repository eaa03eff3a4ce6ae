#!/usr/bin/env bash
# Export benchmark (issue 21): `bamdb export --format parquet` of N
# completed PurchaseOrder instances (the query data set of bamdb::fixture,
# as bench/process.sh loads it), timed as a whole process with
# /usr/bin/time -v (wall time and peak RSS, medians of --runs runs), and the
# file's size beside DuckDB's own Parquet export of the same rows (read
# from bamdb's CSV export, and from bamdb's Parquet file).
#
#   bench/export.sh [--n 1000000] [--runs 5] [--keep]
#
# Goal: 1,000,000 instances in under 2 s, peak RSS under 128 MiB, the file
# no larger than DuckDB's. Prints a Markdown report. Needs the duckdb CLI
# (pip install duckdb-cli) and GNU time (apt-get install time).
set -euo pipefail

N=1000000
RUNS=5
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --n) N="${2:?--n needs a value}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "export.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$N$RUNS" in *[!0-9]*) echo "export.sh: --n and --runs take whole numbers" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "export.sh: $*" >&2; }
command -v duckdb >/dev/null || { say "needs the duckdb CLI (pip install duckdb-cli)"; exit 2; }
[ -x /usr/bin/time ] || { say "needs GNU time (apt-get install time)"; exit 2; }

say "building bamdb (release, --features parquet) and the data generator"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --features parquet --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-process-data
BAMDB="${CARGO_TARGET_DIR:-$ROOT/target}/release/bamdb"
GEN="${CARGO_TARGET_DIR:-$ROOT/bench/target}/release/bamdb-process-data"

W="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-export.XXXXXX")"
if [ "$KEEP" = 1 ]; then say "keeping $W"; else trap 'rm -rf "$W"' EXIT; fi
say "generating and loading $N instances in $W"
"$GEN" --n "$N" --out "$W" --group 1000
"$BAMDB" deploy --store "$W/store" "$W/definitions.json" >/dev/null
"$BAMDB" ingest --quiet --store "$W/store" "$W/events.jsonl" 2>/dev/null >/dev/null
rm -f "$W/events.jsonl" "$W/orders.csv"

# One timed run: prints "seconds max_rss_kib".
timed() {
    /usr/bin/time -v "$@" 2>"$W/time.log" >/dev/null
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i] }
                /Maximum resident set size/ { r = $2 }
                END { printf "%.2f %d\n", s, r }' "$W/time.log"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A SECS RSS
for fmt in parquet arrow csv; do
    : >"$W/$fmt.runs"
    for _ in $(seq "$RUNS"); do
        timed "$BAMDB" export --store "$W/store" PurchaseOrder --format "$fmt" -o "$W/bamdb.$fmt" >>"$W/$fmt.runs"
    done
    SECS[$fmt]=$(cut -d' ' -f1 "$W/$fmt.runs" | median)
    RSS[$fmt]=$(cut -d' ' -f2 "$W/$fmt.runs" | median)
done
SEARCH_SECS=$(for _ in $(seq "$RUNS"); do timed "$BAMDB" search --store "$W/store" PurchaseOrder --format csv; done | cut -d' ' -f1 | median)

say "DuckDB's Parquet of the same rows"
duckdb -c "COPY (SELECT * FROM read_csv_auto('$W/bamdb.csv')) TO '$W/duck_csv.parquet' (FORMAT parquet)"
duckdb -c "COPY (SELECT * FROM read_parquet('$W/bamdb.parquet')) TO '$W/duck_parquet.parquet' (FORMAT parquet)"
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

cat <<REPORT
### Export of $N instances ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -sr))

Medians of $RUNS runs of \`bamdb export --store DIR PurchaseOrder --format F -o FILE\`
(/usr/bin/time -v; warm page cache).

| format | wall s | peak RSS MiB | file MiB |
|---|---|---|---|
| parquet | ${SECS[parquet]} | $(awk -v k="${RSS[parquet]}" 'BEGIN { printf "%.0f", k / 1024 }') | $(mib "$(size "$W/bamdb.parquet")") |
| arrow | ${SECS[arrow]} | $(awk -v k="${RSS[arrow]}" 'BEGIN { printf "%.0f", k / 1024 }') | $(mib "$(size "$W/bamdb.arrow")") |
| csv | ${SECS[csv]} | $(awk -v k="${RSS[csv]}" 'BEGIN { printf "%.0f", k / 1024 }') | $(mib "$(size "$W/bamdb.csv")") |
| (\`bamdb search --format csv\`, for scale) | $SEARCH_SECS | | |

DuckDB $(duckdb --version | cut -d' ' -f1) Parquet of the same rows:
from bamdb's CSV (\`read_csv_auto\`) $(mib "$(size "$W/duck_csv.parquet")") MiB,
from bamdb's Parquet (same types) $(mib "$(size "$W/duck_parquet.parquet")") MiB;
bamdb's $(mib "$(size "$W/bamdb.parquet")") MiB.
REPORT
