#!/usr/bin/env bash
# Build the native addon of the npm package `faiss-node` (pinned 0.5.1) against
# Debian's faiss (libfaiss-dev 1.7.3, static libfaiss.a) + OpenBLAS.
#
# Why: faiss-node's npm install script downloads a prebuilt binary / clones faiss
# from GitHub, which is unreachable here, so the package is installed with
# `npm install --ignore-scripts` and its addon is compiled by this script.
#
# Run from the repo root:   bash infra/vector-index/build-faiss-node.sh
# Env overrides:
#   NODE_BIN              node used for resolution + load check (default: node_modules/.bin/node)
#   FAISS_NODE_FORCE=1    rebuild even if a loadable addon already exists
#   FAISS_BUILD_TIMEOUT   seconds allowed for the g++ compile (default: 600)
#
# Only network access: Debian apt (and only if a required package is missing).
set -euo pipefail

log() { echo "[build-faiss-node] $*"; }
die() { echo "[build-faiss-node] ERROR: $*" >&2; exit 1; }

REPO_ROOT="$(pwd)"
NODE_BIN="${NODE_BIN:-$REPO_ROOT/node_modules/.bin/node}"
BUILD_TIMEOUT="${FAISS_BUILD_TIMEOUT:-600}"
APT_PACKAGES=(libfaiss-dev libopenblas-dev g++)
LIBFAISS_A=/usr/lib/x86_64-linux-gnu/libfaiss.a

[ -x "$NODE_BIN" ] || die "node not found at $NODE_BIN (run from the repo root after npm install, or set NODE_BIN)"
log "node: $NODE_BIN ($(timeout 30 "$NODE_BIN" --version))"

# Resolve package dirs the way Node does (handles hoisting / nesting).
# `node -e` resolves bare specifiers relative to the current directory (repo root).
resolve_pkg() { # $1 = package name, $2 = directory to resolve from
  timeout 30 "$NODE_BIN" -e '
    const path = require("path");
    try {
      const p = require.resolve(process.argv[1] + "/package.json", { paths: [process.argv[2]] });
      process.stdout.write(path.dirname(p));
    } catch { process.exit(1); }' "$1" "$2"
}

FAISS_DIR="$(resolve_pkg faiss-node "$REPO_ROOT")" \
  || die "faiss-node is not installed (npm install --ignore-scripts --save-exact faiss-node@0.5.1)"
OUT_DIR="$FAISS_DIR/build/Release"          # first match for require('bindings')('faiss-node') is build/faiss-node.node, then build/Debug, then build/Release
OUT_NODE="$OUT_DIR/faiss-node.node"
log "faiss-node $(timeout 30 "$NODE_BIN" -p "require('$FAISS_DIR/package.json').version") at $FAISS_DIR"

# Smoke test: load through the package's own entry point (lib/index.js -> bindings).
load_check() {
  timeout 60 "$NODE_BIN" -e '
    const faiss = require(process.argv[1]);
    const idx = new faiss.IndexFlatIP(4);
    idx.add([1, 0, 0, 0,  0, 1, 0, 0,  0, 0, 1, 0]);
    const r = idx.search([0, 1, 0, 0], 2);
    if (idx.ntotal() !== 3 || r.labels[0] !== 1 || Math.abs(r.distances[0] - 1) > 1e-6) {
      console.error("unexpected result", r); process.exit(1);
    }' "$FAISS_DIR"
}

# ---- 1. idempotency: skip if an addon exists and works ---------------------------------
if [ "${FAISS_NODE_FORCE:-0}" != "1" ] && [ -f "$OUT_NODE" ]; then
  if load_check 2>/dev/null; then
    log "OK: $OUT_NODE already exists and loads; nothing to do (FAISS_NODE_FORCE=1 to rebuild)"
    exit 0
  fi
  log "existing $OUT_NODE does not load (e.g. missing libopenblas/libgomp); rebuilding"
fi

# ---- 2. system packages (only if missing) -----------------------------------------------
is_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]; }
missing=()
for p in "${APT_PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing apt packages (${missing[*]}) and not root; install them first"
  log "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  APT_OPTS=(-o DPkg::Lock::Timeout=300)   # wait for a concurrent apt/dpkg instead of failing
  if ! timeout 900 apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}"; then
    log "apt-get install failed; running apt-get update and retrying"
    timeout 300 apt-get "${APT_OPTS[@]}" update
    timeout 900 apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}"
  fi
else
  log "apt packages already installed: ${APT_PACKAGES[*]}"
fi
[ -f "$LIBFAISS_A" ] || die "$LIBFAISS_A not found after installing libfaiss-dev"

# ---- 3. headers: Node-API C headers (npm node-api-headers) + C++ wrapper (node-addon-api)
NAPI_HEADERS_DIR="$(resolve_pkg node-api-headers "$REPO_ROOT" || true)"
if [ -n "$NAPI_HEADERS_DIR" ] && [ -f "$NAPI_HEADERS_DIR/include/node_api.h" ]; then
  NAPI_INC="$NAPI_HEADERS_DIR/include"
elif [ -f /usr/include/node/node_api.h ]; then
  NAPI_INC=/usr/include/node
  log "WARNING: node-api-headers not installed; falling back to /usr/include/node"
else
  die "no Node-API headers: add the npm package node-api-headers (devDependency)"
fi
ADDON_API_DIR="$(resolve_pkg node-addon-api "$FAISS_DIR")" \
  || die "node-addon-api (a dependency of faiss-node) not found"
[ -f "$ADDON_API_DIR/napi.h" ] || die "napi.h missing in $ADDON_API_DIR"
log "Node-API headers: $NAPI_INC"
log "node-addon-api:   $ADDON_API_DIR"

# ---- 4. patched copy of the source (node_modules sources are left untouched) ------------
# faiss-node 0.5.1 targets faiss 1.7.4 (namespace-level faiss::idx_t); Debian 12 ships
# 1.7.3 where idx_t only exists as faiss::Index::idx_t (both are int64_t).
SRC_DIR="$FAISS_DIR/build/src-debian"
mkdir -p "$SRC_DIR" "$OUT_DIR"
cp "$FAISS_DIR/src/faiss.cc" "$SRC_DIR/faiss.cc"
sed -i 's/^using idx_t = faiss::idx_t;$/using idx_t = faiss::Index::idx_t;/' "$SRC_DIR/faiss.cc"
grep -q '^using idx_t = faiss::Index::idx_t;$' "$SRC_DIR/faiss.cc" \
  || die "could not apply the idx_t patch to faiss.cc (unexpected faiss-node version?)"

# ---- 5. compile ------------------------------------------------------------------------
TMP_OUT="$OUT_DIR/faiss-node.node.tmp.$$"
trap 'rm -f "$TMP_OUT"' EXIT
log "compiling (timeout ${BUILD_TIMEOUT}s; usually <10s) ..."
start=$(date +%s)
timeout "$BUILD_TIMEOUT" g++ -O2 -shared -fPIC -std=c++17 -fopenmp -DNAPI_VERSION=8 \
  -I"$NAPI_INC" -I"$ADDON_API_DIR" \
  "$SRC_DIR/faiss.cc" -o "$TMP_OUT" \
  "$LIBFAISS_A" -lopenblas -lgomp \
  || die "g++ failed or timed out"
log "compiled in $(( $(date +%s) - start ))s"

# Every undefined symbol must come from a linked library, except Node-API ones
# (provided by the node executable at load time).
unresolved="$(ldd -r "$TMP_OUT" 2>&1 | grep 'undefined symbol' | grep -vE 'undefined symbol: (napi_|node_api_)' || true)"
[ -z "$unresolved" ] || die "addon has unresolved symbols:
$unresolved"
mv -f "$TMP_OUT" "$OUT_NODE"
trap - EXIT

# ---- 6. verify with the project's node -------------------------------------------------
load_check || die "built $OUT_NODE but it fails to load/search with $NODE_BIN"
log "OK: built and verified $OUT_NODE"
