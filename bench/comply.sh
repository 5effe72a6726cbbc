#!/usr/bin/env bash
# Speed of the configuration and secret scanners on the real Debian root filesystem and image
# (scripts/mkrootfs.sh output, VIGIL_REAL_ROOTFS), with their peers in the same run:
#   1. vigil scan IMAGE --scanners vuln  vs  --scanners vuln,config,secret   (layer cache off)
#   2. vigil comply ROOTFS (the Debian policy, every check)  vs  oscap-chroot evaluating ONE
#      ComplianceAsCode OVAL definition (its floor) and all of ssg-debian11's definitions
#   3. vigil comply ROOTFS --scanners secret  vs  detect-secrets scan --all-files on the same tree
#
#   bench/comply.sh ROOTFS_DIR [OSV_DEBIAN_DIR]       (RUNS=5 by default; medians in seconds)
set -euo pipefail
root=${1:?usage: bench/comply.sh VIGIL_REAL_ROOTFS [OSV_DEBIAN_DIR]}
osv=${2:-../shared/vulndata/osv/Debian}
vigil=${VIGIL:-target/release/vigil}
runs=${RUNS:-5}
ds=${VIGIL_DETECT_SECRETS:-/var/tmp/vigil-detect-secrets/bin/detect-secrets}
content=/usr/share/xml/scap/ssg/content/ssg-debian11-oval.xml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VIGIL_DB_DIR=$work/db
"$vigil" db import "$osv" --quiet >/dev/null

# median wall-clock seconds of RUNS runs of a command
median() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

image=$root/bookworm.docker.tar
rootfs=$root/bookworm
vuln=$(median "$vigil" scan "$image" --offline --no-cache --quiet --format json)
all=$(median "$vigil" scan "$image" --offline --no-cache --quiet --format json --scanners vuln,config,secret)
echo "scan image, vuln only:              $vuln s"
echo "scan image, vuln,config,secret:     $all s  ($(echo "scale=2; $all / $vuln" | bc)x)"

comply=$(median "$vigil" comply "$rootfs" --policy debian --quiet --format json)
one=$(median oscap-chroot "$rootfs" oval eval --id oval:ssg-sshd_disable_root_login:def:1 "$content")
echo "vigil comply rootfs (99 checks):    $comply s"
echo "oscap-chroot, one definition:       $one s"
if [ "${ALL_OVAL:-0}" = 1 ]; then
  every=$(RUNS=1 median oscap-chroot "$rootfs" oval eval "$content")
  echo "oscap-chroot, every definition:     $every s"
fi

secrets=$(median "$vigil" comply "$rootfs" --scanners secret --quiet --format json)
echo "vigil secrets over the rootfs:      $secrets s"
if [ -x "$ds" ]; then
  dsec=$(cd "$rootfs" && RUNS=${DS_RUNS:-1} median "$ds" scan --all-files .)
  echo "detect-secrets over the rootfs:     $dsec s"
fi
