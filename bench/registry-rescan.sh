#!/usr/bin/env bash
# Registry pulls: the real Debian image pushed to a local docker-registry (127.0.0.1, plain
# HTTP) with skopeo, then `vigil sbom` of the reference: first with an empty layer cache
# (download, verify, walk), then again with the layer cached (manifest, index and config
# requests only). Also `skopeo copy` of the same image to a local directory, the time just to
# download and store it, as the peer. Median of RUNS runs (default 5).
#
# Usage: bench/registry-rescan.sh [DIR]   DIR holds bookworm.oci.tar (scripts/mkrootfs.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-${VIGIL_REAL_ROOTFS:-/var/tmp/vigil-rootfs}}"
RUNS="${RUNS:-5}"
for tool in docker-registry skopeo; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
cargo build --release --quiet
VIGIL="$(cargo metadata --format-version 1 --no-deps | python3 -c "import json,sys; print(json.load(sys.stdin)['target_directory'])")/release/vigil"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$work" "$port" > "$work/config.yml"
docker-registry serve "$work/config.yml" >/dev/null 2>&1 &
registry=$!
trap 'kill $registry; rm -rf "$work"' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci-archive:$DIR/bookworm.oci.tar" "docker://127.0.0.1:$port/debian:bookworm"
ref="127.0.0.1:$port/debian:bookworm"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() { for _ in $(seq "$RUNS"); do "${setup[@]}"; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; done | median; }

export VIGIL_CACHE_DIR="$work/cache"
setup=(rm -rf "$work/cache" "$work/copy")
cold=$(time_runs "$VIGIL" sbom "$ref" --format json)
peer=$(time_runs skopeo --insecure-policy copy --quiet --src-tls-verify=false "docker://$ref" "dir:$work/copy")
setup=(true)
"$VIGIL" sbom "$ref" --format json >/dev/null 2>&1
warm=$(time_runs "$VIGIL" sbom "$ref" --format json)
printf '%-34s %8.3fs\n' "skopeo copy to a directory (peer)" "$peer" "vigil sbom, empty layer cache" "$cold" "vigil sbom, layer cached (rescan)" "$warm"
