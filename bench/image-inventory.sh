#!/usr/bin/env bash
# Inventory of real images against the floor: what the standard tools need just to list every
# entry of every layer (bench/image-floor.sh: tar streaming the layers; gzip -dc | tar -t per
# layer), measured in the same run, median of RUNS runs (default 5), plus Vigil's peak memory.
# "vigil" reads every layer (--no-cache: decompress, walk, verify digests); "rescan" is the
# same command with every layer already in the layer cache (a cache filled by one run first).
# The same rootfs split into 4 gzip layers (bench/split-image.py, built once into DIR) shows the
# layers read in parallel: "vigil" on every core against "1 core" (taskset -c 0).
#
# Usage: bench/image-inventory.sh [DIR]   DIR holds bookworm.docker.tar and bookworm.oci.tar
#   (scripts/mkrootfs.sh DIR bookworm builds them; default /var/tmp/vigil-rootfs)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-${VIGIL_REAL_ROOTFS:-/var/tmp/vigil-rootfs}}"
RUNS="${RUNS:-5}"
[ -s "$DIR/bookworm.docker.tar" ] || { echo "no images in $DIR: run scripts/mkrootfs.sh $DIR bookworm" >&2; exit 2; }
cargo build --release --quiet
VIGIL="$(cargo metadata --format-version 1 --no-deps | python3 -c "import json,sys; print(json.load(sys.stdin)['target_directory'])")/release/vigil"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { for _ in $(seq "$RUNS"); do t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; done | median; }
peak_mib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

[ -s "$DIR/bookworm-4layers.oci.tar" ] || python3 bench/split-image.py "$DIR/bookworm.tar" 4 "$DIR/bookworm-4layers.oci.tar"
export VIGIL_CACHE_DIR="$(mktemp -d)"
trap 'rm -rf "$VIGIL_CACHE_DIR"' EXIT
printf '%-16s %10s %10s %7s %10s %10s %10s\n' image floor vigil ratio "peak MiB" rescan "1 core"
for form in docker oci 4layers; do
  archive="$DIR/bookworm.$form.tar"
  kind=$form
  [ "$form" = 4layers ] && archive="$DIR/bookworm-4layers.oci.tar" kind=oci
  floor=$(time_runs bash bench/image-floor.sh "$kind" "$archive")
  vigil=$(time_runs "$VIGIL" sbom "$archive" --format json --no-cache)
  mem=$(peak_mib "$VIGIL" sbom "$archive" --format json --no-cache)
  "$VIGIL" sbom "$archive" --format json >/dev/null 2>&1
  rescan=$(time_runs "$VIGIL" sbom "$archive" --format json)
  one=$(time_runs taskset -c 0 "$VIGIL" sbom "$archive" --format json --no-cache)
  printf '%-16s %9.3fs %9.3fs %6.2fx %10s %9.3fs %9.3fs\n' "$form" "$floor" "$vigil" "$(echo "$vigil / $floor" | bc -l)" "$mem" "$rescan" "$one"
done
