#!/usr/bin/env bash
# The main job: set up the machine, build, and run the built-in DeepSeek-V3
# example: parse and verify the moe.layer, expand it into the primitive ops,
# verify again and print the result; print the dispatch plan; then run the V3 router step on the CPU
# reference on seeded random inputs and print a summary of the loads, the
# loss and the bias update.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" moe-opt MoeCAPIShared >/dev/null

example="$root/examples/deepseek-v3.mlir"
echo "== moe-opt --moe-expand-layer --verify-each examples/deepseek-v3.mlir"
"$build/bin/moe-opt" "$example" --moe-expand-layer --verify-each

echo
echo "== the dispatch plan: moe-opt --moe-expand-layer --moe-plan-dispatch"
"$build/bin/moe-opt" "$example" --moe-expand-layer --moe-plan-dispatch \
  -o /dev/null 2>&1 | grep -E "remark: dispatch plan" | sed 's/^[^ ]* remark: //'

echo
echo "== CPU reference: examples/run_deepseek_v3_cpu.py"
MOE_CAPI_LIB="$build/lib/libMoeCAPI.so" /usr/bin/python3 "$root/examples/run_deepseek_v3_cpu.py"
