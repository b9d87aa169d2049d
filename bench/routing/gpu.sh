#!/usr/bin/env bash
# On the GPU machine: the runtime unit test, the smoke test under
# compute-sanitizer, then the check + benchmark. Arguments: the prepared
# folder (bench/routing/prepare.py) and the output folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prepared=${1:-$root/.bench/routing}
out=${2:-${OUT:-/tmp/moe-bench}}
mkdir -p "$out"
nvidia-smi -L
nvcc="nvcc -std=c++17 -O3 -I$root/include -gencode arch=compute_90a,code=sm_90a"
$nvcc "$root/test/Runtime/cuda/runtime-test.cu" -o /tmp/runtime-test
/tmp/runtime-test
$nvcc -I"$prepared" "$root/bench/routing/smoke.cu" "$prepared/routing.cu" -o /tmp/routing-smoke
compute-sanitizer --tool memcheck --error-exitcode 3 /tmp/routing-smoke | tail -3
compute-sanitizer --tool racecheck --error-exitcode 3 /tmp/routing-smoke | tail -2
PYTHONUNBUFFERED=1 python3 "$root/bench/routing/bench.py" "$prepared" "$out" "${@:3}"
