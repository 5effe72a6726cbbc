#!/usr/bin/env bash
# Benchmark of `vigil db update` on the whole shared advisory set (13 OSV
# ecosystem folders, ~40,500 records, plus KEV) served from a local HTTP
# mirror on 127.0.0.1, next to the floors measured in the same run:
#   transfer  curl fetching the same 13 zips from the same server
#   inflate   unzip -p of every zip to /dev/null (single-threaded)
#   parse     Python json.loads of every record (a naive single-threaded peer)
# Prints the median of RUNS runs of each (default 5) and records/s.
#
# Usage: bench/db-update.sh [VULNDATA_DIR]   (default ../shared/vulndata)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="$(cd "${1:-../shared/vulndata}" && pwd)"
RUNS="${RUNS:-5}"
PORT="${PORT:-8765}"

cargo build --release --quiet
VIGIL="$PWD/${CARGO_TARGET_DIR:-target}/release/vigil"
[ -x "$VIGIL" ] || VIGIL="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/vigil"

python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$DATA" >/dev/null 2>&1 &
SERVER=$!
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/README.md" >/dev/null && break; sleep 0.1; done

ECOS=()
while IFS= read -r d; do ECOS+=("$(basename "$d")"); done < <(find "$DATA/osv" -mindepth 1 -maxdepth 1 -type d | sort)
ARGS=(--osv-base "http://127.0.0.1:$PORT/osv" --kev-url "http://127.0.0.1:$PORT/kev/known_exploited_vulnerabilities.json" --no-epss)
for e in "${ECOS[@]}"; do ARGS+=(--ecosystem "$e"); done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { # label, command...
  local label="$1"; shift
  for _ in $(seq "$RUNS"); do
    local t0; t0=$(now); "$@" >/dev/null 2>&1; local t1; t1=$(now)
    echo "$t1 - $t0" | bc -l
  done | median > "$WORK/$label"
}

fetch_all() { for e in "${ECOS[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$PORT/osv/${e// /%20}/all.zip"; done; }
inflate_all() { for e in "${ECOS[@]}"; do unzip -p "$DATA/osv/$e/all.zip" >/dev/null; done; }
parse_all() {
  python3 - "$DATA/osv" <<'PY'
import json, sys, zipfile, pathlib
n = 0
for z in sorted(pathlib.Path(sys.argv[1]).glob("*/all.zip")):
    with zipfile.ZipFile(z) as f:
        for name in f.namelist():
            json.loads(f.read(name)); n += 1
PY
}
update() { VIGIL_DB_DIR="$WORK/db" "$VIGIL" db update --quiet "${ARGS[@]}"; }

time_runs transfer fetch_all
time_runs inflate inflate_all
time_runs parse parse_all
time_runs update update
RECORDS=$(VIGIL_DB_DIR="$WORK/db" "$VIGIL" db status --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["advisories"])')

printf '%-44s %10s %14s\n' "step (median of $RUNS)" "seconds" "records/s"
for label in transfer inflate parse update; do
  s=$(cat "$WORK/$label")
  printf '%-44s %10.3f %14.0f\n' "$label" "$s" "$(echo "$RECORDS / $s" | bc -l)"
done
echo "records in database: $RECORDS; vigil update / parse floor: $(echo "$(cat "$WORK/update") / $(cat "$WORK/parse")" | bc -l | cut -c1-5)x"
