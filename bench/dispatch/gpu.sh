#!/usr/bin/env bash
# On the GPU machine: the dispatch smoke test under compute-sanitizer, then
# the check + benchmark. Arguments: prepared folder, output folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prepared=${1:-$root/.bench/dispatch}
out=${2:-${OUT:-/tmp/moe-bench}}
mkdir -p "$out"
nvcc="nvcc -std=c++17 -O3 -I$root/include -gencode arch=compute_90a,code=sm_90a"
$nvcc -I"$prepared" "$root/bench/dispatch/smoke.cu" "$prepared/dispatch.cu" -o /tmp/dispatch-smoke
/tmp/dispatch-smoke
compute-sanitizer --tool memcheck --error-exitcode 3 /tmp/dispatch-smoke | tail -2
compute-sanitizer --tool racecheck --error-exitcode 3 /tmp/dispatch-smoke | tail -1
compute-sanitizer --tool initcheck --error-exitcode 3 /tmp/dispatch-smoke | tail -1
PYTHONUNBUFFERED=1 python3 "$root/bench/dispatch/bench.py" "$prepared" "$out"
