// The host side of the grouped expert GEMMs (include/moe/Runtime/cuda/
// Experts.cuh, ExpertsSm90.cuh): the wgmma tilings' limits (shared memory,
// registers before and after setmaxnreg), the tile-map bound, the wgmma
// launch's block order over the tile chunks, the split-K counts and
// planning without a GPU.
// Runs on the CPU.
// REQUIRES: nvcc
// RUN: %nvcc -gencode arch=compute_90a,code=sm_90a %s -o %t
// RUN: %t | FileCheck %s
// CHECK: gemm-plan: {{[0-9]+}} checks, 0 failed

#include "Inputs/Check.h"
#include "moe/Runtime/cuda/Experts.cuh"

#include <algorithm>
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

// Expert offsets of `rows` rows spread uniformly over a random number of
// the V3 experts (the others get none).
static std::vector<int32_t> randomOffsets(int64_t rows, std::mt19937 &rng) {
  std::vector<int32_t> off(V3Up::E + 1, 0);
  const int hot = std::uniform_int_distribution<int>(1, V3Up::E)(rng);
  for (int64_t r = 0; r < rows; ++r)
    ++off[1 + std::uniform_int_distribution<int>(0, hot - 1)(rng)];
  for (int e = 0; e < V3Up::E; ++e)
    off[e + 1] += off[e];
  return off;
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
  // Which GEMMs take the wgmma path.
  CHECK((Sm90Tiling<V3Up, 128>::Usable && Sm90Tiling<V3Down, 128>::Usable &&
         Sm90Tiling<V3Up, 256>::Usable && Sm90Tiling<V3Down, 256>::Usable),
        "V3 GEMMs");
  CHECK((Sm90Tiling<V2Up, 128>::Usable && Sm90Tiling<V2Down, 128>::Usable),
        "V2 GEMMs");
  CHECK((Sm90Tiling<Router, 128>::Usable && Sm90Tiling<Shared, 128>::Usable),
        "V3 router, shared expert");
  CHECK(!(Sm90Tiling<SmallRouter, 128>::Usable), "64 columns are no tile");
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
    const std::vector<int32_t> off = randomOffsets(rows, rng);
    for (int rowTile : {128, 256}) {
      const int64_t tiles = tilesFor(off, rowTile);
      CHECK(tiles <= maxRowTiles<V3Up>(rows),
            "rows %lld, tile %d: %lld tiles, %lld slots", (long long)rows,
            rowTile, (long long)tiles, (long long)maxRowTiles<V3Up>(rows));
      CHECK(tiles <= divUp(rows, rowTile) + V3Up::E,
            "rows %lld, tile %d: the grid's slots", (long long)rows, rowTile);
    }
  }

  // The wgmma launch's block order: every tile x column tile exactly once,
  // the row tiles of a chunk (one expert's) next to each other for each
  // column tile, no block past the tiles doing work.
  for (int trial = 0; trial < 60; ++trial) {
    const int rowTile = trial % 2 ? 256 : 128, columnTiles = 3 + trial % 5;
    const int64_t rows = std::uniform_int_distribution<int64_t>(0, 90000)(rng);
    const std::vector<int32_t> off = randomOffsets(rows, rng);
    const int64_t slots = divUp(rows, rowTile) + V3Up::E;
    std::vector<RowTile> tiles(slots, RowTile{-1, 0, 0, 0});
    int64_t first = 0;
    for (int e = 0; e < V3Up::E; ++e) {
      writeExpertTiles(e, off[e], off[e + 1], rowTile, tiles.data() + first);
      first += divUp(off[e + 1] - off[e], rowTile);
    }
    std::vector<int> seen(first * columnTiles, 0);
    bool inOrder = true, sameExpert = true;
    int64_t prevBlock = -1;
    int prevSlot = -1, prevColumn = -1;
    for (int64_t b = 0; b < slots * columnTiles; ++b) {
      int slot = -1, column = -1;
      if (!chunkBlock(tiles.data(), slots, b, columnTiles, &slot, &column))
        continue;
      if (slot < 0 || slot >= first || column < 0 || column >= columnTiles) {
        CHECK(false, "block %lld: slot %d column %d", (long long)b, slot,
              column);
        break;
      }
      ++seen[slot * columnTiles + column];
      sameExpert &= tiles[slot].expert == tiles[b / columnTiles].expert;
      // Within a chunk, a column's row tiles come one after another.
      if (prevBlock == b - 1 && column == prevColumn)
        inOrder &= slot == prevSlot + 1;
      prevBlock = b;
      prevSlot = slot;
      prevColumn = column;
    }
    CHECK(std::count(seen.begin(), seen.end(), 1) ==
              static_cast<int64_t>(seen.size()),
          "rows %lld, tile %d: each tile and column tile once", (long long)rows,
          rowTile);
    CHECK(sameExpert && inOrder,
          "rows %lld, tile %d: chunks hold one expert, row tiles fastest",
          (long long)rows, rowTile);
  }

  // Planning needs a device: without one it says so and keeps the portable
  // plan.
  int devices = 0;
  const bool gpu = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  GemmPlan plan{0, true};
  const cudaError_t err = planGemms<V3Up, V3Down>(&plan);
  if (gpu) {
    CHECK(err == cudaSuccess, "planGemms: %s", cudaGetErrorString(err));
  } else {
    CHECK(err != cudaSuccess, "planGemms without a GPU must fail");
    CHECK(plan.rowTile == 128 && !plan.sm90, "the portable plan is kept");
  }
  // A spec with no wgmma tiling plans the portable path without asking.
  GemmPlan small{0, true};
  CHECK(planGemms<SmallRouter>(&small) == cudaSuccess && small.rowTile == 128 &&
            !small.sm90,
        "portable plan for the small router");

  // Split-K counts: powers of two up to 8 that divide the reduction steps
  // and keep the blocks within 128; nothing once the tiles fill the GPU.
  struct SplitCase {
    int64_t rows;
    int kTiles, columnTiles, splits;
  } splitCases[] = {
      {1, 112, 1, 8},    // the V3 router at T = 1
      {4096, 112, 1, 4}, // ... at T = 4096: 32 tiles
      {16384, 112, 1, 1},
      {1, 112, 16, 8},   // the shared gate/up at T = 1: 16 column tiles
      {300, 112, 16, 2}, // 3 row tiles
      {4096, 112, 16, 1},
      {1, 32, 28, 4}, // the shared down: 28 column tiles
      {64, 32, 28, 4},
      {129, 32, 28, 2},
      {1, 7, 1, 1}, // 7 steps do not halve
      {1, 2, 1, 2},
      {0, 112, 1, 8}, // no rows: nothing to split, but no harm either
  };
  for (const SplitCase &c : splitCases) {
    const int s = gemmSplits(c.rows, c.kTiles, c.columnTiles);
    CHECK(s == c.splits, "gemmSplits(%lld, %d, %d) = %d, expected %d",
          (long long)c.rows, c.kTiles, c.columnTiles, s, c.splits);
    CHECK(splitRows(c.rows, c.kTiles, c.columnTiles) ==
              (c.splits > 1 ? c.splits * c.rows : 0),
          "splitRows(%lld, %d, %d)", (long long)c.rows, c.kTiles,
          c.columnTiles);
  }

  std::printf("gemm-plan: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
