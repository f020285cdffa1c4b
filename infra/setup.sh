#!/usr/bin/env bash
# Brings a fresh clone to a runnable state, doing only what is missing:
#  - npm install from package-lock.json (exact versions; Node 24 comes in as the `node` devDependency).
#    Not `npm ci`: the lockfile cannot list DuckDB's binaries for other platforms (the registry
#    reachable here does not serve them), and `npm ci` refuses a lockfile without them.
#  - Debian's Ceph (radosgw, ceph-mon, ceph-osd) when the local S3 server is the default RGW
#  - Debian's chromium is not needed yet.
# Every external command has a timeout so a stuck mirror cannot hang a run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install (from package-lock.json)"
  timeout 900 npm install --no-audit --no-fund
fi

needs_rgw=1
[ -n "${S3_ENDPOINT:-}" ] && needs_rgw=0
[ -n "${MINIO_BIN:-}" ] && needs_rgw=0
[ "${S3_BACKEND:-rgw}" != rgw ] && needs_rgw=0
if [ "$needs_rgw" = 1 ] && ! { command -v radosgw && command -v ceph-mon && command -v ceph-osd && command -v monmaptool; } >/dev/null; then
  echo "setup: installing Ceph RGW from Debian (radosgw ceph-mon ceph-osd)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install radosgw ceph-mon ceph-osd" >&2; exit 1; }
    SUDO=sudo
  fi
  timeout 600 $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 $SUDO apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd
fi
