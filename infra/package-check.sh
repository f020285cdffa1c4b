#!/usr/bin/env bash
# Packages every function the way CI and `osls deploy` do (`npm run package`: osls with the bundling
# plugin, infra/package/osls-plugin.ts; no AWS credentials, no network), then checks each artifact
# (infra/package/check-artifacts.ts): it exists, holds its handler's bundle and no source, test or dev
# dependency, fits Lambda's 250 MB, and, unpacked in a fresh Node 24 process with the function's own
# environment, its handler and every package it loads later import from the artifact alone. Prints
# each function's zip and unzipped size; exits 1 when any artifact is missing or fails a check.
#   bash infra/package-check.sh            (artifacts in a temporary folder, removed afterwards)
#   PACKAGE_DIR=dist bash infra/package-check.sh   (kept in dist/, e.g. for a CI artifact)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

if [ -n "${PACKAGE_DIR:-}" ]; then
  out="$PACKAGE_DIR"
else
  out="$(mktemp -d "${TMPDIR:-/tmp}/vaultmend-package.XXXXXX")"
  trap 'rm -rf "$out"' EXIT
fi

started=$(date +%s)
if ! timeout --kill-after=10 300 osls package --stage "${STAGE:-prod}" --package "$out"; then
  echo "package-check: osls package failed (or took longer than 300 s)" >&2
  exit 1
fi
echo "package-check: packaged in $(( $(date +%s) - started )) s into $out"
timeout --kill-after=10 300 node infra/package/check-artifacts.ts "$out"
