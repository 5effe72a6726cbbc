#!/usr/bin/env bash
# The platform server benchmarks of docs/BENCHMARKS.md, on one backend:
#   bench/platform.sh sqlite|postgres [WORKDIR]
# Builds the advisory databases from ../shared/vulndata, generates the fleet
# (10,000 assets, real package names and versions from OSV, about 1,000,000
# findings; skipped when already there), then times ingest, search and lists,
# the re-match after an advisory update, and wrk on the read endpoints.
# Everything listens on 127.0.0.1. Needs wrk (apt install wrk) and, for
# postgres, the PostgreSQL of this machine (database vigil_bench is recreated
# when GENERATE=fresh).
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:?sqlite or postgres}"
work="${2:-/var/tmp/vigil-bench}"
shared="${VIGIL_SHARED:-../shared}"
mkdir -p "$work/$backend"
cargo build --release -p vigil-bench
bench="${CARGO_TARGET_DIR:-target}/release/platform-bench"
case "$backend" in
  sqlite) db="sqlite://$work/sqlite/server.db?mode=rwc" ;;
  postgres) db="${VIGIL_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/vigil_bench}" ;;
  *) echo "unknown backend $backend" >&2; exit 2 ;;
esac
run() { "$bench" --database "$db" --data-dir "$work/$backend" "$@"; }

kev="$shared/vulndata/kev/known_exploited_vulnerabilities.json"
[ -s "$work/vulndb-1.db" ] || "$bench" vulndb --out "$work/vulndb-1.db" "$shared"/vulndata/osv "$kev"
# The update the re-match follows: the same data without RubyGems.
[ -s "$work/vulndb-2.db" ] ||
  "$bench" vulndb --out "$work/vulndb-2.db" $(ls -d "$shared"/vulndata/osv/* | grep -v RubyGems) "$kev"

echo "== generate"
run generate --vulndb "$work/vulndb-1.db" --osv "$shared/vulndata/osv" --assets 10000 --packages 60 --affected-share 0.05
echo "== search"
run search --runs "${RUNS:-50}"
echo "== ingest"
run ingest --osv "$shared/vulndata/osv" --packages 1000 --runs 30
echo "== wrk: 200 connections, 60 s, read endpoints"
token="$(mktemp)"
"$bench" --database "$db" --data-dir "$work/$backend" serve --listen 127.0.0.1:18080 --token-file "$token" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fs http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
for endpoints in lists all; do
  echo "-- $endpoints"
  WRK_ENDPOINTS=$endpoints VIGIL_TOKEN="$(cat "$token")" \
    wrk -t2 -c200 -d"${WRK_SECONDS:-60}"s --timeout 10s -s bench/platform-wrk.lua http://127.0.0.1:18080
done
kill $server; wait $server 2>/dev/null || true
echo "== rematch (advisory update)"
workers=1; [ "$backend" = postgres ] && workers=2
run rematch --vulndb "$work/vulndb-2.db" --vulndb "$work/vulndb-1.db" --workers "$workers"
