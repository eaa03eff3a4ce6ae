#!/usr/bin/env python3
"""Per-event instructions of each function, inclusive: the difference
between callgrind's inclusive counts at two sizes divided by the events
between them (start-up cancels out). Used by bench/instructions.sh --profile.

usage: instructions_diff.py SMALL.out LARGE.out EVENTS [TOP]
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


def main():
    small, large, events = inclusive(sys.argv[1]), inclusive(sys.argv[2]), int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 45
    rows = sorted(((large[k] - small.get(k, 0)) / events, k) for k in large)
    for per_event, name in reversed(rows[-top:]):
        if name in ("PROGRAM TOTALS", "events annotated") or per_event < 1:
            continue
        print(f"{per_event:10.0f}  {name[:150]}")


main()
