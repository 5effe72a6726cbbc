#!/usr/bin/env bash
# Vendored from shared/scripts (the project's own build script for real test root filesystems).
# Build a real Debian root filesystem and container images from it, for scanner tests and
# benchmarks. Everything comes from Debian's own packages; nothing is pulled from a registry.
#
#   mkrootfs.sh OUTDIR [SUITE] [EXTRA_PACKAGES]
#
# OUTDIR/<suite>.tar              the root filesystem as a tarball (mmdebstrap)
# OUTDIR/<suite>/                 the same, unpacked (for directory scans)
# OUTDIR/<suite>.docker.tar       docker-archive image (podman save)
# OUTDIR/<suite>.oci.tar          oci-archive image (podman save --format oci-archive)
# OUTDIR/<suite>.oci/             OCI image layout directory (podman save --format oci-dir)
# OUTDIR/<suite>.dpkg-query.txt   the oracle: `dpkg-query -W` over the unpacked root
#
# Needs root and: mmdebstrap podman (apt-get install -y mmdebstrap podman).
set -euo pipefail
out=${1:?usage: mkrootfs.sh OUTDIR [SUITE] [EXTRA_PACKAGES]}
suite=${2:-bookworm}
extra=${3:-openssl,curl,python3,libxml2,openssh-server,sudo}
mkdir -p "$out"
for tool in mmdebstrap podman dpkg-query; do
  command -v "$tool" >/dev/null || { echo "mkrootfs: $tool is missing (apt-get install -y mmdebstrap podman)" >&2; exit 2; }
done
# The Debian mirror this machine's apt already uses (deb822 sources first, then sources.list).
mirror=${MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)}
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[[ -n $mirror ]] || { echo "mkrootfs: no Debian mirror found in the apt sources; set MIRROR" >&2; exit 2; }
if [[ ! -s $out/$suite.tar ]]; then
  mmdebstrap --variant=minbase --format=tar --include="$extra" "$suite" "$out/$suite.part.tar" "$mirror" </dev/null
  mv "$out/$suite.part.tar" "$out/$suite.tar"
fi
rm -rf "$out/$suite" && mkdir -p "$out/$suite"
tar -C "$out/$suite" -xf "$out/$suite.tar" --exclude='./dev/*'
dpkg-query --admindir="$out/$suite/var/lib/dpkg" -W -f='${Package}\t${Version}\t${source:Package}\t${source:Version}\n' \
  | sort >"$out/$suite.dpkg-query.txt"
ref=localhost/vigil-test/$suite:latest
podman import "$out/$suite.tar" "$ref" >/dev/null
rm -f "$out/$suite.docker.tar" "$out/$suite.oci.tar"; rm -rf "$out/$suite.oci"
podman save --format docker-archive -o "$out/$suite.docker.tar" "$ref"
podman save --format oci-archive -o "$out/$suite.oci.tar" "$ref"
podman save --format oci-dir -o "$out/$suite.oci" "$ref"
echo "mkrootfs: $(wc -l <"$out/$suite.dpkg-query.txt") packages in $out/$suite"
