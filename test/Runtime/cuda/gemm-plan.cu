// The host side of the grouped expert GEMMs (include/moe/Runtime/cuda/
// Experts.cuh, ExpertsSm90.cuh): the row-tile choice, the wgmma tilings'
// limits (shared memory, registers before and after setmaxnreg), the
// tile-map bound and planning without a GPU. Runs on the CPU.
// REQUIRES: nvcc
// RUN: %nvcc -gencode arch=compute_90a,code=sm_90a %s -o %t
// RUN: %t | FileCheck %s
// CHECK: gemm-plan: {{[0-9]+}} checks, 0 failed

#include "Inputs/Check.h"
#include "moe/Runtime/cuda/Experts.cuh"

#include <cstdio>
#include <random>
#include <vector>

using namespace moe::cuda;
using bf16 = __nv_bfloat16;

// DeepSeek-V3 and -V2 expert GEMMs, the V3 shared expert and router, and a
// small router whose 64 columns are no whole wgmma tile.
using V3Up = GemmSpec<bf16, bf16, 256, 2048, 7168, true>;
using V3Down = GemmSpec<bf16, bf16, 256, 7168, 2048, false>;
using V2Up = GemmSpec<bf16, bf16, 160, 1536, 5120, true>;
using V2Down = GemmSpec<bf16, bf16, 160, 5120, 1536, false>;
using Shared = GemmSpec<bf16, bf16, 1, 2048, 7168, true>;
using Router = GemmSpec<bf16, float, 1, 256, 7168, false>;
using SmallRouter = GemmSpec<bf16, float, 1, 64, 256, false>;

// Tiles the tile map writes for these offsets with rowTile-row tiles.
static int64_t tilesFor(const std::vector<int32_t> &offsets, int rowTile) {
  int64_t total = 0;
  for (size_t e = 0; e + 1 < offsets.size(); ++e)
    total += divUp(offsets[e + 1] - offsets[e], rowTile);
  return total;
}

template <class G, int Rows> static void checkTiling(const char *name) {
  using C = Sm90Tiling<G, Rows>;
  CHECK(C::SmemBytes <= 232448, "%s/%d: %d bytes of shared memory", name, Rows,
        C::SmemBytes);
  CHECK(C::Stages >= 4, "%s/%d: %d stages", name, Rows, C::Stages);
  CHECK(C::Threads == 128 * (C::Consumers + 1) && C::Consumers * 64 == Rows,
        "%s/%d: one consumer per 64 rows, %d threads", name, Rows, C::Threads);
  CHECK(C::StageBytes % 1024 == 0 && C::ABytes % 1024 == 0,
        "%s/%d: stages must stay 1024-byte aligned", name, Rows);
  // setmaxnreg moves registers within what the block was launched with;
  // asking for more waits forever.
  CHECK(C::LaunchRegs * C::Threads <= 65536 && C::LaunchRegs % 8 == 0,
        "%s/%d: %d registers at launch", name, Rows, C::LaunchRegs);
  CHECK(C::Consumers * 128 * C::ConsumerRegs + 128 * C::ProducerRegs <=
            C::LaunchRegs * C::Threads,
        "%s/%d: registers after setmaxnreg", name, Rows);
  CHECK(C::ConsumerRegs >= C::Acc + 32 && C::ConsumerRegs % 8 == 0 &&
            C::ProducerRegs >= 24,
        "%s/%d: %d consumer registers for %d accumulators", name, Rows,
        C::ConsumerRegs, C::Acc);
  CHECK(C::ColumnTiles * C::OutCols == G::N, "%s/%d: column tiles", name, Rows);
}

int main() {
  // The row tile: 256 while experts average 96 to 256 rows.
  CHECK(sm90RowTile(256 * 128, 256) == 256, "T=4096 V3");
  CHECK(sm90RowTile(8192 * 8, 256) == 256, "T=8192 V3");
  CHECK(sm90RowTile(64 * 8, 256) == 128, "T=64 V3");
  CHECK(sm90RowTile(16384 * 8, 256) == 128, "T=16384 V3");
  CHECK(sm90RowTile(4096, 1) == 128, "shared expert");
  CHECK(sm90RowTile(96 * 256, 256) == 128, "96 rows per expert");
  CHECK(sm90RowTile(96 * 256 + 1, 256) == 256, "just over 96");
  CHECK(sm90RowTile(256 * 256, 256) == 256, "256 rows per expert");
  CHECK(sm90RowTile(256 * 256 + 1, 256) == 128, "just over 256");

  // Which GEMMs take the wgmma path.
  CHECK(sm90Usable<V3Up> && sm90Usable<V3Down>, "V3 GEMMs");
  CHECK(sm90Usable<V2Up> && sm90Usable<V2Down>, "V2 GEMMs");
  CHECK(sm90Usable<Router> && sm90Usable<Shared>, "V3 router, shared expert");
  CHECK(!sm90Usable<SmallRouter>, "64 columns are no tile");
  checkTiling<V3Up, 128>("V3 up");
  checkTiling<V3Up, 256>("V3 up");
  checkTiling<V3Down, 128>("V3 down");
  checkTiling<V3Down, 256>("V3 down");
  checkTiling<V2Down, 256>("V2 down");
  checkTiling<Shared, 128>("shared");
  CHECK((Sm90Tiling<V3Up, 128>::ColumnTiles == 16 &&
         Sm90Tiling<V3Up, 256>::ColumnTiles == 32 &&
         Sm90Tiling<V3Down, 128>::ColumnTiles == 28 &&
         Sm90Tiling<V3Down, 256>::ColumnTiles == 56),
        "V3 column tiles");
  CHECK((Sm90Tiling<V3Up, 128>::Stages == 4 &&
         Sm90Tiling<V3Up, 256>::Stages == 4 &&
         Sm90Tiling<V3Up, 128>::ConsumerRegs == 232 &&
         Sm90Tiling<V3Up, 256>::ConsumerRegs == 112),
        "V3 stages and registers");

  // The tile map fits its slots for any loads, with either row tile, and
  // the wgmma grids cover every tile.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t rows = std::uniform_int_distribution<int64_t>(0, 600000)(rng);
    std::vector<int32_t> off(V3Up::E + 1, 0);
    const int hot = std::uniform_int_distribution<int>(1, V3Up::E)(rng);
    for (int64_t r = 0; r < rows; ++r)
      ++off[1 + std::uniform_int_distribution<int>(0, hot - 1)(rng)];
    for (int e = 0; e < V3Up::E; ++e)
      off[e + 1] += off[e];
    for (int rowTile : {128, 256}) {
      const int64_t tiles = tilesFor(off, rowTile);
      CHECK(tiles <= maxRowTiles<V3Up>(rows),
            "rows %lld, tile %d: %lld tiles, %lld slots", (long long)rows,
            rowTile, (long long)tiles, (long long)maxRowTiles<V3Up>(rows));
      CHECK(tiles <= divUp(rows, rowTile) + V3Up::E,
            "rows %lld, tile %d: the grid's slots", (long long)rows, rowTile);
    }
  }

  // Planning needs a device: without one it says so and keeps the portable
  // plan.
  int devices = 0;
  const bool gpu = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  GemmPlan plan{0, true};
  const cudaError_t err = planGemms<V3Up, V3Down>(32768, &plan);
  if (gpu) {
    CHECK(err == cudaSuccess, "planGemms: %s", cudaGetErrorString(err));
  } else {
    CHECK(err != cudaSuccess, "planGemms without a GPU must fail");
    CHECK(plan.rowTile == 128 && !plan.sm90, "the portable plan is kept");
  }
  // A spec with no wgmma tiling plans the portable path without asking.
  GemmPlan small{0, true};
  CHECK(planGemms<SmallRouter>(100, &small) == cudaSuccess &&
            small.rowTile == 128 && !small.sm90,
        "portable plan for the small router");

  std::printf("gemm-plan: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
