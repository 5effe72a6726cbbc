#!/usr/bin/env bash
# `vigil scan Cargo.lock` against `cargo audit` on the same lockfile and the same RustSec
# advisories (the whole advisory-db in its native layout for cargo-audit, its OSV export for
# Vigil; no fetching), with the findings compared. Median of RUNS runs (default 7).
#
# Usage: bench/scan-vs-cargo-audit.sh [LOCKFILE] [VULNDATA_DIR]
#   LOCKFILE defaults to crates/vigil-cli/tests/fixtures/cargo-audit/Cargo.lock
set -euo pipefail
cd "$(dirname "$0")/.."
LOCK="$(realpath "${1:-crates/vigil-cli/tests/fixtures/cargo-audit/Cargo.lock}")"
DATA="$(cd "${2:-../shared/vulndata}" && pwd)"
RUNS="${RUNS:-7}"
command -v cargo-audit >/dev/null || { echo "cargo-audit is missing: cargo install cargo-audit --locked" >&2; exit 2; }

cargo build --release --quiet
VIGIL="$(cargo metadata --format-version 1 --no-deps | python3 -c "import json,sys; print(json.load(sys.stdin)['target_directory'])")/release/vigil"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$DATA/rustsec-advisory-db" "$WORK/advisory-db"
(cd "$WORK/advisory-db" && git init -q && git add -A && git -c user.email=b@b -c user.name=b commit -qm db)
VIGIL_DB_DIR="$WORK/db" "$VIGIL" db import --quiet "$DATA/osv/crates.io/all.zip" >/dev/null

audit() { cargo audit --no-fetch --stale --no-yanked --json --db "$WORK/advisory-db" --file "$LOCK"; }
scan() { VIGIL_DB_DIR="$WORK/db" "$VIGIL" scan "$LOCK" --format json --quiet --offline; }

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { for _ in $(seq "$RUNS"); do t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now); echo "$t1 - $t0" | bc -l; done | median; }

A=$(time_runs audit)
V=$(time_runs scan)
a_found=$( (audit 2>/dev/null || true) | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["vulnerabilities"]["count"], sum(len(v) for k,v in d["warnings"].items() if k != "yanked"))')
v_found=$(scan 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["summary"]; print(s["vulnerabilities"], s["informational"])')
echo "lockfile: $LOCK ($(grep -c '^\[\[package\]\]' "$LOCK") packages); median of $RUNS runs"
printf '%-28s %8.3f s   vulnerabilities, warnings: %s\n' "cargo audit" "$A" "$a_found"
printf '%-28s %8.3f s   vulnerabilities, informational: %s\n' "vigil scan" "$V" "$v_found"
echo "vigil is $(echo "$A / $V" | bc -l | cut -c1-5)x faster"
