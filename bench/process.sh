#!/usr/bin/env bash
# Process-level side-by-side benchmark (issue 14): the same N completed
# PurchaseOrder instances (bamdb::fixture::CompletedOrder, as the in-process
# query bench uses) loaded into bamdb (`bamdb ingest`), SQLite (the sqlite3
# CLI, id the primary key) and DuckDB (its native CLI from the PyPI package
# duckdb-cli); each question is then timed as a whole process, the way a
# user asks it from a shell: medians of --runs runs (hyperfine), with the
# first run after the load and the fastest reported too. The answers of the
# three engines are checked against each other before the table is printed.
#
#   bench/process.sh [--n 100000] [--runs 5] [--keep]
#   QUESTIONS="q6 q7 q8 q9" bench/process.sh ...   (a subset of the questions)
#
# Writes bench/results/process_<N>.md (machine, date, versions, commands,
# load times, sizes, timings, the answers check) and prints it. Stores go to
# a temporary directory under $TMPDIR (or /tmp), removed at the end unless
# --keep. Installs what is missing: sqlite3 and hyperfine with apt-get,
# duckdb-cli with pip. Warm page cache: each store was just written.
set -euo pipefail

N=100000
RUNS=5
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
    --n) N="${2:?--n needs a value}"; shift 2 ;;
    --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "process.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$N$RUNS" in *[!0-9]*) echo "process.sh: --n and --runs take whole numbers" >&2; exit 2 ;; esac
if [ "$RUNS" -lt 1 ] || [ "$N" -lt 1 ]; then echo "process.sh: --n and --runs must be at least 1" >&2; exit 2; fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
say() { echo "process.sh: $*" >&2; }

# --- build -----------------------------------------------------------------
# The bench crate is its own workspace: without CARGO_TARGET_DIR its target
# directory is bench/target, the main crate's is target/.
LOADAVG_START="$(cut -d' ' -f1-3 /proc/loadavg)"
say "building bamdb (release) and the data generator"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin bamdb
cargo build --release --quiet --manifest-path "$ROOT/bench/Cargo.toml" --bin bamdb-process-data
BAMDB="${CARGO_TARGET_DIR:-$ROOT/target}/release/bamdb"
GEN="${CARGO_TARGET_DIR:-$ROOT/bench/target}/release/bamdb-process-data"

# --- tools -----------------------------------------------------------------
apt_updated=0
apt_install() {
    [ "$apt_updated" = 1 ] || { apt-get update -qq >&2 || true; apt_updated=1; }
    apt-get install -y -qq "$@" >&2
}
command -v sqlite3 >/dev/null || { say "installing sqlite3"; apt_install sqlite3; }
command -v hyperfine >/dev/null || { say "installing hyperfine"; apt_install hyperfine || say "no hyperfine: timing with a Python loop"; }
command -v python3 >/dev/null || { say "python3 is needed (pip, the answers check and the report)"; exit 2; }
# The native binary inside the package, not the Python entry-point script
# pip puts on PATH (that script would add the interpreter's start-up to
# every DuckDB figure).
duck_path() { python3 -c 'import duckdb_cli, os; print(os.path.join(os.path.dirname(duckdb_cli.__file__), "duckdb"))' 2>/dev/null; }
DUCKDB="$(duck_path || true)"
if [ -z "$DUCKDB" ] || [ ! -x "$DUCKDB" ]; then
    say "installing duckdb-cli"
    python3 -m pip install --quiet duckdb-cli >&2
    DUCKDB="$(duck_path)"
fi
SQLITE="$(command -v sqlite3)"

# --- data ------------------------------------------------------------------
W="$(mktemp -d "${TMPDIR:-/tmp}/bamdb-process.XXXXXX")"
if [ "$KEEP" = 1 ]; then say "keeping $W"; else trap 'rm -rf "$W"' EXIT; fi
mkdir -p "$W/hf" "$W/out"
say "generating $N instances in $W"
"$GEN" --n "$N" --out "$W" --group 1000

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# --- load ------------------------------------------------------------------
STORE="$W/bamdb"
say "loading bamdb"
t0=$(now)
"$BAMDB" deploy --store "$STORE" "$W/definitions.json" >/dev/null
# ingest returns once the bus has imported everything committed, and closes
# the store: what follows reads a complete, closed store.
"$BAMDB" ingest --quiet --store "$STORE" "$W/events.jsonl" 2>"$W/ingest.log"
t1=$(now)
LOAD_BAMDB=$(elapsed "$t0" "$t1")
cat "$W/ingest.log" >&2

DB="$W/po.db"
say "loading SQLite"
t0=$(now)
"$SQLITE" "$DB" <<SQL
CREATE TABLE po (id TEXT PRIMARY KEY, customer TEXT, region TEXT, amount REAL,
                 quantity INTEGER, received INTEGER, shipped INTEGER);
.import --csv --skip 1 $W/orders.csv po
SQL
t1=$(now)
LOAD_SQLITE=$(elapsed "$t0" "$t1")

DUCK="$W/po.duckdb"
say "loading DuckDB"
t0=$(now)
"$DUCKDB" "$DUCK" -c "CREATE TABLE po AS SELECT * FROM read_csv('$W/orders.csv', header = true,
    columns = {'id': 'VARCHAR', 'customer': 'VARCHAR', 'region': 'VARCHAR', 'amount': 'DOUBLE',
               'quantity': 'INTEGER', 'received': 'BIGINT', 'shipped': 'BIGINT'})"
t1=$(now)
LOAD_DUCKDB=$(elapsed "$t0" "$t1")

# --- questions ---------------------------------------------------------------
# A fixed id past the middle (order 0.618 N + 7), the same on every run.
GET_ID="$(printf 'PO-%09d' $(( (N * 618 / 1000 + 7) % N )))"
# One command line per question and engine, split by hyperfine -N (no shell)
# with shell quoting rules. The SQL engines open read-only, as a reader does.
# DuckDB's `/` on integers is a float division: `//` is SQLite's `/`.
B="$BAMDB"
S="$SQLITE -readonly -json $DB"
D="$DUCKDB -readonly -json $DUCK -c"
A="--store $STORE PurchaseOrder"
declare -A CMD
CMD[q1_bamdb]="$B get $A $GET_ID"
CMD[q1_sqlite]="$S \"SELECT * FROM po WHERE id = '$GET_ID'\""
CMD[q1_duckdb]="$D \"SELECT * FROM po WHERE id = '$GET_ID'\""
CMD[q2_bamdb]="$B agg $A --group-by Region --measure count --measure sum:Amount --measure avg:Amount --format json"
Q2="SELECT region, count(*) AS count, sum(amount) AS sum, avg(amount) AS avg FROM po GROUP BY region ORDER BY region"
CMD[q2_sqlite]="$S \"$Q2\""
CMD[q2_duckdb]="$D \"$Q2\""
CMD[q3_bamdb]="$B agg $A --group-by Region --bucket day:Received --measure count --measure avg:Amount --format json"
CMD[q3_sqlite]="$S \"SELECT region, received / 86400000000 AS day, count(*) AS count, avg(amount) AS avg FROM po GROUP BY 1, 2 ORDER BY 1, 2\""
CMD[q3_duckdb]="$D \"SELECT region, received // 86400000000 AS day, count(*) AS count, avg(amount) AS avg FROM po GROUP BY 1, 2 ORDER BY 1, 2\""
CMD[q4_bamdb]="$B agg $A --group-by Region --measure \"avg:duration(Received,Shipped)\" --measure \"max:duration(Received,Shipped)\" --format json"
Q4="SELECT region, avg(shipped - received) AS avg, max(shipped - received) AS max FROM po GROUP BY region ORDER BY region"
CMD[q4_sqlite]="$S \"$Q4\""
CMD[q4_duckdb]="$D \"$Q4\""
# bamdb returns rows by end time (here Shipped), then id: the SQL orders so too.
CMD[q5_bamdb]="$B search $A --where \"Region = EU\" --where \"Amount >= 990\" --columns id"
Q5="SELECT id FROM po WHERE region = 'EU' AND amount >= 990 ORDER BY shipped, id"
CMD[q5_sqlite]="$S \"$Q5\""
CMD[q5_duckdb]="$D \"$Q5\""
# The query language (issue 18): OR and IN, a substring, an order-by-limit,
# a percentile. SQLite 3.40 has no percentile function: q9's SQL is the
# window-function form a SQLite user writes (continuous, as DuckDB's
# quantile_cont and bamdb's p95).
CMD[q6_bamdb]="$B search $A --where \"(Region = EU or Region in (UK, NORDIC)) and Amount >= 990\" --columns id"
Q6="SELECT id FROM po WHERE (region = 'EU' OR region IN ('UK', 'NORDIC')) AND amount >= 990 ORDER BY shipped, id"
CMD[q6_sqlite]="$S \"$Q6\""
CMD[q6_duckdb]="$D \"$Q6\""
CMD[q7_bamdb]="$B search $A --where \"Customer contains 0042\" --columns id"
Q7="SELECT id FROM po WHERE customer LIKE '%0042%' ORDER BY shipped, id"
CMD[q7_sqlite]="$S \"$Q7\""
CMD[q7_duckdb]="$D \"$Q7\""
CMD[q8_bamdb]="$B search $A --order-by \"Amount desc\" --limit 20 --columns id,Amount"
Q8="SELECT id, amount FROM po ORDER BY amount DESC, id LIMIT 20"
CMD[q8_sqlite]="$S \"$Q8\""
CMD[q8_duckdb]="$D \"$Q8\""
CMD[q9_bamdb]="$B agg $A --group-by Region --measure \"p95:duration(Received,Shipped)\" --format json"
CMD[q9_sqlite]="$S \"WITH d AS (SELECT region, shipped - received AS v, row_number() OVER (PARTITION BY region ORDER BY shipped - received) AS rn, count(*) OVER (PARTITION BY region) AS n FROM po), p AS (SELECT region, 0.95 * (max(n) - 1) AS pos FROM d GROUP BY region) SELECT d.region, sum(CASE WHEN d.rn = CAST(p.pos AS INTEGER) + 1 THEN d.v * (1 - (p.pos - CAST(p.pos AS INTEGER))) ELSE d.v * (p.pos - CAST(p.pos AS INTEGER)) END) AS p95 FROM d JOIN p USING (region) WHERE d.rn IN (CAST(p.pos AS INTEGER) + 1, CAST(p.pos AS INTEGER) + 2) GROUP BY d.region ORDER BY d.region\""
CMD[q9_duckdb]="$D \"SELECT region, quantile_cont(shipped - received, 0.95) AS p95 FROM po GROUP BY region ORDER BY region\""

# Times one command line: hyperfine's JSON, or the same shape from a loop.
time_cmd() { # key command
    if command -v hyperfine >/dev/null; then
        hyperfine -N --runs "$RUNS" --warmup 0 --style none --export-json "$W/hf/$1.json" "$2" >/dev/null
    else
        python3 - "$RUNS" "$W/hf/$1.json" "$2" <<'PY'
import json, resource, shlex, subprocess, sys, time
runs, out, cmd = int(sys.argv[1]), sys.argv[2], shlex.split(sys.argv[3])
times = []
before = resource.getrusage(resource.RUSAGE_CHILDREN)
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    times.append(time.perf_counter() - t)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"results": [{"times": times,
                        "user": (after.ru_utime - before.ru_utime) / runs,
                        "system": (after.ru_stime - before.ru_stime) / runs}]}, open(out, "w"))
PY
    fi
}

: >"$W/commands.tsv"
for q in ${QUESTIONS:-q1 q2 q3 q4 q5 q6 q7 q8 q9}; do
    for e in bamdb sqlite duckdb; do
        k="${q}_$e"
        say "timing $k"
        time_cmd "$k" "${CMD[$k]}"
        # The answer, from the same command line, for the check.
        eval "set -- ${CMD[$k]}"
        "$@" >"$W/out/$k.txt"
        printf '%s\t%s\n' "$k" "${CMD[$k]}" >>"$W/commands.tsv"
    done
done

# --- sizes -------------------------------------------------------------------
# Allocated bytes (du -B1) and apparent bytes (--apparent-size): the message
# box preallocates its segment, so the two differ.
size() { du -s -B1 "$@" | awk '{s += $1} END {print s}'; }
apparent() { du -s -B1 --apparent-size "$@" | awk '{s += $1} END {print s}'; }
{
    echo "bamdb_segments $(size "$STORE/segments") $(apparent "$STORE/segments")"
    echo "bamdb_wal $(size "$STORE/wal") $(apparent "$STORE/wal")"
    echo "bamdb_total $(size "$STORE") $(apparent "$STORE")"
    echo "sqlite $(size "$DB"*) $(apparent "$DB"*)"
    echo "duckdb $(size "$DUCK"*) $(apparent "$DUCK"*)"
} >"$W/sizes.txt"

# --- report ------------------------------------------------------------------
mkdir -p "$ROOT/bench/results"
REPORT="$ROOT/bench/results/process_$N.md"
{
    echo "n=$N"
    echo "runs=$RUNS"
    echo "load_bamdb=$LOAD_BAMDB"
    echo "load_sqlite=$LOAD_SQLITE"
    echo "load_duckdb=$LOAD_DUCKDB"
    echo "get_id=$GET_ID"
    echo "bamdb_rev=$(git -C "$ROOT" log -1 --format=%h -- src Cargo.toml Cargo.lock 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
    echo "bamdb_version=$("$BAMDB" --version)"
    echo "sqlite_version=$("$SQLITE" --version | cut -d' ' -f1)"
    echo "duckdb_version=$("$DUCKDB" --version)"
    echo "hyperfine=$(hyperfine --version 2>/dev/null || echo 'none: Python timing loop')"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "mem=$(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "kernel=$(uname -r)"
    echo "loadavg=$LOADAVG_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "work=$W"
    echo "bamdb_bin=$BAMDB"
    echo "sqlite_bin=$SQLITE"
    echo "duckdb_bin=$DUCKDB"
} >"$W/meta.txt"

python3 - "$W" "$REPORT" <<'PY'
import datetime, json, math, os, sys

W, REPORT = sys.argv[1], sys.argv[2]
meta = dict(l.rstrip("\n").split("=", 1) for l in open(f"{W}/meta.txt"))
Q = [q for q in ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"] if os.path.exists(f"{W}/hf/{q}_bamdb.json")]
E = ["bamdb", "sqlite", "duckdb"]
NAMES = {
    "q1": "get by id",
    "q2": "count/sum/avg Amount by Region",
    "q3": "count/avg Amount by Region x day(Received)",
    "q4": "avg/max duration (Shipped - Received) by Region",
    "q5": "search Region = EU and Amount >= 990, ids",
    "q6": "search (Region = EU or Region in (UK, NORDIC)) and Amount >= 990, ids",
    "q7": "search Customer contains 0042, ids",
    "q8": "search order by Amount desc, limit 20",
    "q9": "p95 of duration (Shipped - Received) by Region",
}

def out(k):
    return open(f"{W}/out/{k}.txt").read()

def rows_sql(k):
    text = out(k).strip()
    return json.loads(text) if text else []

def bam_agg(k):
    a = json.loads(out(k))
    return a["columns"], a["rows"]

def day_of(text):
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(t.timestamp()) // 86400

def close(a, b, rel=1e-9, abs_=1e-6):
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))

checks = []  # (question, what, ok, detail)
def check(q, what, ok, detail=""):
    checks.append((q, what, bool(ok), detail))

# q1 to q5 (all of them, or none: QUESTIONS may pick a subset).
if all(q in Q for q in ["q1", "q2", "q3", "q4", "q5"]):
    # q1: the same instance and values in all three.
    b = json.loads(out("q1_bamdb"))
    it = b["items"]
    bam_row = {"id": b["id"], "customer": it["Customer"], "region": it["Region"],
               "amount": it["Amount"], "quantity": it["Quantity"],
               "received": int(datetime.datetime.fromisoformat(it["Received"].replace("Z", "+00:00")).timestamp() * 1_000_000),
               "shipped": int(datetime.datetime.fromisoformat(it["Shipped"].replace("Z", "+00:00")).timestamp() * 1_000_000)}
    for e in ["sqlite", "duckdb"]:
        r = rows_sql(f"q1_{e}")
        same = len(r) == 1 and all(
            close(r[0][c], bam_row[c]) if isinstance(bam_row[c], float) else r[0][c] == bam_row[c]
            for c in bam_row)
        check("q1", f"bamdb = {e}: {bam_row['id']} and its six values", same, "" if same else f"{r} vs {bam_row}")

    # q2: per region count exact, sum and avg to 1e-9 relative.
    cols, rows = bam_agg("q2_bamdb")
    bam = {r[0]: r[1:] for r in rows}
    for e in ["sqlite", "duckdb"]:
        sql = {r["region"]: [r["count"], r["sum"], r["avg"]] for r in rows_sql(f"q2_{e}")}
        counts = {k: v[0] for k, v in bam.items()} == {k: v[0] for k, v in sql.items()}
        sums = bam.keys() == sql.keys() and all(close(bam[k][1], sql[k][1]) and close(bam[k][2], sql[k][2]) for k in bam)
        check("q2", f"bamdb = {e}: count per region ({len(bam)} regions, {sum(v[0] for v in bam.values())} in all)", counts)
        check("q2", f"bamdb = {e}: sum and avg per region (1e-9 relative)", sums)

    # q3: per (region, day) count exact, avg close.
    cols, rows = bam_agg("q3_bamdb")
    bam = {(r[0], day_of(r[1])): (r[2], r[3]) for r in rows}
    for e in ["sqlite", "duckdb"]:
        sql = {(r["region"], int(r["day"])): (r["count"], r["avg"]) for r in rows_sql(f"q3_{e}")}
        counts = {k: v[0] for k, v in bam.items()} == {k: v[0] for k, v in sql.items()}
        avgs = bam.keys() == sql.keys() and all(close(bam[k][1], sql[k][1]) for k in bam)
        check("q3", f"bamdb = {e}: count per (region, day) ({len(bam)} groups)", counts)
        check("q3", f"bamdb = {e}: avg per (region, day)", avgs)

    # q4: avg within 1 µs (bamdb prints whole microseconds), max exact.
    cols, rows = bam_agg("q4_bamdb")
    bam = {r[0]: (r[1], r[2]) for r in rows}
    for e in ["sqlite", "duckdb"]:
        sql = {r["region"]: (r["avg"], r["max"]) for r in rows_sql(f"q4_{e}")}
        ok = bam.keys() == sql.keys() and all(abs(bam[k][0] - sql[k][0]) <= 1.0 and bam[k][1] == sql[k][1] for k in bam)
        check("q4", f"bamdb = {e}: avg (to 1 µs) and max duration per region", ok)

    # q5: the same ids in the same order.
    bam_ids = [json.loads(l)["id"] for l in out("q5_bamdb").splitlines() if l.strip()]
    for e in ["sqlite", "duckdb"]:
        ids = [r["id"] for r in rows_sql(f"q5_{e}")]
        ok = ids == bam_ids
        check("q5", f"bamdb = {e}: {len(bam_ids)} ids, same list and order", ok,
              "" if ok else f"{len(ids)} ids, first difference at {next((i for i, (a, b) in enumerate(zip(ids, bam_ids)) if a != b), min(len(ids), len(bam_ids)))}")

# q6, q7: the same ids in the same order (as q5).
for q in ["q6", "q7"]:
    if q not in Q:
        continue
    bam_ids = [json.loads(l)["id"] for l in out(f"{q}_bamdb").splitlines() if l.strip()]
    for e in ["sqlite", "duckdb"]:
        ids = [r["id"] for r in rows_sql(f"{q}_{e}")]
        check(q, f"bamdb = {e}: {len(bam_ids)} ids, same list and order", ids == bam_ids)

# q8: the same 20 (id, amount) in the same order.
if "q8" in Q:
    bam_rows = [json.loads(l) for l in out("q8_bamdb").splitlines() if l.strip()]
    bam = [(r["id"], r["Amount"]) for r in bam_rows]
    for e in ["sqlite", "duckdb"]:
        sql = [(r["id"], r["amount"]) for r in rows_sql(f"q8_{e}")]
        ok = len(sql) == len(bam) == 20 and all(a[0] == b[0] and close(a[1], b[1]) for a, b in zip(bam, sql))
        check("q8", f"bamdb = {e}: the same 20 ids and amounts in order", ok, "" if ok else f"{bam[:3]} vs {sql[:3]}")

# q9: p95 per region within 1 µs (bamdb prints whole microseconds).
if "q9" in Q:
    cols, rows = bam_agg("q9_bamdb")
    bam = {r[0]: r[1] for r in rows}
    for e in ["sqlite", "duckdb"]:
        sql = {r["region"]: r["p95"] for r in rows_sql(f"q9_{e}")}
        ok = bam.keys() == sql.keys() and all(abs(bam[k] - sql[k]) <= 1.0 for k in bam)
        check("q9", f"bamdb = {e}: p95 duration per region (to 1 µs)", ok, "" if ok else f"{bam} vs {sql}")

# --- timings ---
def result(k):
    return json.load(open(f"{W}/hf/{k}.json"))["results"][0]

def times(k):
    return result(k)["times"]

def cpu(k):
    r = result(k)
    return r["user"] + r["system"] if "user" in r and "system" in r else None

def med(t):
    s = sorted(t)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2

def ms(x):
    v = x * 1000
    return f"{v:,.0f} ms" if v >= 100 else f"{v:,.1f} ms" if v >= 10 else f"{v:.2f} ms"

def mb(b):
    return f"{int(b) / 1e6:,.1f} MB"

sizes = {l.split()[0]: (int(l.split()[1]), int(l.split()[2])) for l in open(f"{W}/sizes.txt")}
n = int(meta["n"])
L = []
L.append(f"# Process-level benchmark, N = {n:,}")
L.append("")
L.append(f"{n:,} completed PurchaseOrder instances (`bamdb::fixture::CompletedOrder::new(i)`, i in 0..N: 8 regions, "
         "Amount 0-999.99, Received over 30 days, Shipped 1-48 h later), the same rows in each engine. "
         f"Each question is a whole process (start, open, answer, print, exit), timed with {meta['hyperfine']} "
         f"(`-N`, no shell), {meta['runs']} runs, no warm-up; page cache warm (the stores were just written).")
L.append("")
L.append(f"Machine: {meta['nproc']} cores, {meta['cpu']}, {meta['mem']}, Linux {meta['kernel']}, load average {meta['loadavg']} (the cores are shared with other work: wall times suffer first, CPU times below less). Date: {meta['date']}.  ")
L.append(f"Versions: {meta['bamdb_version']} at {meta['bamdb_rev']}; sqlite3 {meta['sqlite_version']}; DuckDB CLI {meta['duckdb_version']} (PyPI duckdb-cli, native binary).  ")
L.append(f"Command: `bench/process.sh --n {n} --runs {meta['runs']}`")
L.append("")
L.append("## Medians")
L.append("")
L.append("| question | bamdb CLI | sqlite3 CLI | DuckDB CLI |")
L.append("|---|--:|--:|--:|")
for q in Q:
    L.append(f"| {NAMES[q]} | " + " | ".join(ms(med(times(f'{q}_{e}'))) for e in E) + " |")
bs, bw, bt = sizes["bamdb_segments"][0], sizes["bamdb_wal"][0], sizes["bamdb_total"][0]
L.append(f"| size on disk | {mb(bt)} ({mb(bs)} import files + {mb(bw)} message box) | {mb(sizes['sqlite'][0])} | {mb(sizes['duckdb'][0])} |")
L.append(f"| load (from the generated files) | {float(meta['load_bamdb']):.1f} s (deploy + ingest) | {float(meta['load_sqlite']):.1f} s (.import) | {float(meta['load_duckdb']):.1f} s (CREATE TABLE AS read_csv) |")
L.append("")
L.append("## Every run: first after load / min / median / max")
L.append("")
L.append("The first run is the first process that asked that question after the load (earlier questions had already run).")
L.append("")
L.append("| question | bamdb CLI | sqlite3 CLI | DuckDB CLI |")
L.append("|---|--:|--:|--:|")
for q in Q:
    cells = []
    for e in E:
        t = times(f"{q}_{e}")
        cells.append(" / ".join(ms(x).replace(" ms", "") for x in (t[0], min(t), med(t), max(t))) + " ms")
    L.append(f"| {NAMES[q]} | " + " | ".join(cells) + " |")
L.append("")
L.append("## CPU time per process (user + system, mean of the runs)")
L.append("")
L.append("Less sensitive than wall time to other work on the machine; DuckDB may use both cores for a scan.")
L.append("")
L.append("| question | bamdb CLI | sqlite3 CLI | DuckDB CLI |")
L.append("|---|--:|--:|--:|")
for q in Q:
    L.append(f"| {NAMES[q]} | " + " | ".join(ms(cpu(f'{q}_{e}')) if cpu(f'{q}_{e}') is not None else "n/a" for e in E) + " |")
L.append("")
L.append("## Size on disk")
L.append("")
L.append("Allocated (`du -B1`) and apparent (`du --apparent-size`) bytes.")
L.append("")
L.append("| store | allocated | apparent |")
L.append("|---|--:|--:|")
for key, label in [("bamdb_segments", "bamdb import files (segments/)"), ("bamdb_wal", "bamdb message box (wal/)"),
                   ("bamdb_total", "bamdb store directory, total"), ("sqlite", "SQLite file"), ("duckdb", "DuckDB file")]:
    L.append(f"| {label} | {mb(sizes[key][0])} | {mb(sizes[key][1])} |")
L.append("")
L.append("## Answers check")
L.append("")
for q, what, ok, detail in checks:
    L.append(f"- {'ok' if ok else 'MISMATCH'}: {q} {what}" + (f" ({detail})" if detail else ""))
L.append("")
L.append("## Commands")
L.append("")
L.append(f"`$W` is the temporary directory. get by id asks for `{meta['get_id']}` (order 0.618 N + 7). "
         "Received and Shipped are stored as microseconds since the epoch (BIGINT / INTEGER) in the SQL engines: "
         "a day is an integer division, a duration a subtraction. SQLite's table has id as its primary key "
         "(its only index); DuckDB's has no index (CREATE TABLE AS). Both SQL engines open read-only.")
L.append("")
L.append("Load:")
L.append("")
L.append("```")
L.append("bamdb deploy --store $W/bamdb $W/definitions.json")
L.append("bamdb ingest --quiet --store $W/bamdb $W/events.jsonl   # a flush line every 1,000 instances")
L.append("sqlite3 $W/po.db  # CREATE TABLE po (id TEXT PRIMARY KEY, customer TEXT, region TEXT, amount REAL,")
L.append("                  #   quantity INTEGER, received INTEGER, shipped INTEGER); .import --csv --skip 1 $W/orders.csv po")
L.append("duckdb $W/po.duckdb -c \"CREATE TABLE po AS SELECT * FROM read_csv('$W/orders.csv', header = true, columns = {...})\"")
L.append("```")
L.append("")
L.append("Questions (bamdb, sqlite3, duckdb stand for the binaries' full paths):")
L.append("")
L.append("```")
subs = [(meta["bamdb_bin"], "bamdb"), (meta["sqlite_bin"], "sqlite3"), (meta["duckdb_bin"], "duckdb"), (meta["work"], "$W")]
for line in open(f"{W}/commands.tsv"):
    k, cmd = line.rstrip("\n").split("\t", 1)
    for a, b in subs:
        cmd = cmd.replace(a, b)
    L.append(cmd)
L.append("```")
text = "\n".join(L) + "\n"
open(REPORT, "w").write(text)
print(text)
bad = [c for c in checks if not c[2]]
if bad:
    print(f"process.sh: {len(bad)} answer checks FAILED: the timings compare different answers", file=sys.stderr)
    sys.exit(1)
PY
say "wrote $REPORT"
