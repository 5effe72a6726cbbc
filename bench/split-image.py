#!/usr/bin/env python3
"""Splits a root filesystem tarball into an oci-archive of N gzip layers (the
same files, spread over the layers by directory), to benchmark images with
several layers. Standard library only.

usage: bench/split-image.py ROOTFS.tar N OUT.oci.tar
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
members = [[] for _ in range(n)]
with tarfile.open(src) as rootfs:
    for m in rootfs:
        top = m.name.lstrip("./").split("/")
        # Directories go to the bottom layer; files follow a hash of their directory.
        i = 0 if m.isdir() else int(hashlib.sha256("/".join(top[:-1]).encode()).hexdigest(), 16) % n
        data = rootfs.extractfile(m).read() if m.isfile() else None
        members[i].append((m, data))


def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


blobs, layers, diff_ids = [], [], []
for group in members:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m, data in group:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    diff_ids.append("sha256:" + hashlib.sha256(raw.getvalue()).hexdigest())
    digest, data = blob(gzip.compress(raw.getvalue(), compresslevel=6, mtime=0))
    blobs.append((digest, data))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": len(data)})
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
config_digest, _ = blob(config)
blobs.append((config_digest, config))
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
                       "layers": layers}).encode()
manifest_digest, _ = blob(manifest)
blobs.append((manifest_digest, manifest))
index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                       "digest": manifest_digest, "size": len(manifest)}]}).encode()
with tarfile.open(out, "w") as t:
    for name, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)] + [
        ("blobs/sha256/" + d.split(":")[1], b) for d, b in blobs
    ]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
