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
# Static SASS size and register use of each kernel (a lead for tuning).
if command -v cuobjdump >/dev/null; then
  cuobjdump -sass "$out/librouting.so" | awk '/Function :/ {f=$3} /^ +\/\*[0-9a-f]+\*\// {n[f]++} END {for (k in n) printf "sass %-40s %6d instructions\n", k, n[k]}' | sort
  cuobjdump -res-usage "$out/librouting.so" 2>/dev/null | grep -E "Function|REG" | paste - - | sed 's/Resource usage://' | awk '{print "res", $0}' | head -20
fi
