#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the tools the tests
# use as oracles (dpkg, Debian's python3-rpm and python3-packaging,
# docker-registry, skopeo and podman for registry and engine sources, golang-go, ruby, elixir,
# OpenSCAP with Debian's ComplianceAsCode content, conan from PyPI, checkov and detect-secrets
# (each in its own virtual environment), the
# CycloneDX and SPDX validators and jsonschema from PyPI, cargo-audit from
# crates.io; a real Debian rootfs and images built with mmdebstrap and
# podman), then checks formatting and
# lints and runs every test. With the tools installed
# here, VIGIL_REQUIRE_ORACLES=1 makes a missing oracle fail loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

missing=()
command -v dpkg >/dev/null 2>&1 || missing+=(dpkg)
/usr/bin/python3 -c 'import rpm' >/dev/null 2>&1 || missing+=(python3-rpm)
/usr/bin/python3 -c 'import packaging.version' >/dev/null 2>&1 || missing+=(python3-packaging)
# A real registry on 127.0.0.1 and the tool that fills it, for the registry pull tests.
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
# A local engine (its Docker-compatible API service) for the engine-source test.
command -v podman >/dev/null 2>&1 || missing+=(podman)
# `go version -m`, the oracle for the Go binary cataloger; Ruby's own Gem::Specification for gemspecs.
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
# The shells and man, which check the completion scripts and manual pages Vigil generates.
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
command -v fish >/dev/null 2>&1 || missing+=(fish)
command -v man >/dev/null 2>&1 || missing+=(man-db)
# Elixir's own Version (Hex ordering) and its reading of mix.lock.
command -v elixir >/dev/null 2>&1 || missing+=(elixir)
# GNU time measures the peak memory the memory-bound tests check.
[ -x /usr/bin/time ] || missing+=(time)
# The server tests: sqlite3 checks a database after kill -9, openssl makes a
# certificate and curl checks the server's TLS with it.
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# OpenSCAP and Debian's ComplianceAsCode content, the oracle for the compliance checks.
command -v oscap-chroot >/dev/null 2>&1 || missing+=(openscap-scanner openscap-utils)
[ -s /usr/share/xml/scap/ssg/content/ssg-debian11-oval.xml ] || missing+=(ssg-debian)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing test oracles: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The official SBOM validators and jsonschema (for the vendored SARIF schema), from PyPI.
# cryptography signs the tokens of the registry token service the bearer-auth test runs.
if ! python3 -c 'import cyclonedx.validation.json, spdx_tools, jsonschema, cryptography' >/dev/null 2>&1; then
  echo "installing validators: cyclonedx-python-lib[json-validation] spdx-tools jsonschema cryptography"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    'cyclonedx-python-lib[json-validation]>=8' 'spdx-tools>=0.8' 'jsonschema>=4' 'cryptography>=41'
fi

# Conan's own Version and lockfile reader (ConanCenter ordering, conan.lock), from PyPI.
if ! python3 -c 'import conan.internal.model.version' >/dev/null 2>&1; then
  echo "installing conan (the ConanCenter oracle)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore 'conan>=2,<3'
fi

# schemathesis, run against the server's OpenAPI document, in a virtual environment of its
# own (its dependencies would clash with the oracles above).
export VIGIL_SCHEMATHESIS="${VIGIL_SCHEMATHESIS:-/var/tmp/vigil-schemathesis/bin/st}"
if ! "$VIGIL_SCHEMATHESIS" --version >/dev/null 2>&1; then
  echo "installing schemathesis into $(dirname "$(dirname "$VIGIL_SCHEMATHESIS")")"
  python3 -m venv "$(dirname "$(dirname "$VIGIL_SCHEMATHESIS")")"
  "$(dirname "$VIGIL_SCHEMATHESIS")/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

# Checkov (misconfiguration oracle) and Yelp's detect-secrets (secret oracle), each in a virtual
# environment of its own: Checkov pins versions (packaging and more) that would break the oracles above.
export VIGIL_CHECKOV="${VIGIL_CHECKOV:-/var/tmp/vigil-checkov/bin/checkov}"
if ! "$VIGIL_CHECKOV" --version >/dev/null 2>&1; then
  echo "installing checkov into $(dirname "$(dirname "$VIGIL_CHECKOV")")"
  python3 -m venv "$(dirname "$(dirname "$VIGIL_CHECKOV")")"
  "$(dirname "$VIGIL_CHECKOV")/pip" install --quiet --disable-pip-version-check 'checkov>=3,<4'
fi
export VIGIL_DETECT_SECRETS="${VIGIL_DETECT_SECRETS:-/var/tmp/vigil-detect-secrets/bin/detect-secrets}"
if ! "$VIGIL_DETECT_SECRETS" --version >/dev/null 2>&1; then
  echo "installing detect-secrets into $(dirname "$(dirname "$VIGIL_DETECT_SECRETS")")"
  python3 -m venv "$(dirname "$(dirname "$VIGIL_DETECT_SECRETS")")"
  "$(dirname "$VIGIL_DETECT_SECRETS")/pip" install --quiet --disable-pip-version-check 'detect-secrets>=1.5,<2'
fi

# PostgreSQL: the store, platform and server tests run on it as well as on SQLite
# (VIGIL_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test).
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  $sudo pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

# cargo-audit, for the cross-check of RustSec findings (built from crates.io).
if ! cargo audit --version >/dev/null 2>&1; then
  echo "installing cargo-audit (cargo install cargo-audit --locked; a few minutes on 2 cores)"
  cargo install cargo-audit --locked --quiet
fi

# A real Debian root filesystem and its docker-archive, oci-archive and OCI layout forms
# (mmdebstrap and podman, from Debian's packages), built once into VIGIL_REAL_ROOTFS.
export VIGIL_REAL_ROOTFS="${VIGIL_REAL_ROOTFS:-/var/tmp/vigil-rootfs}"
if [ ! -s "$VIGIL_REAL_ROOTFS/bookworm.dpkg-query.txt" ]; then
  if ! command -v mmdebstrap >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1; then
    echo "installing mmdebstrap and podman to build a real Debian rootfs and images"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mmdebstrap podman
  fi
  echo "building a Debian bookworm rootfs and its images into $VIGIL_REAL_ROOTFS (scripts/mkrootfs.sh)"
  $sudo bash scripts/mkrootfs.sh "$VIGIL_REAL_ROOTFS" bookworm
fi

export VIGIL_REQUIRE_ORACLES=1
cargo fmt --all --check
cargo test --workspace --locked
cargo clippy --workspace --all-targets --locked -- -D warnings
