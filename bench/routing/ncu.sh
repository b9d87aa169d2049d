#!/usr/bin/env bash
# Profiles routing kernels with Nsight Compute (clock control off, as the
# lent machines require). Arguments: prepared folder, output folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prepared=${1:-$root/.bench/routing}
out=${2:-${OUT:-/tmp/moe-bench}}
mkdir -p "$out"
nvcc -std=c++17 -O3 -I"$root/include" -I"$prepared" -gencode arch=compute_90a,code=sm_90a \
  "$root/bench/routing/profile.cu" "$prepared/routing.cu" -o /tmp/routing-profile
for cfg in ${CONFIGS:-v3_f32 v2_lite_f32}; do
  ncu --clock-control none --launch-skip 2 --launch-count 1 -k "regex:${cfg}_k0" \
    --section SpeedOfLight --section Occupancy --section LaunchStats \
    --section WarpStateStats --section InstructionStats --section SchedulerStats \
    /tmp/routing-profile "$cfg" 65536 > "$out/ncu-$cfg.txt" 2>&1 || true
  grep -E "Duration|Memory Throughput|Compute \(SM\)|Achieved Occupancy|Theoretical Occupancy|Executed Ipc|Issue Slots Busy|Warp Cycles Per Issued|Executed Instructions  |No Eligible|Registers Per|Block Limit|Stall|One or More" "$out/ncu-$cfg.txt" | sed "s/^/$cfg: /" | head -40
done
