#!/usr/bin/env python3
"""Writes package databases whose content is one line of SIZE_MIB MiB, as hostile or broken
input looks: a dpkg status whose one package has a SIZE_MIB description line, an apk database
with one such field, and a package-lock.json whose one package has a SIZE_MIB `resolved` value.
Each still names one real package, which must be found. For bench/big-inventory.sh.

usage: gen-single-line.py SIZE_MIB DIR
"""
import os
import sys

size, out = int(sys.argv[1]) << 20, sys.argv[2]


def write(path, head, tail):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    chunk = "x" * (1 << 20)
    with open(path, "w") as f:
        f.write(head)
        left = size - len(head) - len(tail)
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)
        f.write(tail)


write("dpkg/var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2\nDescription: ", "\n")
write("apk/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nT:", "\n")
write("npm/package-lock.json", '{"lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.3.0","resolved":"', '"}}}')
