#!/usr/bin/env bash
# Brings a fresh clone to a runnable state, doing only what is missing, and leaves the checkout
# exactly as cloned (`git status --porcelain` prints nothing afterwards):
#  - `npm ci` from package-lock.json (exact versions; Node 24 comes in as the `node` devDependency).
#    `npm ci` never writes package-lock.json. The lockfile lists the optional platform packages of
#    every platform (DuckDB's bindings for darwin, win32, linux-arm64, musl, ...): npm installs only
#    the one for this machine, and without them `npm ci` refuses the lockfile while `npm install`
#    adds them to it (which dirtied the checkout).
#  - the Debian packages below, and the vector index addon (infra/vector-index).
# npm runs on the system Node (20 here) while every script runs on node_modules/.bin/node (24),
# so npm's EBADENGINE warnings about packages that Node 24 satisfies are not actionable: they are
# dropped (counted in one line); any other warning, and every error, is printed as npm wrote it.
# Every external command has a timeout so a stuck mirror cannot hang a run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prints npm's stderr ($1) to stderr without the EBADENGINE blocks whose required Node range the
# project's Node ($2) satisfies (npm ran on $3) (counted on stdout). Without a semver module to judge them, or if
# this filter fails, npm's whole stderr is printed.
print_npm_warnings() {
  local log="$1" runtime="$2" npm_node="$3"
  "$runtime" - "$log" "$("$runtime" --version)" "$npm_node" <<'EOF' || cat "$log" >&2
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const [log, version, npmNode] = process.argv.slice(2);
let semver;
for (const from of [path.resolve('node_modules/semver'), () => path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8', timeout: 30000 }).trim(), 'npm/node_modules/semver')]) {
  try { semver = require(typeof from === 'function' ? from() : from); break; } catch {}
}
const lines = fs.readFileSync(log, 'utf8').split('\n');
const out = [];
let dropped = 0;
for (let i = 0; i < lines.length; i++) {
  if (!/^npm warn EBADENGINE Unsupported engine \{$/.test(lines[i])) { out.push(lines[i]); continue; }
  let end = i;
  while (end < lines.length - 1 && !/^npm warn EBADENGINE \}$/.test(lines[end])) end++;
  const block = lines.slice(i, end + 1);
  const required = /required: \{ node: '([^']+)'/.exec(block.join('\n'))?.[1];
  const onlyNode = !/required: \{ node: '[^']+', npm:/.test(block.join('\n'));
  if (semver && required && onlyNode && semver.satisfies(version, required, { includePrerelease: true })) dropped++;
  else out.push(...block);
  i = end;
}
const text = out.join('\n').trim();
if (text) process.stderr.write(`${text}\n`);
if (dropped) process.stdout.write(`setup: ${dropped} npm EBADENGINE warning(s) not shown: they judge the Node that npm itself runs on (${npmNode}), while every script runs on node_modules/.bin/node ${version}, which those packages accept\n`);
EOF
}

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (from package-lock.json)"
  # The Node npm runs on now (before the install puts node_modules/.bin/node first on PATH).
  npm_node="$(node --version 2>/dev/null || echo unknown)"
  npm_log="$(mktemp "${TMPDIR:-/tmp}/vaultmend-npm.XXXXXX")"
  trap 'rm -f "$npm_log"' EXIT
  if ! timeout 900 npm ci --no-audit --no-fund 2>"$npm_log"; then
    cat "$npm_log" >&2
    echo "setup: npm ci failed (see above). If package.json changed, refresh the lockfile with \`npm install\` and commit it." >&2
    exit 1
  fi
  print_npm_warnings "$npm_log" node_modules/.bin/node "$npm_node"
fi

# Debian packages, installed only when missing (dpkg -s), in one apt-get run:
#  - Ceph RGW (radosgw ceph-mon ceph-osd) when the local S3 server is the default RGW
#  - faiss (libfaiss-dev libopenblas-dev) and g++: the vector index's N-API addon is compiled
#    against Debian's faiss (faiss-node's own install script downloads from GitHub)
#  - python3-onnx python3-numpy: the tests generate a tiny random-weight embedding model
#  - chromium: the tests render the batch report page in a real browser (playwright-core drives it)
packages=(libfaiss-dev libopenblas-dev g++ python3-onnx python3-numpy chromium)
# The backend as infra/stack-config.ts decides it: S3_BACKEND, else minio when MINIO_BIN is set, else rgw.
backend="${S3_BACKEND:-}"
[ -z "$backend" ] && { [ -n "${MINIO_BIN:-}" ] && backend=minio || backend=rgw; }
[ "$backend" = rgw ] && packages+=(radosgw ceph-mon ceph-osd)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  # apt and dpkg narrate every package (and debconf warns that apt-utils is missing): keep that in
  # a log and print it only when the install fails.
  apt_log="$(mktemp "${TMPDIR:-/tmp}/vaultmend-apt.XXXXXX")"
  echo "setup: installing from Debian: ${missing[*]} (a few minutes; log: $apt_log)"
  if ! { timeout 600 $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
      timeout 900 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2
    echo "setup: apt-get failed (last lines above; whole log: $apt_log)" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi

bash infra/vector-index/build-faiss-node.sh
