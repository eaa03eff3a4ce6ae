#!/usr/bin/env python3
"""Per-event instructions of each function, inclusive: the difference
between callgrind's inclusive counts at two sizes divided by the events
between them (start-up cancels out). Used by bench/instructions.sh --profile.

usage: instructions_diff.py SMALL.out LARGE.out EVENTS [TOP]
       instructions_diff.py --import-stages SMALL.out LARGE.out EVENTS
"""
import re
import subprocess
import sys


def inclusive(path):
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
        capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)", line)
        if not m:
            continue
        name = re.sub(r" \[[^\]]*\]$", "", m.group(2))
        name = re.sub(r" \([\d,]+x\)$", "", name)
        name = name.split(":", 1)[1] if ":" in name and not name.startswith("???") else name
        counts[name] = max(counts.get(name, 0), int(m.group(1).replace(",", "")))
    return counts


# The import's stages, each a function's inclusive count minus the stages
# nested in it.
IMPORT_STAGES = [
    ("decode the frame (bytes to events)", "bamdb::model::codec::decoder::decode_batch"),
    ("validate and coerce", "bamdb::bus::validate::<impl bamdb::bus::state::BusState>::validate"),
    ("complete (merge, parts, memtable)", "bamdb::bus::apply::<impl bamdb::bus::state::BusState>::complete"),
    # One of the two is inlined into the other, or into its caller,
    # depending on the build: the larger count is the file's build.
    ("build the import file", ("bamdb::segments::write::write_import_file",
                               "bamdb::segments::write::write_with_narrow_below")),
]


def import_stages(small, large, events):
    per = {k: (large.get(k, 0) - small.get(k, 0)) / events for k in large}
    total = per["PROGRAM TOTALS"]
    def count(fns):
        return max(per.get(fn, 0) for fn in ((fns,) if isinstance(fns, str) else fns))
    stage = {label: count(fns) for label, fns in IMPORT_STAGES}
    apply = per.get("bamdb::bus::apply::<impl bamdb::bus::state::BusState>::apply_batch", 0)
    stage["apply (node lookups, stamps, items)"] = apply - stage["validate and coerce"] - stage["complete (merge, parts, memtable)"]
    take = per.get("bamdb::bus::checkpoint::take", 0)
    stage["rest of the checkpoint (active run, state, dropping written records)"] = take - stage["build the import file"]
    stage["the rest (message box reads, the worker loop)"] = total - sum(stage.values())
    for label, value in stage.items():
        print(f"| {label} | {value:,.0f} |")
    print(f"| **total** | **{total:,.0f}** |")


def main():
    if sys.argv[1] == "--import-stages":
        import_stages(inclusive(sys.argv[2]), inclusive(sys.argv[3]), int(sys.argv[4]))
        return
    small, large, events = inclusive(sys.argv[1]), inclusive(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 45
    rows = sorted(((large[k] - small.get(k, 0)) / events, k) for k in large)
    for per_event, name in reversed(rows[-top:]):
        if name in ("PROGRAM TOTALS", "events annotated") or per_event < 1:
            continue
        print(f"{per_event:10.0f}  {name[:150]}")


main()
