#!/usr/bin/env python3
"""Writes a root filesystem whose dpkg status lists N installed packages, for the memory benchmark
(bench/big-inventory.sh). Stanzas look like a real Debian 12 status file: every field dpkg writes
for an installed binary package, fields in dpkg's order, a two-line description, a third of the
packages built from a differently named source, some binNMUs (`Source: name (version)`), and one
package in fifty not installed (`deinstall ok config-files`), which Vigil must leave out.

usage: gen-dpkg-status.py N ROOT
"""
import os
import sys

n, root = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.join(root, "etc"), exist_ok=True)
os.makedirs(os.path.join(root, "var/lib/dpkg"), exist_ok=True)
with open(os.path.join(root, "etc/os-release"), "w") as f:
    f.write('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
sections = ["libs", "utils", "admin", "net", "python", "perl", "devel", "text"]
with open(os.path.join(root, "var/lib/dpkg/status"), "w", buffering=1 << 20) as f:
    for i in range(n):
        name = f"lib{['ssl', 'xml', 'curl', 'gtk', 'z', 'ffi', 'pcre', 'krb'][i % 8]}-pkg{i}"
        version = f"{1 + i % 7}.{i % 13}.{i % 29}-{1 + i % 4}+deb12u{i % 3}"
        status = "deinstall ok config-files" if i % 50 == 49 else "install ok installed"
        stanza = [
            f"Package: {name}",
            f"Status: {status}",
            "Priority: optional",
            f"Section: {sections[i % len(sections)]}",
            f"Installed-Size: {100 + i % 9000}",
            "Maintainer: Debian Maintainers <debian-devel@lists.debian.org>",
            "Architecture: amd64",
            "Multi-Arch: same",
        ]
        if i % 3 == 0:
            stanza.append(f"Source: src{i // 3}" + (f" ({version.rsplit('+', 1)[0]})" if i % 12 == 0 else ""))
        stanza += [
            f"Version: {version}",
            f"Depends: libc6 (>= 2.36), libpkg{(i * 7) % n} (>= 1.0)",
            f"Description: generated package {i} for the memory benchmark",
            " A second description line, as real packages have.",
        ]
        f.write("\n".join(stanza) + "\n\n")
