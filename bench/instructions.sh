#!/usr/bin/env bash
# Instructions per event on the write path, counted by callgrind (the same
# count on a busy or a quiet machine): the producer's push (API call and
# encoding), push plus the commit of a frame every 100 activities into a
# producer's own message box, and the bus's import (recovery, decode, validation, apply, the
# import file build at close). Each is run at two sizes; the difference in
# instructions divided by the difference in events cancels start-up.
#
#   bench/instructions.sh              # counts only (about a minute)
#   bench/instructions.sh --profile    # also the per-function breakdown
#   bench/instructions.sh --max-push N --max-import M
#                                      # exit 1 if a count is above its budget
#
# Output: one line per measure; with --profile, callgrind_annotate's
# inclusive top 40 of the larger run of each, in $OUT (default /tmp/bamdb-instructions).
set -euo pipefail
cd "$(dirname "$0")"
profile=0
max_push=""
max_import=""
while (( $# )); do
    case "$1" in
        --profile) profile=1 ;;
        --max-push) max_push=$2; shift ;;
        --max-import) max_import=$2; shift ;;
        *) echo "usage: bench/instructions.sh [--profile] [--max-push N] [--max-import M]" >&2; exit 2 ;;
    esac
    shift
done
cargo build --release --quiet --bin bamdb-instructions
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/bamdb-instructions"
out="${OUT:-/tmp/bamdb-instructions}"
rm -rf "$out" && mkdir -p "$out"
small=2000
large=12000
events=$(( (large - small) * 5 ))

count() { # name args...: runs under callgrind, prints the total instructions
    local name=$1; shift
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" "$bin" "$@" >/dev/null 2>"$out/$name.log"
    grep -E '^(summary|totals):' "$out/$name.out" | head -1 | awk '{print $2}'
}

p_small=$(count push_small push --activities $small)
p_large=$(count push_large push --activities $large)
c_small=$(count commit_small commit --activities $small)
c_large=$(count commit_large commit --activities $large)
"$bin" prepare --dir "$out/store_small" --activities $small
"$bin" prepare --dir "$out/store_large" --activities $large
i_small=$(count import_small import --dir "$out/store_small")
i_large=$(count import_large import --dir "$out/store_large")
push_per_event=$(( (p_large - p_small) / events ))
import_per_event=$(( (i_large - i_small) / events ))
echo "push:   $push_per_event instructions per event ($p_small at $small activities, $p_large at $large)"
echo "commit: $(( (c_large - c_small) / events )) instructions per event, push included, 100 activities per frame ($c_small at $small activities, $c_large at $large)"
echo "import: $import_per_event instructions per event ($i_small at $small activities, $i_large at $large)"
if (( profile )); then
    for what in push import; do
        python3 instructions_diff.py "$out/${what}_small.out" "$out/${what}_large.out" $events 40 \
            > "$out/$what.per_event.txt"
        echo "--- $what, inclusive instructions per event by function: $out/$what.per_event.txt"
    done
fi
over=0
if [[ -n "$max_push" ]] && (( push_per_event > max_push )); then
    echo "push costs $push_per_event instructions per event, over the budget of $max_push" >&2
    over=1
fi
if [[ -n "$max_import" ]] && (( import_per_event > max_import )); then
    echo "import costs $import_per_event instructions per event, over the budget of $max_import" >&2
    over=1
fi
exit $over
