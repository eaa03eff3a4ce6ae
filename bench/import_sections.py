#!/usr/bin/env python3
"""Bytes per record of each section of a store's version-4 import files,
read from their footers (layout in docs/FORMAT.md, "Import file").

Usage: bench/import_sections.py STORE_DIR
"""
import glob
import os
import struct
import sys

FOOTER = 208


def sections(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"BAMDBSEG" or struct.unpack_from("<I", data, 8)[0] != 4:
        raise SystemExit(f"{path}: not a version-4 import file")
    at = len(data) - FOOTER
    field = lambda i: struct.unpack_from("<Q", data, at + i * 8)[0]
    index, key_count, records = field(0), field(1), field(2)
    key_table, filt, samples, columns, dictionary, crc_table = (
        field(5), field(6), field(8), field(10), field(11), field(12))
    names_len = struct.unpack_from("<I", data, at + 200)[0]
    names = dictionary - names_len
    return records, {
        "records": index - 16,
        "keys": key_table - index,
        "key table": filt - key_table,
        "key filter": samples - filt,
        "key samples": columns - samples,
        "columns": names - columns,
        "name table": dictionary - names,
        "dictionary": crc_table - dictionary,
        "chunk checksums": at - crc_table,
        "header + footer": 16 + FOOTER,
    }


def main():
    files = sorted(glob.glob(os.path.join(sys.argv[1], "segments", "*.seg")))
    total_records, totals = 0, {}
    for path in files:
        records, parts = sections(path)
        total_records += records
        for name, size in parts.items():
            totals[name] = totals.get(name, 0) + size
    print(f"{len(files)} files, {total_records} records")
    for name, size in totals.items():
        print(f"{name:16} {size / max(total_records, 1):8.1f} bytes per record")
    print(f"{'total':16} {sum(totals.values()) / max(total_records, 1):8.1f} bytes per record")


main()
