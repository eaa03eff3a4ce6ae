#!/usr/bin/env bash
# Instruction counts (callgrind) of whole CLI query processes, for two bamdb
# binaries on copies of one store, so a change can be compared without
# wall-clock noise.
#
#   bench/cli_instructions.sh OLD_BIN NEW_BIN STORE_DIR
#
# STORE_DIR is copied before every run (opening a store may write to it).
# Make one with e.g. `OLD_BIN demo --store /tmp/store --activities 5000`.
set -euo pipefail
old=$1 new=$2 store=$3
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # label binary args...
    local label=$1 bin=$2; shift 2
    rm -rf "$work/store" && cp -r "$store" "$work/store"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$bin" "$@" --store "$work/store" >/dev/null 2>"$work/err"
    printf '%-8s %-4s %s\n' "$1" "$label" "$(grep -o 'refs: *[0-9,]*' "$work/err")"
}
for v in old new; do
    bin=$old; [ "$v" = new ] && bin=$new
    run "$v" "$bin" get PurchaseOrder PO-000113
    run "$v" "$bin" agg PurchaseOrder --group-by Region --measure count --measure sum:Amount --measure avg:Amount
    run "$v" "$bin" agg PurchaseOrder --group-by Region --bucket day:Received --measure count --measure avg:Amount
    run "$v" "$bin" search PurchaseOrder --where 'Region = EU' --where 'Amount >= 920' --columns id
    run "$v" "$bin" stats
done
