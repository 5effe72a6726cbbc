#!/usr/bin/env bash
# Vendored from shared/scripts (the project's own build script for real test root filesystems).
# The physical floor for reading every entry header of an image archive's layers:
#   floor.sh docker ARCHIVE   (docker-archive: layers as listed in manifest.json)
#   floor.sh oci ARCHIVE      (oci-archive: gzip layers from the manifest)
set -euo pipefail
kind=$1 archive=$2
if [[ $kind == docker ]]; then
  for l in $(tar -xOf "$archive" manifest.json | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)[0]["Layers"]))'); do
    tar -xOf "$archive" "$l" | tar -t >/dev/null
  done
else
  idx=$(tar -xOf "$archive" index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["digest"].split(":")[1])')
  for l in $(tar -xOf "$archive" "blobs/sha256/$idx" | python3 -c 'import json,sys; print("\n".join(x["digest"].split(":")[1] for x in json.load(sys.stdin)["layers"]))'); do
    tar -xOf "$archive" "blobs/sha256/$l" | gzip -dc | tar -t >/dev/null
  done
fi
