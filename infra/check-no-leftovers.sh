#!/usr/bin/env bash
# Fails when a process the stack starts is still alive after a run: the tests must stop what they start.
cd "$(dirname "$0")/.."
root=$(pwd)
left=$(pgrep -af -- "$root/\.stack|$root/infra/event-bridge|$root/infra/supervisor|$root/node_modules/osls" | grep -v pgrep || true)
if [ -n "$left" ]; then
  echo "left behind by the run:" >&2
  echo "$left" >&2
  exit 1
fi
echo "no stack process left behind"
