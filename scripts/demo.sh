#!/usr/bin/env bash
# The main job: set up the machine, build, and run the built-in DeepSeek-V3
# example: parse and verify the moe.layer, expand it into the primitive ops,
# verify again, and print the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" moe-opt >/dev/null

example="$root/examples/deepseek-v3.mlir"
echo "== moe-opt --moe-expand-layer --verify-each examples/deepseek-v3.mlir"
"$build/bin/moe-opt" "$example" --moe-expand-layer --verify-each
