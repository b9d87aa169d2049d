#!/usr/bin/env bash
# Every GPU check and benchmark in one device call: routing, training,
# dispatch. Run bench/{routing,training,dispatch}/prepare.py here first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/moe-bench}
bash "$root/bench/routing/gpu.sh" "$root/.bench/routing" "$out" "$@" 2>&1 | grep -vE "^(res|sass) "
bash "$root/bench/training/gpu.sh" "$root/.bench/training" "$out"
bash "$root/bench/dispatch/gpu.sh" "$root/.bench/dispatch" "$out"
