#!/usr/bin/env bash
# Regenerates what is generated from .td files and committed: the dialect
# reference in docs/dialect and the kernel limits header the CUDA runtime
# includes (include/moe/Runtime/cuda/KernelLimits.h).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MOE_BUILD_DIR:-$root/build}
ninja -C "$build" moe-doc
mkdir -p "$root/docs/dialect"
cp "$build"/docs/generated/*.md "$root/docs/dialect/"
cp "$build/docs/generated/KernelLimits.h" "$root/include/moe/Runtime/cuda/KernelLimits.h"
echo "updated $(ls "$root"/docs/dialect) and KernelLimits.h"
