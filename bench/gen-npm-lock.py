#!/usr/bin/env python3
"""Writes a minified package-lock.json (lockfile v3, one line) of about SIZE_MIB MiB, as npm writes
for a large monorepo: every entry with version, resolved URL, integrity hash, licence and its own
dependencies. For the memory benchmark (bench/big-inventory.sh). Prints the package count.

usage: gen-npm-lock.py SIZE_MIB OUT
"""
import base64
import hashlib
import json
import sys

size, out = int(sys.argv[1]) << 20, sys.argv[2]
written, i = 0, 0
with open(out, "w", buffering=1 << 20) as f:
    head = '{"name":"monorepo","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"monorepo","version":"1.0.0"}'
    f.write(head)
    written += len(head)
    while written < size:
        name = f"@scope{i % 97}/pkg-{i}" if i % 5 == 0 else f"package-{i}"
        version = f"{i % 9}.{i % 31}.{i % 17}"
        tail = name.rsplit("/", 1)[-1]
        entry = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{tail}-{version}.tgz",
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(name.encode()).digest()).decode(),
            "license": "MIT",
            "dependencies": {f"package-{(i * 7 + 1) % (i + 1)}": f"^{i % 9}.0.0"},
        }
        if i % 4 == 0:
            entry["dev"] = True
        piece = "," + json.dumps(f"node_modules/{name}") + ":" + json.dumps(entry, separators=(",", ":"))
        f.write(piece)
        written += len(piece)
        i += 1
    f.write("}}")
print(i)
