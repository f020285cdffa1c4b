#!/usr/bin/env bash
# Brings a fresh clone to a runnable state, doing only what is missing:
#  - npm install from package-lock.json (exact versions; Node 24 comes in as the `node` devDependency).
#    Not `npm ci`: the lockfile cannot list DuckDB's binaries for other platforms (the registry
#    reachable here does not serve them), and `npm ci` refuses a lockfile without them.
#  - the Debian packages below, and the vector index addon (infra/vector-index)
#  - Debian's chromium is not needed yet.
# Every external command has a timeout so a stuck mirror cannot hang a run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install (from package-lock.json)"
  timeout 900 npm install --no-audit --no-fund
fi

# Debian packages, installed only when missing (dpkg -s), in one apt-get run:
#  - Ceph RGW (radosgw ceph-mon ceph-osd) when the local S3 server is the default RGW
#  - faiss (libfaiss-dev libopenblas-dev) and g++: the vector index's N-API addon is compiled
#    against Debian's faiss (faiss-node's own install script downloads from GitHub)
#  - python3-onnx python3-numpy: the tests generate a tiny random-weight embedding model
#  - chromium: the tests render the batch report page in a real browser (playwright-core drives it)
packages=(libfaiss-dev libopenblas-dev g++ python3-onnx python3-numpy chromium)
needs_rgw=1
[ -n "${S3_ENDPOINT:-}" ] && needs_rgw=0
[ -n "${MINIO_BIN:-}" ] && needs_rgw=0
[ "${S3_BACKEND:-rgw}" != rgw ] && needs_rgw=0
[ "$needs_rgw" = 1 ] && packages+=(radosgw ceph-mon ceph-osd)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing from Debian: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  timeout 600 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash infra/vector-index/build-faiss-node.sh
