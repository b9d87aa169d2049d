//===- Experts.cuh - grouped SwiGLU expert GEMMs ----------------*- CUDA
//-*-===//
//
// moe.expert_ffn on tensor cores (mma.sync m16n8k16, bf16 operands, f32
// accumulation; sm_80 and later), with the expert offsets read on the
// device:
//  * a tile map (one block): per expert ceil(rows / 128) row tiles, their
//    scan, and for every tile slot (expert, first row, end row) or -1;
//    experts with no rows have no tiles, so they cost nothing;
//  * GEMM1 (Dual): a block computes 128 rows x 64 columns of g = x Wg^T and
//    the matching 64 of u = x Wu^T, and writes h = silu(g) * u rounded to
//    the element type (the CPU reference's rounding point);
//  * GEMM2: 128 rows x 128 columns of y = h Wd^T.
// Operands stream through shared memory with cp.async in a three-stage
// pipeline (XOR-swizzled 64-byte rows, so ldmatrix is conflict-free). Each
// output element is one thread's fixed-order sum: deterministic.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_EXPERTS_CUH
#define MOE_RUNTIME_CUDA_EXPERTS_CUH

#include "moe/Runtime/cuda/Dispatch.cuh"

#include <algorithm>

namespace moe {
namespace cuda {

/// The tile of a grouped GEMM: its expert (-1: no tile), first and end row,
/// and where it lies in its chunk: an expert's tiles go in chunks of up to
/// `chunk` consecutive slots (the tile map's, moegpu.tile_map), `chunk` =
/// (index in the chunk << 4) | tiles in the chunk (the wgmma kernel runs a
/// chunk's blocks together).
struct RowTile {
  int32_t expert, begin, end, chunk;
};
static_assert(sizeof(RowTile) == limits::GemmRowTileBytes,
              "the compiler sizes tile maps with GemmRowTileBytes");
static_assert(limits::GemmMaxTileChunk <= 15, "chunk sizes take 4 bits");

/// A grouped GEMM out[r, n] = sum_k A[r, k] W[e(r), n', k] over the rows
/// of each expert; E experts (1: the shared expert or the router, all
/// rows), N output columns, K the reduction, outputs of type Out (In or
/// f32). Dual: W holds 2N rows per expert (gate, then up) and the output is
/// silu(gate) * up.
template <typename In_, typename Out_, int E_, int N_, int K_, bool Dual_>
struct GemmSpec {
  using In = In_;
  using Out = Out_;
  static constexpr int E = E_, N = N_, K = K_;
  static constexpr bool Dual = Dual_;
  static constexpr int BM = limits::GemmRowTile, BN = limits::MmaTileN,
                       BK = limits::MmaTileK, Stages = limits::MmaStages;
  static constexpr int Threads = limits::MmaThreads;
  /// Output columns per block.
  static constexpr int OutCols = Dual ? BN / 2 : BN;
  /// A plain GEMM may end in a partial column tile (the router's E).
  static constexpr int ColumnTiles = (N + OutCols - 1) / OutCols;
  /// Weight rows per expert.
  static constexpr int64_t WeightRows = Dual ? 2 * N : N;
  static_assert(K % BK == 0, "the reduction is whole 32-element steps");
  static_assert(!Dual || N % OutCols == 0, "gate/up is whole column tiles");
  static_assert(N % 2 == 0, "outputs are stored in pairs");
  static_assert(E >= 1 && E <= limits::GemmMaxExperts,
                "at most GemmMaxExperts experts");
};

/// What zeroTailBody needs of the output it zeroes: its type, the experts
/// and the columns.
template <typename Out_, int E_, int N_> struct ZeroTailSpec {
  using Out = Out_;
  static constexpr int E = E_, N = N_;
};

/// The tiles of expert e's rows [begin, end) at `tiles`, in chunks of up to
/// `chunkSize` tiles.
__host__ __device__ inline void writeExpertTiles(int e, int begin, int end,
                                                 int rowTile, int chunkSize,
                                                 RowTile *tiles) {
  const int count = static_cast<int>(divUp(end - begin, rowTile));
  for (int i = 0; i < count; ++i) {
    const int b = begin + i * rowTile;
    const int inChunk = i % chunkSize, chunkStart = i - inChunk;
    const int chunk =
        count - chunkStart < chunkSize ? count - chunkStart : chunkSize;
    tiles[i] = RowTile{e, b, b + rowTile < end ? b + rowTile : end,
                       inChunk << 4 | chunk};
  }
}

/// Block b of a chunked launch with columnTiles blocks per tile: its slot
/// and column tile, false for a block with no tile. Chunks take
/// columnTiles blocks per tile in slot order, so slot b / columnTiles lies
/// in b's chunk.
__host__ __device__ inline bool chunkBlock(const RowTile *tiles, int64_t slots,
                                           int64_t b, int columnTiles,
                                           int *slot, int *column) {
  const int64_t home = b / columnTiles;
  if (home >= slots)
    return false;
  const RowTile t = tiles[home];
  if (t.expert < 0)
    return false;
  const int64_t chunkStart = home - (t.chunk >> 4);
  const int chunk = t.chunk & 15;
  const int64_t inChunk = b - chunkStart * columnTiles;
  *slot = static_cast<int>(chunkStart + inChunk % chunk);
  *column = static_cast<int>(inChunk / chunk);
  return true;
}

/// Row-tile slots a grouped GEMM over numRows rows may need.
template <class G>
__host__ __device__ inline int64_t maxRowTiles(int64_t rows) {
  return divUp(rows, G::BM) + G::E;
}

/// The tile map (one block of GemmTileMapThreads threads) with rowTile-row
/// tiles in chunks of up to `chunk` of an expert, for E experts; the slots
/// past the last tile (divUp(numRows, rowTile) + E in all) are marked
/// unused. Without offsets (the shared expert, the router) all numRows rows
/// belong to expert 0.
template <int E>
__device__ void rowTilesBody(const int32_t *offsets, int64_t numRows,
                             RowTile *tiles, int rowTile, int chunk) {
  chainedStart();
  constexpr int Threads = limits::GemmTileMapThreads;
  static_assert(E <= Threads, "a thread per expert");
  __shared__ int warpSums[Threads / kWarpSize];
  const int e = threadIdx.x;
  int begin = 0, end = 0;
  if (e < E) {
    begin = offsets ? offsets[e] : 0;
    end = offsets ? offsets[e + 1] : static_cast<int>(numRows);
    if (end > numRows)
      end = static_cast<int>(numRows);
    if (end < begin)
      end = begin;
  }
  const int count = static_cast<int>(divUp(end - begin, rowTile));
  int total = 0;
  const int first = blockExclusiveScan<Threads>(count, warpSums, total);
  writeExpertTiles(e, begin, end, rowTile, chunk, tiles + first);
  const int64_t slots = divUp(numRows, rowTile) + E;
  for (int64_t y = total + threadIdx.x; y < slots; y += Threads)
    tiles[y] = RowTile{-1, 0, 0, 0};
}

__device__ __forceinline__ void cpAsync16(void *smem, const void *gmem,
                                          bool valid) {
  unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  int bytes = valid ? 16 : 0; // 0: zero-fill
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst),
               "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cpAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int Pending> __device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4], const void *p) {
  unsigned a = static_cast<unsigned>(__cvta_generic_to_shared(p));
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(a));
}

__device__ __forceinline__ void mmaBf16(float (&d)[4], const uint32_t (&a)[4],
                                        uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
               "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
               "{%0, %1, %2, %3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// Element offset of (row, 16-byte chunk) in a tile of 32-element rows: the
/// chunk is XOR-ed with bits 1-2 of the row so that the eight rows an
/// ldmatrix phase reads fall in eight different bank groups.
__device__ __forceinline__ int swizzled(int row, int chunk) {
  return row * 32 + ((chunk ^ ((row >> 1) & 3)) * 8);
}

/// silu(g) * u as the reference writes it: g / (1 + e^-g) * u, in f32.
__device__ __forceinline__ float siluMul(float g, float u) {
  return __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), u);
}

/// One block: rows [tile.begin, tile.end) of its tile slot (blockIdx.y) x
/// output columns [blockIdx.x * OutCols, +OutCols).
/// Stores two adjacent outputs.
__device__ __forceinline__ void storePair(__nv_bfloat16 *p, float a, float b) {
  *reinterpret_cast<__nv_bfloat162 *>(p) = __floats2bfloat162_rn(a, b);
}
__device__ __forceinline__ void storePair(float *p, float a, float b) {
  *reinterpret_cast<float2 *>(p) = make_float2(a, b);
}

/// Row r of the GEMM reads A row rowSource[r] (rows gathered from the
/// permute's input), or row r when rowSource is null.
template <class G>
__device__ void groupedGemmBody(const typename G::In *A,
                                const typename G::In *W, const RowTile *tiles,
                                typename G::Out *out,
                                const int32_t *rowSource) {
  static_assert(sizeof(typename G::In) == 2, "bf16 operands");
  chainedStart();
  using In = typename G::In;
  __shared__ __align__(128) In sA[G::Stages][G::BM * G::BK];
  __shared__ __align__(128) In sB[G::Stages][G::BN * G::BK];
  const RowTile tile = tiles[blockIdx.y];
  if (tile.expert < 0)
    return;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int wm = warp % 4, wn = warp / 4;
  const int n0 = blockIdx.x * G::OutCols;
  const In *w = W + static_cast<int64_t>(tile.expert) * G::WeightRows * G::K;

  // The weight row behind B-tile row `b` (Dual: gate rows, then up rows).
  auto weightRow = [&](int b) -> int64_t {
    if constexpr (G::Dual)
      return b < G::BN / 2 ? n0 + b : G::N + n0 + (b - G::BN / 2);
    else
      return n0 + b;
  };
  // The A rows this thread copies (the same two in every stage).
  const In *aRow[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int64_t r = tile.begin + (threadIdx.x + i * G::Threads) / 4;
    const int64_t at = r < tile.end ? r : tile.begin;
    aRow[i] = A + (rowSource ? rowSource[at] : at) * G::K;
  }
  auto load = [&](int stage, int kt) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      int c = threadIdx.x + i * G::Threads; // 512 chunks of 16 bytes each
      int row = c / 4, chunk = c % 4;
      bool valid = tile.begin + row < tile.end;
      const In *src = aRow[i] + kt * G::BK + chunk * 8;
      cpAsync16(&sA[stage][swizzled(row, chunk)], src, valid);
      const int64_t wr = weightRow(row);
      const bool wvalid = G::Dual || wr < G::N; // a partial column tile
      const In *wsrc = w + (wvalid ? wr : 0) * G::K + kt * G::BK + chunk * 8;
      cpAsync16(&sB[stage][swizzled(row, chunk)], wsrc, wvalid);
    }
  };

  float acc[2][8][4];
#pragma unroll
  for (int mi = 0; mi < 2; ++mi)
#pragma unroll
    for (int j = 0; j < 8; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q)
        acc[mi][j][q] = 0.0f;

  // The B-tile row of this warp's n-tile j (Dual: 4 gate then 4 up tiles,
  // column-matched).
  auto bRow = [&](int j) {
    if constexpr (G::Dual)
      return j < 4 ? wn * 32 + j * 8 : G::BN / 2 + wn * 32 + (j - 4) * 8;
    else
      return wn * 64 + j * 8;
  };

  constexpr int KTiles = G::K / G::BK;
#pragma unroll
  for (int s = 0; s < G::Stages - 1; ++s) {
    if (s < KTiles)
      load(s, s);
    cpAsyncCommit();
  }
  for (int kt = 0; kt < KTiles; ++kt) {
    cpAsyncWait<G::Stages - 2>();
    __syncthreads();
    const int next = kt + G::Stages - 1;
    if (next < KTiles)
      load(next % G::Stages, next);
    cpAsyncCommit();
    const In *a = sA[kt % G::Stages];
    const In *b = sB[kt % G::Stages];
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      uint32_t af[2][4];
#pragma unroll
      for (int mi = 0; mi < 2; ++mi)
        ldmatrixX4(af[mi], a + swizzled(wm * 32 + mi * 16 + lane % 16,
                                        kk * 2 + lane / 16));
#pragma unroll
      for (int jp = 0; jp < 4; ++jp) {
        uint32_t bf[4];
        int j = 2 * jp + lane / 16;
        ldmatrixX4(bf,
                   b + swizzled(bRow(j) + lane % 8, kk * 2 + (lane / 8) % 2));
#pragma unroll
        for (int mi = 0; mi < 2; ++mi) {
          mmaBf16(acc[mi][2 * jp], af[mi], bf[0], bf[1]);
          mmaBf16(acc[mi][2 * jp + 1], af[mi], bf[2], bf[3]);
        }
      }
    }
  }
  cpAsyncWait<0>();

  // Epilogue: c0, c1 at (row, col..col+1), c2, c3 eight rows below.
#pragma unroll
  for (int mi = 0; mi < 2; ++mi)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t r = tile.begin + wm * 32 + mi * 16 + lane / 4 + half * 8;
      if (r >= tile.end)
        continue;
      typename G::Out *row = out + r * G::N;
      if constexpr (G::Dual) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          int col = n0 + wn * 32 + j * 8 + (lane % 4) * 2;
          float h0 = siluMul(acc[mi][j][2 * half], acc[mi][j + 4][2 * half]);
          float h1 =
              siluMul(acc[mi][j][2 * half + 1], acc[mi][j + 4][2 * half + 1]);
          // h is rounded to the element type before the down projection.
          storePair(row + col, h0, h1);
        }
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          int col = n0 + wn * 64 + j * 8 + (lane % 4) * 2;
          if (col < G::N)
            storePair(row + col, acc[mi][j][2 * half],
                      acc[mi][j][2 * half + 1]);
        }
      }
    }
}

/// Rows [offsets[E], numRows) of an expert output belong to no expert:
/// zero (a grid-stride loop over 16-byte vectors).
template <class G>
__device__ void zeroTailBody(const int32_t *offsets, int64_t numRows,
                             typename G::Out *out) {
  chainedStart();
  static_assert(G::N * sizeof(typename G::Out) % 16 == 0, "16-byte rows");
  constexpr int Vecs = G::N * sizeof(typename G::Out) / 16;
  const int64_t first = offsets[G::E] < numRows ? offsets[G::E] : numRows;
  const int64_t total = (numRows - first) * Vecs;
  uint4 *dst = reinterpret_cast<uint4 *>(out + first * G::N);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = make_uint4(0u, 0u, 0u, 0u);
}

/// The grid of a grouped GEMM over numRows rows: column tiles x row-tile
/// slots (at most GemmMaxRowTileSlots: T*K up to ~8.4 million rows).
template <class G> inline cudaError_t gemmGrid(int64_t numRows, dim3 *grid) {
  int64_t slots = maxRowTiles<G>(numRows);
  if (slots > limits::GemmMaxRowTileSlots)
    return cudaErrorInvalidValue;
  *grid = dim3(G::ColumnTiles, static_cast<unsigned>(slots));
  return cudaSuccess;
}

/// Host-side checks of a grouped GEMM: 16-byte aligned operands.
inline cudaError_t checkGemm(const void *a, const void *w, const void *out) {
  if (reinterpret_cast<uintptr_t>(a) % 16 ||
      reinterpret_cast<uintptr_t>(w) % 16 ||
      reinterpret_cast<uintptr_t>(out) % 16)
    return cudaErrorMisalignedAddress;
  return cudaSuccess;
}

} // namespace cuda
} // namespace moe

#include "moe/Runtime/cuda/ExpertsSm90.cuh"

namespace moe {
namespace cuda {

/// Launches the mma.sync grouped GEMM `portable` (a kernel running
/// groupedGemmBody<G>) over numRows rows on the grid of gemmGrid: what the
/// compiler emits for #moegpu.gemm<mma_sync, ...>. A has aRows rows; GEMM
/// row r reads A row rowSource[r] (the permute's gather fused into the
/// GEMM), or row r without rowSource.
template <class G, typename... Params>
inline cudaError_t launchGemmMma(void (*portable)(Params...), int64_t numRows,
                                 const typename G::In *a, int64_t aRows,
                                 const int32_t *rowSource,
                                 const typename G::In *w, const RowTile *tiles,
                                 typename G::Out *out, cudaStream_t stream) {
  cudaError_t err = checkGemm(a, w, out);
  if (err != cudaSuccess)
    return err;
  if (!rowSource && aRows != numRows)
    return cudaErrorInvalidValue;
  dim3 grid;
  if ((err = gemmGrid<G>(numRows, &grid)) != cudaSuccess)
    return err;
  return launchChained(portable, grid, G::Threads, stream, a, w, tiles, out,
                       rowSource);
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_EXPERTS_CUH
