#!/usr/bin/env bash
# Regenerates the dialect reference in docs/dialect from the .td files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
ninja -C "$build" moe-doc
mkdir -p "$root/docs/dialect"
cp "$build"/docs/generated/*.md "$root/docs/dialect/"
echo "updated $(ls "$root"/docs/dialect)"
