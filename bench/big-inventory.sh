#!/usr/bin/env bash
# Memory and time of the largest inventories: peak resident memory (/usr/bin/time -v, "Maximum
# resident set size") and wall time of `vigil sbom` in every SBOM format and `vigil scan` in every
# report format, on
#   - a root filesystem whose dpkg status lists N packages (default 1,000,000; bench/gen-dpkg-status.py),
#   - a minified, single-line package-lock.json of LOCK_MIB MiB (default 200; bench/gen-npm-lock.py),
#   - package databases that are one line of LOCK_MIB MiB (a dpkg status, an apk database, a
#     package-lock.json with one huge value; bench/gen-single-line.py), as hostile input looks,
# against the same run's floors and peers: reading the file (cat), dpkg-query listing the same
# status file, and Python's json.load of the same lockfile. Output goes to /dev/null (a pipe
# would measure the reader). One run per line (these take seconds to minutes); the numbers for
# docs/BENCHMARKS.md are the medians of RUNS runs (default 3).
#
# Usage: bench/big-inventory.sh [WORKDIR]     (default /var/tmp/vigil-big-inventory)
#   N=1000000 LOCK_MIB=200 RUNS=3 VIGIL=target/release/vigil bench/big-inventory.sh
# The scans use a database imported from ../shared/vulndata when present (else the test fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/var/tmp/vigil-big-inventory}"
N="${N:-1000000}"
LOCK_MIB="${LOCK_MIB:-200}"
RUNS="${RUNS:-3}"
if [ -z "${VIGIL:-}" ]; then
  cargo build --release --quiet
  VIGIL="$(cargo metadata --format-version 1 --no-deps | python3 -c "import json,sys; print(json.load(sys.stdin)['target_directory'])")/release/vigil"
fi
mkdir -p "$WORK"
[ -s "$WORK/rootfs/var/lib/dpkg/status" ] || python3 bench/gen-dpkg-status.py "$N" "$WORK/rootfs"
[ -s "$WORK/package-lock.json" ] || python3 bench/gen-npm-lock.py "$LOCK_MIB" "$WORK/package-lock.json" >/dev/null
[ -s "$WORK/single/npm/package-lock.json" ] || python3 bench/gen-single-line.py "$LOCK_MIB" "$WORK/single"
export VIGIL_DB_DIR="$WORK/db"
if [ ! -s "$VIGIL_DB_DIR/vigil.db" ]; then
  if [ -d ../shared/vulndata/osv ]; then
    "$VIGIL" --quiet db import ../shared/vulndata/osv ../shared/vulndata/kev/known_exploited_vulnerabilities.json >/dev/null
  else
    "$VIGIL" --quiet db import crates/vigil-cli/tests/fixtures/osv >/dev/null
  fi
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# "peak-MiB seconds" of one run of the command.
one() {
  /usr/bin/time -v "$@" >/dev/null 2>"$WORK/time.txt" || { tail -5 "$WORK/time.txt" >&2; return 1; }
  awk -F': ' '/Maximum resident set size/ {kib=$2} /Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]} END {printf "%.0f %.2f\n", kib/1024, s}' "$WORK/time.txt"
}
# Median peak MiB and median seconds over RUNS runs.
measure() {
  local label="$1"; shift
  local runs; runs=$(for _ in $(seq "$RUNS"); do one "$@"; done)
  printf '%-44s %10s %10s\n' "$label" "$(echo "$runs" | cut -d' ' -f1 | median)" "$(echo "$runs" | cut -d' ' -f2 | median)"
}

status="$WORK/rootfs/var/lib/dpkg/status"
lock="$WORK/package-lock.json"
echo "dpkg status: $(grep -c '^Package: ' "$status") packages, $(( $(stat -c %s "$status") >> 20 )) MiB;" \
     "package-lock.json: $(( $(stat -c %s "$lock") >> 20 )) MiB on one line; $RUNS runs each"
printf '%-44s %10s %10s\n' "command" "peak MiB" "seconds"
measure "floor: cat dpkg status" cat "$status"
measure "peer: dpkg-query -W (same status)" dpkg-query --admindir="$WORK/rootfs/var/lib/dpkg" -W
for format in cyclonedx spdx json; do
  measure "vigil sbom --format $format (dpkg)" "$VIGIL" --quiet sbom --format "$format" "$WORK/rootfs"
done
for format in table json sarif junit markdown cyclonedx; do
  measure "vigil scan --format $format (dpkg)" "$VIGIL" --quiet scan --offline --format "$format" "$WORK/rootfs"
done
measure "floor: cat package-lock.json" cat "$lock"
measure "peer: python3 json.load (same lockfile)" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$lock"
for format in cyclonedx spdx json; do
  measure "vigil sbom --format $format (lockfile)" "$VIGIL" --quiet sbom --format "$format" "$lock"
done
measure "vigil scan --format json (lockfile)" "$VIGIL" --quiet scan --offline --format json "$lock"
for kind in dpkg apk npm; do
  measure "vigil sbom --format json (one-line $kind)" "$VIGIL" --quiet sbom --format json "$WORK/single/$kind"
done
