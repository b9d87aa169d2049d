//===- ExpertsFp8Sm90.cuh - FP8 block-scaled expert GEMMs -------*- CUDA
//-*-===//
//
// DeepSeek-V3's FP8 experts (spec section 10) on sm_90a:
//  * quantizeRowsKernel: act_quant of bf16/f16/f32 rows, one warp per
//    (row, group of 128), bitwise the CPU reference (the same integer
//    e4m3fn encoder, IEEE division, NaN propagated into the scale); with a
//    row source it gathers the rows as it goes (the permute's copy and the
//    quantisation in one pass);
//  * groupedGemmFp8Sm90: the block-scaled grouped GEMM over the tile map of
//    Experts.cuh. A block is a producer warpgroup loading e4m3 tiles by TMA
//    (128 rows and 128 or 256 weight rows x 128 bytes, 128-byte swizzle:
//    one 128-wide K block, one scale per row and per weight block) and two
//    consumer warpgroups of 64 rows each running wgmma m64n64k32 (e4m3 x
//    e4m3 -> f32) over 64-column chunks. Each chunk of a K block is summed
//    on the tensor cores into a scratch accumulator, which is then promoted
//    into the f32 result: acc = fma(block, s_a[row] * s_w[n / 128], acc).
//    That promotion is what the spec requires: Hopper sums FP8 products
//    with fewer bits than f32, so it must not run over more than 128 of K.
//    (The CPU reference rounds (S s_a) s_w and the sum apart; one fused
//    rounding is 28% faster here, and both lie well inside the bound the
//    tensor cores' block sums set: bench/fp8.) Two chunks are in flight,
//    so a chunk is promoted while the next one runs, and the consumers
//    take turns issuing their K blocks. The wide tile (256 weight rows,
//    the compiler's choice where N allows) reads half the A bytes per flop
//    of the narrow one and runs 24% faster on DeepSeek-V3's shapes.
//    Dual (gate/up): BN / 2 gate and the matching up rows per block (each
//    half inside one 128-row scale block), the epilogue writes
//    silu(gate) * up rounded to Out. Out is bf16 or f32.
// Each output is one warpgroup's fixed-order sum: deterministic.
// The kernels need sm_90a code; built for another target the GEMM stops
// with an error message.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_EXPERTSFP8SM90_CUH
#define MOE_RUNTIME_CUDA_EXPERTSFP8SM90_CUH

#include "moe/Runtime/cuda/Experts.cuh"

namespace moe {
namespace cuda {

/// FP8 blocks: 128x128 weight blocks, 128-wide activation groups.
constexpr int kFp8Block = limits::Fp8Block;

//===----------------------------------------------------------------------===//
// e4m3fn and act_quant
//===----------------------------------------------------------------------===//

/// f32 -> e4m3fn bits, round to nearest even from the exact f32, not
/// saturating: |x| above 464 (the midpoint of 448 and the would-be 480),
/// inf and NaN become NaN (0x7F) with the input's sign. The integer
/// arithmetic of the CPU lowering (MoeToLoops/FP8.cpp), so both agree bit
/// for bit.
__device__ __forceinline__ uint8_t encodeE4M3FN(float x) {
  const uint32_t u = __float_as_uint(x);
  const uint32_t sign = (u >> 24) & 0x80u, a = u & 0x7fffffffu;
  uint32_t code;
  if (a > 0x43e80000u) {
    code = 0x7fu; // above 464, inf, NaN
  } else if (a < 0x3c800000u) {
    // Subnormal (|x| < 2^-6): multiples of 2^-9; x * 2^9 is exact and
    // rint rounds half to even.
    code = static_cast<uint32_t>(rintf(__fmul_rn(__uint_as_float(a), 512.0f)));
  } else {
    const uint32_t rounded = a + 0x7ffffu + ((a >> 20) & 1u);
    code = (rounded >> 20) - (120u << 3);
  }
  return static_cast<uint8_t>(code | sign);
}

/// The exact f32 value of e4m3fn bits (0x7F/0xFF: NaN).
__device__ __forceinline__ float decodeE4M3FN(uint8_t bits) {
  const uint32_t u = bits, e = (u >> 3) & 0xfu, m = u & 7u;
  uint32_t magnitude =
      e == 0 ? __float_as_uint(__fmul_rn(static_cast<float>(m), 1.0f / 512.0f))
             : ((e + 120u) << 23) | (m << 20);
  if ((u & 0x7fu) == 0x7fu)
    magnitude = 0x7fc00000u;
  return __uint_as_float(magnitude | ((u & 0x80u) << 24));
}

/// act_quant's scale of a group whose largest magnitude is amax:
/// max(amax, 1e-4) / 448, with ue8m0 rounded up to a power of two on its
/// bits (powers of two, inf and NaN stay).
__device__ __forceinline__ float quantScale(float amax, bool ue8m0) {
  // A NaN amax gives the quiet NaN 0x7FC00000, as on the CPU.
  if (amax != amax)
    return __uint_as_float(0x7fc00000u);
  const float s = __fdiv_rn(fmaxf(amax, 1e-4f), 448.0f);
  if (!ue8m0)
    return s;
  const uint32_t bits = __float_as_uint(s);
  if ((bits & 0x7fffffu) == 0 || bits >= 0x7f800000u)
    return s;
  return __uint_as_float((bits & 0x7f800000u) + 0x800000u);
}

/// x / s as act_quant takes it; a NaN quotient (x or s NaN, inf / inf)
/// keeps x's sign, so that the code does not depend on how a processor
/// signs the NaNs it makes.
__device__ __forceinline__ float quantQuotient(float x, float s) {
  const float q = __fdiv_rn(x, s);
  return q != q
             ? __uint_as_float(0x7fc00000u | (__float_as_uint(x) & 0x80000000u))
             : q;
}

/// One warp per (row, group of 128) of `rows` rows of W elements: values
/// [rows, W] e4m3fn bits and scales [rows, W / 128]. With rowSource (the
/// permute's row_token), row r quantises input row rowSource[r]; rows from
/// offsets[experts] on (no expert's: rowSource holds nothing there) and
/// rows whose source is negative get zero values and a zero scale, as the
/// reference's quantise-then-permute leaves them.
template <typename In, int W, bool Ue8m0>
__global__ void __launch_bounds__(256)
    quantizeRowsKernel(const In *__restrict__ input,
                       const int32_t *__restrict__ rowSource,
                       const int32_t *__restrict__ offsets, int experts,
                       int64_t rows, uint8_t *__restrict__ values,
                       float *__restrict__ scales) {
  static_assert(W % kFp8Block == 0, "whole groups of 128");
  constexpr int Groups = W / kFp8Block;
  chainedStart();
  const int64_t kept = rowSource && offsets ? offsets[experts] : rows;
  const int lane = threadIdx.x % kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (256 / kWarpSize);
  for (int64_t job = blockIdx.x * (256 / kWarpSize) + threadIdx.x / kWarpSize;
       job < rows * Groups; job += warps) {
    const int64_t r = job / Groups;
    const int g = static_cast<int>(job % Groups);
    int64_t source = r;
    if (rowSource)
      source = r < kept ? rowSource[r] : -1;
    uint8_t *out = values + r * W + g * kFp8Block + 4 * lane;
    if (source < 0) {
      *reinterpret_cast<uint32_t *>(out) = 0u;
      if (lane == 0)
        scales[r * Groups + g] = 0.0f;
      continue;
    }
    float x[4];
    RowLoader<In, 4>::load(input + source * W + g * kFp8Block + 4 * lane, x);
    float amax = 0.0f;
    bool nan = false;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      amax = fmaxf(amax, fabsf(x[i]));
      nan |= x[i] != x[i];
    }
    amax = warpMax(amax);
    // fmaxf drops NaN; the reference's maximum keeps it.
    if (__any_sync(kFullMask, nan))
      amax = __uint_as_float(0x7fc00000u);
    const float s = quantScale(amax, Ue8m0);
    uint32_t packed = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i)
      packed |= static_cast<uint32_t>(encodeE4M3FN(quantQuotient(x[i], s)))
                << (8 * i);
    *reinterpret_cast<uint32_t *>(out) = packed;
    if (lane == 0)
      scales[r * Groups + g] = s;
  }
}

/// Launches quantizeRowsKernel on a grid that fills the device.
template <typename In, int W, bool Ue8m0>
inline cudaError_t launchQuantizeRows(const In *input, const int32_t *rowSource,
                                      const int32_t *offsets, int experts,
                                      int64_t rows, uint8_t *values,
                                      float *scales, cudaStream_t stream) {
  if (reinterpret_cast<uintptr_t>(input) % (4 * sizeof(In)) ||
      reinterpret_cast<uintptr_t>(values) % 4)
    return cudaErrorMisalignedAddress;
  if (rows == 0)
    return cudaSuccess;
  auto *kernel = &quantizeRowsKernel<In, W, Ue8m0>;
  int grid = 0;
  cudaError_t err =
      fillGrid(reinterpret_cast<const void *>(kernel), 256,
               divUp(rows * (W / kFp8Block), 256 / kWarpSize), &grid);
  if (err != cudaSuccess)
    return err;
  return launchChained(kernel, static_cast<int64_t>(grid), 256, stream, input,
                       rowSource, offsets, experts, rows, values, scales);
}

//===----------------------------------------------------------------------===//
// The block-scaled grouped GEMM
//===----------------------------------------------------------------------===//

/// A block-scaled FP8 grouped GEMM: out[r, n] = Σ_b (Σ_{k∈b} A[r,k]
/// W[e(r),n,k]) · aScales[r, b] · wScales[e(r), n / 128, b] over E experts,
/// N output columns, K the reduction (a multiple of 128); Dual: W holds 2N
/// rows per expert (gate, then up) and the output is silu(gate) · up.
template <typename Out_, int E_, int N_, int K_, bool Dual_,
          int BN_ = limits::Fp8TileCols>
struct Fp8GemmSpec {
  using Out = Out_;
  static constexpr int E = E_, N = N_, K = K_;
  static constexpr bool Dual = Dual_;
  static constexpr int64_t WeightRows = Dual ? 2 * N : N;
  static constexpr int KBlocks = K / kFp8Block;
  static constexpr int WeightRowBlocks =
      static_cast<int>((WeightRows + kFp8Block - 1) / kFp8Block);
  /// 128-row tiles, two consumer warpgroups of 64 rows and a producer; BN
  /// (128 or 256) weight rows (Dual: BN / 2 gate, BN / 2 up), computed in
  /// 64-column chunks; one 128-byte K block per stage.
  static constexpr int BM = limits::Fp8TileRows, BN = BN_, BK = kFp8Block;
  static_assert(BM == 128, "two consumers of 64 rows");
  static_assert(BN == 128 || BN == 256, "128 or 256 weight rows per tile");
  static constexpr int Chunks = BN / 64;
  static constexpr int Consumers = 2, Threads = 128 * (Consumers + 1);
  static constexpr int OutCols = Dual ? BN / 2 : BN;
  static constexpr int ColumnTiles = N / OutCols;
  static constexpr int ABytes = BM * BK, BBytes = BN * BK;
  static constexpr int StageBytes = ABytes + BBytes;
  static constexpr int LaunchRegs = 65536 / Threads / 8 * 8;
  static constexpr int ProducerRegs = 40;
  static constexpr int ConsumerRegs =
      std::min(232, (LaunchRegs * Threads - 128 * ProducerRegs) /
                        (128 * Consumers) / 8 * 8);
  static_assert(K % kFp8Block == 0, "K is whole 128-wide blocks");
  static_assert(N % OutCols == 0, "whole column tiles");
  static_assert(!Dual || N % kFp8Block == 0,
                "gate and up rows of a block lie in one scale block each");
  static_assert(E >= 1 && E <= limits::GemmMaxExperts,
                "at most GemmMaxExperts experts");
};

/// The stages of the FP8 GEMM's ring that fit a wgmma target's shared
/// memory (moegpu-configure picks the same), at most Fp8MaxStages.
template <class G> constexpr int fp8Stages() {
  int s = (wgmmaSharedBytes() - limits::WgmmaSharedSlack - G::BM * 4) /
          G::StageBytes;
  return s > limits::Fp8MaxStages ? limits::Fp8MaxStages : s;
}

/// What the FP8 kernel takes: A and W as tensor maps, their scales, the
/// tile map and the output.
template <typename Out> struct Fp8Work {
  CUtensorMap aMap, wMap;
  const float *aScales, *wScales;
  const RowTile *tiles;
  Out *out;
  int64_t rows;
  int slots;
};

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
/// d (=|+=) A B^T for 64 rows and 64 weight rows, 32 of K: e4m3 operands
/// from shared-memory descriptors (K-major, 128-byte swizzle), f32 sums;
/// `accumulate` 0 overwrites d. d[i] is row 16 w + lane / 4 + 8 ((i / 2) % 2)
/// of warp w, column 8 (i / 4) + 2 (lane % 4) + i % 2.
__device__ __forceinline__ void wgmmaFp8M64N64(float (&d)[32], uint64_t a,
                                               uint64_t b, int accumulate) {
#define MOE_ACC4(i)                                                            \
  "+f"(d[(i)]), "+f"(d[(i) + 1]), "+f"(d[(i) + 2]), "+f"(d[(i) + 3])
#define MOE_ACC16(i)                                                           \
  MOE_ACC4(i), MOE_ACC4((i) + 4), MOE_ACC4((i) + 8), MOE_ACC4((i) + 12)
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3 "
               "{%0, %1, %2, %3, %4, %5, %6, %7, "
               "%8, %9, %10, %11, %12, %13, %14, %15, "
               "%16, %17, %18, %19, %20, %21, %22, %23, "
               "%24, %25, %26, %27, %28, %29, %30, %31}, "
               "%32, %33, p, 1, 1;\n}\n"
               : MOE_ACC16(0), MOE_ACC16(16)
               : "l"(a), "l"(b), "r"(accumulate));
#undef MOE_ACC4
#undef MOE_ACC16
}
#endif // __CUDA_ARCH_FEAT_SM90_ALL

/// One block of the FP8 grouped GEMM: the rows of one tile slot times
/// OutCols output columns, blocks in the chunked order of groupedGemmSm90.
template <class G, int Stages>
__global__ void __launch_bounds__(G::Threads, 1)
    groupedGemmFp8Sm90(const __grid_constant__ Fp8Work<typename G::Out> work) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ uint8_t smemRaw[];
  chainedStart();
  int slot, column;
  if (!chunkBlock(work.tiles, work.slots, blockIdx.x, G::ColumnTiles, &slot,
                  &column))
    return;
  const RowTile tile = work.tiles[slot];
  const uint32_t base = (smemAddress(smemRaw) + 1023u) & ~1023u;
  auto sA = [&](int s) { return base + s * G::StageBytes; };
  auto sB = [&](int s) { return base + s * G::StageBytes + G::ABytes; };
  auto full = [&](int s) { return base + Stages * G::StageBytes + 8 * s; };
  auto empty = [&](int s) {
    return base + Stages * G::StageBytes + 8 * (Stages + s);
  };
  const int needed = static_cast<int>(divUp(tile.end - tile.begin, 64));
  const int consumers = needed < G::Consumers ? needed : G::Consumers;
  if (threadIdx.x == 0) {
    for (int s = 0; s < Stages; ++s) {
      mbarInit(full(s), 1);
      // One arrival per consumer warp.
      mbarInit(empty(s), 4 * consumers);
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
  const int n0 = column * G::OutCols;
  // The weight rows of the block's two halves (Dual: gate, then up).
  const int w0 = tile.expert * static_cast<int>(G::WeightRows) + n0;
  const int w1 = G::Dual ? w0 + G::N : w0 + G::BN / 2;
  const int warpgroup = threadIdx.x / 128;
  if (warpgroup == 0) {
    asm volatile(
        "setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(G::ProducerRegs));
    if (threadIdx.x == 0) {
      const int n = tile.end - tile.begin;
      const int boxed = 64 * static_cast<int>(divUp(n, 64));
      const int aRows = boxed < G::BM ? boxed : G::BM;
      const int bytes = aRows * G::BK + G::BBytes;
      for (int kt = 0; kt < G::KBlocks; ++kt) {
        const int s = kt % Stages, k = kt * G::BK;
        if (kt >= Stages)
          mbarWait(empty(s), (kt / Stages - 1) & 1);
        mbarExpectTx(full(s), bytes);
        for (int r = 0; r < aRows; r += 64)
          tmaLoad(sA(s) + r * 128, &work.aMap, k, tile.begin + r, full(s));
        tmaLoad(sB(s), &work.wMap, k, w0, full(s));
        tmaLoad(sB(s) + G::BBytes / 2, &work.wMap, k, w1, full(s));
      }
    }
  } else {
    asm volatile(
        "setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(G::ConsumerRegs));
    const int consumer = warpgroup - 1;
    if (consumer >= consumers)
      return;
    const int lane = threadIdx.x % kWarpSize, warp = (threadIdx.x / 32) % 4;
    const int64_t firstRow = tile.begin + consumer * 64 + warp * 16 + lane / 4;
    // The scales this thread applies: its two rows' (zero past the last
    // row: their products are not stored) and the two weight halves'.
    const float *aScale0 =
        firstRow < work.rows ? work.aScales + firstRow * G::KBlocks : nullptr;
    const float *aScale1 = firstRow + 8 < work.rows
                               ? work.aScales + (firstRow + 8) * G::KBlocks
                               : nullptr;
    const int64_t wBlocks =
        static_cast<int64_t>(tile.expert) * G::WeightRowBlocks;
    const int half1 = G::Dual ? G::N + n0 : n0 + G::BN / 2;
    const float *wScale0 =
        work.wScales + (wBlocks + n0 / kFp8Block) * G::KBlocks;
    const float *wScale1 =
        work.wScales + (wBlocks + half1 / kFp8Block) * G::KBlocks;
    float acc[G::BN / 2], chunk[2][32];
#pragma unroll
    for (int i = 0; i < G::BN / 2; ++i)
      acc[i] = 0.0f;
    const uint32_t aOffset = consumer * 64 * 128;
    // Two consumers take turns issuing their K blocks (0, 1, 0, 1, ...):
    // the tensor cores run one's block while the other promotes its last,
    // where issuing together would finish both at once and leave them idle
    // through both promotions.
    const bool turns = consumers == 2;
    const int myTurn = 1 + consumer, nextTurn = 2 - consumer;
    // 64 weight rows (chunk c of the tile) times this consumer's 64 rows,
    // 32 of K per wgmma, into chunk[c % 2].
    auto issue = [&](int c, int s) {
      wgmmaFence();
#pragma unroll
      for (int k = 0; k < G::BK / 32; ++k)
        wgmmaFp8M64N64(chunk[c % 2], wgmmaDescriptor(sA(s) + aOffset + k * 32),
                       wgmmaDescriptor(sB(s) + c * 64 * 128 + k * 32), k);
      wgmmaCommit();
    };
    // The scales of the next K block load while this one runs.
    float sa0 = aScale0 ? __ldg(aScale0) : 0.0f;
    float sa1 = aScale1 ? __ldg(aScale1) : 0.0f;
    float sw0 = __ldg(wScale0), sw1 = __ldg(wScale1);
    for (int kt = 0; kt < G::KBlocks; ++kt) {
      const int s = kt % Stages;
      // Row and weight-half scales, combined once per block.
      const float c00 = __fmul_rn(sa0, sw0), c01 = __fmul_rn(sa0, sw1);
      const float c10 = __fmul_rn(sa1, sw0), c11 = __fmul_rn(sa1, sw1);
      const int next = kt + 1 < G::KBlocks ? kt + 1 : kt;
      sa0 = aScale0 ? __ldg(aScale0 + next) : 0.0f;
      sa1 = aScale1 ? __ldg(aScale1 + next) : 0.0f;
      sw0 = __ldg(wScale0 + next);
      sw1 = __ldg(wScale1 + next);
      mbarWait(full(s), (kt / Stages) & 1);
      fenceRegisters(chunk[0]);
      fenceRegisters(chunk[1]);
      if (turns && (consumer == 1 || kt > 0))
        namedBarrierSync(myTurn, 256);
      // Two chunks in flight: chunk c is promoted while the tensor cores
      // run chunk c + 1, and its registers then take chunk c + 2.
      issue(0, s);
      issue(1, s);
      if (turns && (consumer == 0 || kt + 1 < G::KBlocks))
        namedBarrierArrive(nextTurn, 256);
#pragma unroll
      for (int c = 0; c < G::Chunks; ++c) {
        if (c + 1 < G::Chunks)
          wgmmaWait<1>();
        else
          wgmmaWait<0>();
        fenceRegisters(chunk[c % 2]);
        if (c + 1 == G::Chunks && lane == 0)
          mbarArrive(empty(s)); // the warp's wgmma reads of the stage are done
        // Promotion: acc[32 c + i] holds row firstRow (+ 8 for i % 4 >= 2),
        // column 64 c + 8 (i / 4) + 2 (lane % 4) + i % 2, in the first
        // weight half for c < Chunks / 2. acc = fma(block, s_a s_w, acc):
        // one rounding (the CPU rounds (S s_a) s_w and the sum apart; both
        // lie in the bound the tensor cores' block sums set).
        const bool first = c < G::Chunks / 2;
        const float top = first ? c00 : c01, bottom = first ? c10 : c11;
#pragma unroll
        for (int i = 0; i < 32; ++i)
          acc[32 * c + i] = __fmaf_rn(
              chunk[c % 2][i], (i % 4) < 2 ? top : bottom, acc[32 * c + i]);
        if (c + 2 < G::Chunks)
          issue(c + 2, s);
      }
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t r = firstRow + half * 8;
      if (r >= tile.end)
        continue;
      typename G::Out *row = work.out + r * G::N;
#pragma unroll
      for (int j = 0; j < G::OutCols / 8; ++j) {
        const int i = 4 * j + 2 * half;
        float x = acc[i], y = acc[i + 1];
        if constexpr (G::Dual) {
          x = siluMul(acc[i], acc[i + G::BN / 4]);
          y = siluMul(acc[i + 1], acc[i + 1 + G::BN / 4]);
        }
        storePair(row + n0 + 8 * j + 2 * (lane % 4), x, y);
      }
    }
  }
#else
  if (threadIdx.x == 0 && blockIdx.x == 0)
    printf("moe: the FP8 grouped GEMM was built without sm_90a code; build "
           "with -gencode arch=compute_90a,code=sm_90a\n");
  __trap();
#endif
}

/// Launches the FP8 GEMM over numRows rows of `a` (e4m3 [numRows, K]) with
/// aScales [numRows, K/128], weights w (e4m3 [E, WeightRows, K]) with
/// wScales [E, ceil(WeightRows/128), K/128], whose tile map was built with
/// 128-row tiles; out [numRows, N].
template <class G, int Stages = fp8Stages<G>()>
inline cudaError_t launchGemmFp8(int64_t numRows, const uint8_t *a,
                                 const float *aScales, const uint8_t *w,
                                 const float *wScales, const RowTile *tiles,
                                 typename G::Out *out, cudaStream_t stream) {
  static_assert(Stages >= 2 && Stages <= limits::Fp8MaxStages,
                "2 to Fp8MaxStages stages");
  static_assert(Stages * G::StageBytes + limits::WgmmaSharedSlack + G::BM * 4 <=
                    wgmmaSharedBytes(),
                "the stages fit the shared memory of a wgmma target");
  cudaError_t err = checkGemm(a, w, out);
  if (err != cudaSuccess)
    return err;
  if (!aScales || !wScales)
    return cudaErrorInvalidValue;
  if ((err = requireSm90()) != cudaSuccess)
    return err;
  if (numRows == 0)
    return cudaSuccess;
  const int64_t slots = divUp(numRows, G::BM) + G::E;
  const int64_t blocks = slots * G::ColumnTiles;
  if (blocks > 0x7fffffff)
    return cudaErrorInvalidValue;
  Fp8Work<typename G::Out> work{};
  err = encodeOperandMap(&work.aMap, a, numRows, G::K, 64,
                         CU_TENSOR_MAP_DATA_TYPE_UINT8, 1);
  if (err == cudaSuccess)
    err = encodeOperandMap(&work.wMap, w,
                           static_cast<int64_t>(G::E) * G::WeightRows, G::K,
                           G::BN / 2, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1);
  if (err != cudaSuccess)
    return err;
  work.aScales = aScales;
  work.wScales = wScales;
  work.tiles = tiles;
  work.out = out;
  work.rows = numRows;
  work.slots = static_cast<int>(slots);
  constexpr auto kernel = &groupedGemmFp8Sm90<G, Stages>;
  constexpr int SmemBytes = Stages * G::StageBytes + 2 * Stages * 8 + 1024;
  if ((err = setUpWgmmaKernel<kernel>(G::LaunchRegs, SmemBytes)) != cudaSuccess)
    return err;
  return launchChainedSmem(kernel, dim3(static_cast<unsigned>(blocks)),
                           G::Threads, SmemBytes, stream, work);
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_EXPERTSFP8SM90_CUH
