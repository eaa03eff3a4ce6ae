#!/usr/bin/env bash
# Instructions per event on the write path, counted by callgrind (the same
# count on a busy or a quiet machine): the producer's push (API call and
# encoding) and the bus's import (recovery, decode, validation, apply, the
# import file build at close). Each is run at two sizes; the difference in
# instructions divided by the difference in events cancels start-up.
#
#   bench/instructions.sh              # counts only (about a minute)
#   bench/instructions.sh --profile    # also the top functions of each
#
# Output: one line per measure; with --profile, callgrind_annotate's
# inclusive top 40 of the larger run of each, in $OUT (default /tmp/bamdb-instructions).
set -euo pipefail
cd "$(dirname "$0")"
profile=0
[[ "${1:-}" == "--profile" ]] && profile=1
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
"$bin" prepare --dir "$out/store_small" --activities $small
"$bin" prepare --dir "$out/store_large" --activities $large
i_small=$(count import_small import --dir "$out/store_small")
i_large=$(count import_large import --dir "$out/store_large")
echo "push:   $(( (p_large - p_small) / events )) instructions per event ($p_small at $small activities, $p_large at $large)"
echo "import: $(( (i_large - i_small) / events )) instructions per event ($i_small at $small activities, $i_large at $large)"
if (( profile )); then
    for name in push_large import_large; do
        callgrind_annotate --inclusive=yes "$out/$name.out" 2>/dev/null | head -60 > "$out/$name.top.txt"
        echo "--- $name (inclusive, top): $out/$name.top.txt"
    done
fi
