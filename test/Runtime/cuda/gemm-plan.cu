// The host side of the grouped expert GEMMs (include/moe/Runtime/cuda/
// Experts.cuh, ExpertsSm90.cuh): the wgmma tilings' limits (shared memory,
// the four stages the compiler picks being the most that fit, registers
// before and after setmaxnreg, column tiles), the tile-map bound, the tile
// map's chunks and the wgmma launch's block order over them for chunks of
// 1, 4, 8 and 15 row tiles, and the launchers' argument checks: bad
// arguments are refused before any device is asked, and without a GPU a
// valid launch fails instead of crashing.
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

using namespace moe;
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

// The stages moegpu-configure picks on sm_90a for both tilings.
constexpr int kStages = 4;
// The rows of the launches whose arguments are checked.
constexpr int64_t rows = 300;

// The mma.sync kernel of the small router (what launchGemmMma takes).
__global__ void __launch_bounds__(256)
    smallRouterMma(const bf16 *a, const bf16 *w, const RowTile *tiles,
                   float *out, const int32_t *rowSource) {
  groupedGemmBody<SmallRouter>(a, w, tiles, out, rowSource);
}

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
  using C = Sm90Tiling<G, Rows, kStages>;
  CHECK(C::SmemBytes <= 232448 && C::SmemBytes <= wgmmaSharedBytes(),
        "%s/%d: %d bytes of shared memory", name, Rows, C::SmemBytes);
  // The compiler takes as many stages as fit: four, and five would not.
  CHECK(C::Stages == 4 && (C::Stages + 1) * C::StageBytes +
                                  limits::WgmmaSharedSlack + C::BM * 4 >
                              wgmmaSharedBytes(),
        "%s/%d: %d stages are not the most that fit", name, Rows, C::Stages);
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

// Whether writeExpertTiles gave the `count` tiles of rows [begin, end) in
// chunks of chunkSize (the last one of the expert shorter), each tile
// knowing its place in its chunk.
static bool chunksAsWritten(const RowTile *t, int e, int begin, int end,
                            int rowTile, int chunkSize) {
  const int count = static_cast<int>(divUp(end - begin, rowTile));
  for (int i = 0; i < count; ++i) {
    const int chunkStart = i / chunkSize * chunkSize;
    const int size = std::min(chunkSize, count - chunkStart);
    if (t[i].expert != e || t[i].begin != begin + i * rowTile ||
        t[i].end != std::min(begin + (i + 1) * rowTile, end) ||
        t[i].chunk != ((i - chunkStart) << 4 | size))
      return false;
  }
  return true;
}

// Fake device pointers: 16-byte aligned ones and a misaligned one. The
// launchers refuse bad arguments before they read them or ask a device.
template <typename T> static T *fakePointer(uintptr_t at) {
  return reinterpret_cast<T *>(at);
}

int main() {
  // The limits the compiler and the kernels share.
  CHECK(limits::GemmRowTile == 128 && V3Up::BM == limits::GemmRowTile,
        "the tile map's row tile");
  CHECK(limits::GemmTileChunk == 8 &&
            limits::GemmTileChunk <= limits::GemmMaxTileChunk &&
            limits::GemmMaxTileChunk <= 15,
        "chunks of 8, at most 15 (4 bits)");
  CHECK(limits::SplitTargetBlocks == 128 && limits::SplitMaxSplits == 8,
        "split-K limits");

  // Which GEMMs take the wgmma path.
  CHECK((Sm90Tiling<V3Up, 128, kStages>::Usable &&
         Sm90Tiling<V3Down, 128, kStages>::Usable &&
         Sm90Tiling<V3Up, 256, kStages>::Usable &&
         Sm90Tiling<V3Down, 256, kStages>::Usable),
        "V3 GEMMs");
  CHECK((Sm90Tiling<V2Up, 128, kStages>::Usable &&
         Sm90Tiling<V2Down, 128, kStages>::Usable),
        "V2 GEMMs");
  CHECK((Sm90Tiling<Router, 128, kStages>::Usable &&
         Sm90Tiling<Shared, 128, kStages>::Usable),
        "V3 router, shared expert");
  CHECK(!(Sm90Tiling<SmallRouter, 128, kStages>::Usable),
        "64 columns are no tile");
  checkTiling<V3Up, 128>("V3 up");
  checkTiling<V3Up, 256>("V3 up");
  checkTiling<V3Down, 128>("V3 down");
  checkTiling<V3Down, 256>("V3 down");
  checkTiling<V2Down, 256>("V2 down");
  checkTiling<Shared, 128>("shared");
  CHECK((Sm90Tiling<V3Up, 128, kStages>::ColumnTiles == 16 &&
         Sm90Tiling<V3Up, 256, kStages>::ColumnTiles == 32 &&
         Sm90Tiling<V3Down, 128, kStages>::ColumnTiles == 28 &&
         Sm90Tiling<V3Down, 256, kStages>::ColumnTiles == 56),
        "V3 column tiles");
  CHECK((Sm90Tiling<V3Up, 128, kStages>::Stages == 4 &&
         Sm90Tiling<V3Up, 256, kStages>::Stages == 4 &&
         Sm90Tiling<V3Up, 128, kStages>::ConsumerRegs == 232 &&
         Sm90Tiling<V3Up, 256, kStages>::ConsumerRegs == 112),
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

  // The tile map's chunks (up to chunkSize row tiles of one expert) and
  // the wgmma launch's block order over them: every tile x column tile
  // exactly once, the row tiles of a chunk (one expert's) next to each
  // other for each column tile, no block past the tiles doing work.
  for (int chunkSize : {1, 4, 8, 15})
    for (int trial = 0; trial < 40; ++trial) {
      const int rowTile = trial % 2 ? 256 : 128, columnTiles = 3 + trial % 5;
      // Every fourth trial few rows on few experts: chunks of one to a
      // few tiles, experts that end in a short chunk.
      const int64_t rows = std::uniform_int_distribution<int64_t>(
          0, trial % 4 == 3 ? 4000 : 90000)(rng);
      const std::vector<int32_t> off = randomOffsets(rows, rng);
      const int64_t slots = divUp(rows, rowTile) + V3Up::E;
      std::vector<RowTile> tiles(slots, RowTile{-1, 0, 0, 0});
      int64_t first = 0;
      bool written = true;
      for (int e = 0; e < V3Up::E; ++e) {
        writeExpertTiles(e, off[e], off[e + 1], rowTile, chunkSize,
                         tiles.data() + first);
        written &= chunksAsWritten(tiles.data() + first, e, off[e], off[e + 1],
                                   rowTile, chunkSize);
        first += divUp(off[e + 1] - off[e], rowTile);
      }
      CHECK(written && first <= slots,
            "chunk %d, rows %lld, tile %d: the tiles and their chunks",
            chunkSize, (long long)rows, rowTile);
      std::vector<int> seen(first * columnTiles, 0);
      bool inOrder = true, sameExpert = true;
      int64_t prevBlock = -1;
      int prevSlot = -1, prevColumn = -1;
      for (int64_t b = 0; b < slots * columnTiles; ++b) {
        int slot = -1, column = -1;
        if (!chunkBlock(tiles.data(), slots, b, columnTiles, &slot, &column))
          continue;
        if (slot < 0 || slot >= first || column < 0 || column >= columnTiles) {
          CHECK(false, "chunk %d, block %lld: slot %d column %d", chunkSize,
                (long long)b, slot, column);
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
            "chunk %d, rows %lld, tile %d: each tile and column tile once",
            chunkSize, (long long)rows, rowTile);
      CHECK(sameExpert && inOrder,
            "chunk %d, rows %lld, tile %d: chunks hold one expert, row tiles "
            "fastest",
            chunkSize, (long long)rows, rowTile);
    }

  // The launchers refuse bad arguments before they ask for a device: the
  // errors are the same with a GPU and without one.
  bf16 *a = fakePointer<bf16>(0x10000), *w = fakePointer<bf16>(0x20000),
       *out = fakePointer<bf16>(0x30000), *odd = fakePointer<bf16>(0x40008);
  float *partial = fakePointer<float>(0x50000);
  RowTile *tiles = fakePointer<RowTile>(0x60000);
  const int32_t *rowSource = fakePointer<const int32_t>(0x70000);
  const cudaStream_t stream = nullptr;
  // The shared expert's gate/up: one expert, K = 7168, 112 reduction steps.
  auto shared = [&](int splits, float *p, const bf16 *pa, const bf16 *pw,
                    bf16 *po, int64_t aRows = rows) {
    return launchGemmWgmma<Shared, 128, kStages>(
        rows, pa, aRows, nullptr, pw, tiles, po, p, splits, true, stream);
  };
  struct Refused {
    const char *what;
    cudaError_t got, expected;
  } refused[] = {
      {"3 splits of 112 steps", shared(3, partial, a, w, out),
       cudaErrorInvalidValue},
      {"32 splits of 112 steps", shared(32, partial, a, w, out),
       cudaErrorInvalidValue},
      {"113 splits of 112 steps", shared(113, partial, a, w, out),
       cudaErrorInvalidValue},
      {"0 splits", shared(0, partial, a, w, out), cudaErrorInvalidValue},
      {"16 splits (past SplitMaxSplits)", shared(16, partial, a, w, out),
       cudaErrorInvalidValue},
      {"112 splits (past SplitMaxSplits)", shared(112, partial, a, w, out),
       cudaErrorInvalidValue},
      {"7 splits (not a power of two)", shared(7, partial, a, w, out),
       cudaErrorInvalidValue},
      {"misaligned partial sums",
       shared(2, fakePointer<float>(0x50004), a, w, out),
       cudaErrorMisalignedAddress},
      {"-2 splits", shared(-2, partial, a, w, out), cudaErrorInvalidValue},
      {"2 splits without partial sums", shared(2, nullptr, a, w, out),
       cudaErrorInvalidValue},
      {"8 splits without partial sums", shared(8, nullptr, a, w, out),
       cudaErrorInvalidValue},
      {"aRows != numRows, rows in order", shared(1, nullptr, a, w, out, 299),
       cudaErrorInvalidValue},
      {"misaligned A", shared(1, nullptr, odd, w, out),
       cudaErrorMisalignedAddress},
      {"misaligned weights", shared(1, nullptr, a, odd, out),
       cudaErrorMisalignedAddress},
      {"misaligned output", shared(1, nullptr, a, w, odd),
       cudaErrorMisalignedAddress},
      {"misaligned A, split", shared(2, partial, odd, w, out),
       cudaErrorMisalignedAddress},
      // Splits need one expert: a routed GEMM's tiles do not cover the
      // rows the reduction reads.
      {"2 splits of a 256-expert GEMM",
       launchGemmWgmma<V3Up, 128, kStages>(rows, a, rows, nullptr, w, tiles,
                                           out, partial, 2, true, stream),
       cudaErrorInvalidValue},
      {"2 splits of a 256-expert GEMM, no rows",
       launchGemmWgmma<V3Up, 128, kStages>(0, a, 0, nullptr, w, tiles, out,
                                           partial, 2, true, stream),
       cudaErrorInvalidValue},
      {"misaligned output, 256 experts",
       launchGemmWgmma<V3Up, 128, kStages>(rows, a, rows, nullptr, w, tiles,
                                           odd, nullptr, 1, true, stream),
       cudaErrorMisalignedAddress},
      // The 256 x 128 tiling has no gathering producer.
      {"gathered rows, 256 x 128 tiles",
       launchGemmWgmma<V3Down, 256, kStages>(rows, a, 40, rowSource, w, tiles,
                                             out, nullptr, 1, true, stream),
       cudaErrorNotSupported},
      {"aRows != numRows, 256 x 128 tiles",
       launchGemmWgmma<V3Down, 256, kStages>(rows, a, 40, nullptr, w, tiles,
                                             out, nullptr, 1, false, stream),
       cudaErrorInvalidValue},
      // The mma.sync launcher.
      {"mma.sync: misaligned A",
       launchGemmMma<SmallRouter>(smallRouterMma, rows, odd, rows, nullptr, w,
                                  tiles, partial, stream),
       cudaErrorMisalignedAddress},
      {"mma.sync: misaligned output",
       launchGemmMma<SmallRouter>(smallRouterMma, rows, a, rows, nullptr, w,
                                  tiles, fakePointer<float>(0x50004), stream),
       cudaErrorMisalignedAddress},
      {"mma.sync: aRows != numRows, rows in order",
       launchGemmMma<SmallRouter>(smallRouterMma, rows, a, rows + 1, nullptr, w,
                                  tiles, partial, stream),
       cudaErrorInvalidValue},
      {"mma.sync: more tile slots than the grid takes",
       launchGemmMma<SmallRouter>(smallRouterMma, 65535ll * 128, a,
                                  65535ll * 128, nullptr, w, tiles, partial,
                                  stream),
       cudaErrorInvalidValue},
  };
  for (const Refused &r : refused)
    CHECK(r.got == r.expected, "%s: %s, expected %s", r.what,
          cudaGetErrorName(r.got), cudaGetErrorName(r.expected));

  // Valid arguments: every split count the compiler may give (a power of
  // two up to SplitMaxSplits dividing the reduction steps) passes the checks
  // and reaches the device question.
  int devices = 0;
  const bool gpu = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  auto pastChecks = [](cudaError_t err) {
    return err != cudaErrorInvalidValue && err != cudaErrorMisalignedAddress &&
           err != cudaErrorNotSupported;
  };
  if (!gpu) {
    // Without a GPU a valid launch fails (it never launches, never
    // crashes).
    for (int splits : {1, 2, 4, 8}) {
      const cudaError_t err = shared(splits, partial, a, w, out);
      CHECK(err != cudaSuccess && pastChecks(err),
            "shared expert, %d splits, no GPU: %s", splits,
            cudaGetErrorName(err));
    }
    const cudaError_t noRows = launchGemmWgmma<V3Up, 128, kStages>(
        0, a, 0, nullptr, w, tiles, out, nullptr, 1, true, stream);
    CHECK(noRows != cudaSuccess && pastChecks(noRows),
          "no rows, no GPU: %s (the device is checked first)",
          cudaGetErrorName(noRows));
    const cudaError_t gathered = launchGemmWgmma<V3Up, 128, kStages>(
        rows, a, 40, rowSource, w, tiles, out, nullptr, 1, false, stream);
    CHECK(gathered != cudaSuccess && pastChecks(gathered),
          "gathered rows, no GPU: %s", cudaGetErrorName(gathered));
    const cudaError_t mma = launchGemmMma<SmallRouter>(
        smallRouterMma, rows, a, rows, nullptr, w, tiles, partial, stream);
    CHECK(mma != cudaSuccess && pastChecks(mma), "mma.sync, no GPU: %s",
          cudaGetErrorName(mma));
  } else {
    // With a GPU, only a launch of no rows (which launches nothing): it
    // succeeds on compute capability 9.0 and is refused elsewhere.
    int major = 0, minor = 0;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
    const cudaError_t expected =
        major == 9 && minor == 0 ? cudaSuccess : cudaErrorInvalidDeviceFunction;
    const cudaError_t noRows = launchGemmWgmma<V3Up, 128, kStages>(
        0, a, 0, nullptr, w, tiles, out, nullptr, 1, true, stream);
    CHECK(noRows == expected, "no rows on compute capability %d.%d: %s", major,
          minor, cudaGetErrorName(noRows));
  }

  std::printf("gemm-plan: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
