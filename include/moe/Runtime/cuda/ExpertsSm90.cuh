//===- ExpertsSm90.cuh - grouped GEMMs with wgmma and TMA ------*- CUDA -*-===//
//
// The sm_90a path of the grouped expert GEMMs (Experts.cuh keeps the tile
// map, the GemmSpec and the mma.sync path every other GPU takes):
//  * a block is a producer warpgroup, one thread of which issues bulk
//    tensor copies (TMA, 128-byte swizzle) of the A and weight tiles into a
//    ring of shared memory, completing on mbarriers, and one consumer
//    warpgroup per 64 rows multiplying with wgmma (bf16 operands, f32
//    accumulators in registers): 128 x 256 or 256 x 128 tiles (Sm90Tiling);
//  * Dual (gate/up): the first half of the weight rows are gate rows and
//    the second half the matching up rows, so a thread holds gate and up of
//    the same outputs and the epilogue writes silu(gate) * up;
//  * gathered rows (the permute's row copy fused into gate/up): the
//    producer warpgroup copies A rows from the source rows the row map
//    names with cp.async, swizzled as TMA would;
//  * rows past the tile's end (another expert's, past the last row, which
//    TMA fills with zeros, or not copied at all when gathered) are computed
//    and not stored; consumers whose rows all lie past the end sit out;
//  * bf16 outputs leave through shared memory (the free stage buffers) and
//    TMA stores, 64 rows at a time where all 64 belong to the tile, the
//    rest from registers (docs/performance.md: 28.1 -> 25.0 ms for the
//    down GEMM at T = 65536);
//  * blocks run in chunks of up to `chunk` row tiles (the tile map's, 8 by
//    default) of one expert x all column tiles, row tiles fastest, so the
//    row tiles of one expert read each weight tile from DRAM once;
//  * single-expert GEMMs with few tiles (the router, the shared expert at
//    small T) may split K: each split's blocks add their K range into f32
//    partial sums, and splitReduceKernel adds the splits in order.
// Each output is one warpgroup's fixed-order sum over K: deterministic.
// The kernel needs code for sm_90a (-gencode arch=compute_90a,code=sm_90a);
// built for any other target it stops with an error message instead of
// computing.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_EXPERTSSM90_CUH
#define MOE_RUNTIME_CUDA_EXPERTSSM90_CUH

#include <algorithm>
#include <atomic>
#include <cuda.h>
#include <cudaTypedefs.h>
#include <stdio.h>
#include <type_traits>

namespace moe {
namespace cuda {

/// The most shared memory of a block on a target with wgmma
/// (KernelLimits.td).
constexpr int wgmmaSharedBytes() {
  for (const limits::Target &t : limits::kTargets)
    if (t.wgmma)
      return t.maxSharedBytes;
  return 0;
}

/// The wgmma tiling of a GemmSpec: blocks of Rows rows by BN weight rows
/// (Dual: BN / 2 gate and BN / 2 up rows), one consumer warpgroup per 64
/// rows multiplying them by all BN weight rows, a ring of Stages stages
/// (#moegpu.gemm: the compiler takes as many as fit the target):
///  * Rows = 128: 128 x 256 tiles, two consumers on m64n256k16, four
///    stages; the tiling moegpu-configure chooses;
///  * Rows = 256: 256 x 128 tiles, four consumers on m64n128k16, four
///    stages; an expert of up to 256 rows is one tile. It measured faster
///    at T = 4096 while an expert's row tiles could run apart, no faster
///    since they run together (docs/performance.md); bench/experts keeps
///    it for that comparison.
template <class G, int Rows, int Stages_> struct Sm90Tiling {
  static_assert(Rows * (limits::WgmmaTileElements / Rows) ==
                        limits::WgmmaTileElements &&
                    (Rows == 128 || Rows == 256),
                "128 x 256 or 256 x 128 tiles: 32K accumulators per block");
  static constexpr int BM = Rows, BN = limits::WgmmaTileElements / Rows,
                       BK = limits::WgmmaTileK;
  /// Consumer warpgroups (64 rows each), then a producer one.
  static constexpr int Consumers = Rows / 64;
  static constexpr int Threads = 128 * (Consumers + 1);
  /// Registers per thread after setmaxnreg: the producer keeps few, the
  /// consumers share the rest of what the block was launched with (ptxas
  /// gives every thread LaunchRegs, the most 64K allows; an increase past
  /// the block's pool would wait forever). Multiples of 8, at most 232.
  static constexpr int LaunchRegs = 65536 / Threads / 8 * 8;
  static constexpr int ProducerRegs = Consumers == 2 ? 40 : 24;
  static constexpr int ConsumerRegs =
      std::min(232, (LaunchRegs * Threads - 128 * ProducerRegs) /
                        (128 * Consumers) / 8 * 8);
  /// The f32 accumulators each consumer thread holds.
  static constexpr int Acc = BN / 2;
  static_assert(Acc + 32 <= ConsumerRegs, "accumulators fit in registers");
  static constexpr int OutCols = G::Dual ? BN / 2 : BN;
  static constexpr int ColumnTiles = G::N / OutCols;
  static constexpr int ABytes = BM * BK * 2, BBytes = BN * BK * 2;
  static constexpr int StageBytes = ABytes + BBytes;
  /// The stages: tiles (1024-byte aligned for the swizzle), then full and
  /// empty barriers, and 1024 bytes of slack to align the dynamic
  /// allocation (WgmmaSharedSlack with the barriers of the most stages).
  static constexpr int Stages = Stages_;
  static_assert(Stages >= 2 && Stages <= limits::WgmmaMaxStages,
                "2 to WgmmaMaxStages stages");
  /// Then the source row of each tile row (gathered rows).
  static constexpr int TokensOffset = Stages * StageBytes + 2 * Stages * 8;
  static constexpr int SmemBytes = TokensOffset + BM * 4 + 1024;
  static_assert(Stages * StageBytes + limits::WgmmaSharedSlack + BM * 4 <=
                    wgmmaSharedBytes(),
                "the stages fit the shared memory of a wgmma target");
  /// Which GEMMs this path takes: bf16 operands, whole tiles of columns
  /// and reductions.
  static constexpr bool Usable =
      std::is_same<typename G::In, __nv_bfloat16>::value &&
      G::N % OutCols == 0 && G::K % BK == 0;
  /// bf16 outputs may leave through shared memory, each consumer's 64 rows
  /// as 64 x 64 boxes (128-byte swizzle), staged in the stage buffers.
  static constexpr bool StoreByMap =
      std::is_same<typename G::Out, __nv_bfloat16>::value && OutCols % 64 == 0;
  static constexpr int SlabBytes = 64 * OutCols * 2;
  static_assert(Consumers * SlabBytes <= Stages * StageBytes,
                "output slabs fit in the stage buffers");
};

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
__device__ __forceinline__ uint32_t smemAddress(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void mbarInit(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar),
               "r"(count));
}
__device__ __forceinline__ void mbarExpectTx(uint32_t bar, int bytes) {
  asm volatile(
      "mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar),
      "r"(bytes)
      : "memory");
}
__device__ __forceinline__ void mbarArrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar)
               : "memory");
}
__device__ __forceinline__ void mbarWait(uint32_t bar, int parity) {
  uint32_t done = 0;
#ifdef MOE_MBAR_TIMEOUT
  // Debug builds: a wait that never ends says where instead of hanging.
  long long spins = 0;
#endif
  do {
#ifdef MOE_MBAR_TIMEOUT
    if (++spins == (1ll << 26)) {
      printf("moe: mbarrier wait stuck: block %d thread %d barrier %u "
             "parity %d\n",
             blockIdx.x, threadIdx.x, bar & 0xfff, parity);
      __trap();
    }
#endif
    asm volatile("{\n.reg .pred p;\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                 "selp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(bar), "r"(parity)
                 : "memory");
  } while (!done);
}
/// A 16-byte cp.async to a shared-memory address (cached in L2 only, which
/// fetches 256 bytes, as the TMA loads' L2 promotion does).
__device__ __forceinline__ void cpAsyncShared16(uint32_t dst, const void *src) {
  asm volatile(
      "cp.async.cg.shared.global.L2::256B [%0], [%1], 16;\n" ::"r"(dst),
      "l"(src)
      : "memory");
}
/// A 2-D bulk tensor copy of the box at (inner, outer) into shared memory.
__device__ __forceinline__ void tmaLoad(uint32_t dst, const CUtensorMap *map,
                                        int inner, int outer, uint32_t bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
               "l"(reinterpret_cast<uint64_t>(map)), "r"(inner), "r"(outer),
               "r"(bar)
               : "memory");
}
/// Named barrier `id` over `threads` threads: wait for the others, or only
/// signal them.
__device__ __forceinline__ void namedBarrierSync(int id, int threads) {
  asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
__device__ __forceinline__ void namedBarrierArrive(int id, int threads) {
  asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(threads) : "memory");
}
/// A 2-D bulk tensor copy of a box from shared memory to (inner, outer)
/// in global memory.
__device__ __forceinline__ void tmaStore(const CUtensorMap *map, uint32_t src,
                                         int inner, int outer) {
  asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group "
               "[%0, {%1, %2}], [%3];\n" ::"l"(reinterpret_cast<uint64_t>(map)),
               "r"(inner), "r"(outer), "r"(src)
               : "memory");
}
/// Commits the bulk stores issued so far and waits until they have read
/// shared memory (their writes to global memory complete with the grid).
__device__ __forceinline__ void tmaStoreWaitRead() {
  asm volatile("cp.async.bulk.commit_group;\n"
               "cp.async.bulk.wait_group.read 0;\n" ::
                   : "memory");
}
/// Stores two bf16 (a, b rounded to nearest even) at a shared address.
__device__ __forceinline__ void storeSharedPair(uint32_t addr, float a,
                                                float b) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
  asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(addr),
               "r"(*reinterpret_cast<const uint32_t *>(&v))
               : "memory");
}
/// A shared-memory matrix descriptor: K-major rows of 128 bytes, 128-byte
/// swizzle, 8-row groups 1024 bytes apart.
__device__ __forceinline__ uint64_t wgmmaDescriptor(uint32_t addr) {
  return static_cast<uint64_t>((addr & 0x3ffff) >> 4) | (1ull << 16) |
         (64ull << 32) | (1ull << 62);
}
__device__ __forceinline__ void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int N> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
/// Keeps the compiler from moving accumulator accesses across the
/// asynchronous wgmma instructions.
template <int N> __device__ __forceinline__ void fenceRegisters(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+f"(d[i])::"memory");
}
// The accumulator operands of a wgmma: 64 f32 registers from d[i] on, and
// their names in the instruction text.
#define MOE_WGMMA_ACC4(i)                                                      \
  "+f"(d[(i)]), "+f"(d[(i) + 1]), "+f"(d[(i) + 2]), "+f"(d[(i) + 3])
#define MOE_WGMMA_ACC16(i)                                                     \
  MOE_WGMMA_ACC4(i), MOE_WGMMA_ACC4((i) + 4), MOE_WGMMA_ACC4((i) + 8),         \
      MOE_WGMMA_ACC4((i) + 12)
#define MOE_WGMMA_ACC64(i)                                                     \
  MOE_WGMMA_ACC16(i), MOE_WGMMA_ACC16((i) + 16), MOE_WGMMA_ACC16((i) + 32),    \
      MOE_WGMMA_ACC16((i) + 48)
#define MOE_WGMMA_REGS_0_63                                                    \
  "%0, %1, %2, %3, %4, %5, %6, %7, "                                           \
  "%8, %9, %10, %11, %12, %13, %14, %15, "                                     \
  "%16, %17, %18, %19, %20, %21, %22, %23, "                                   \
  "%24, %25, %26, %27, %28, %29, %30, %31, "                                   \
  "%32, %33, %34, %35, %36, %37, %38, %39, "                                   \
  "%40, %41, %42, %43, %44, %45, %46, %47, "                                   \
  "%48, %49, %50, %51, %52, %53, %54, %55, "                                   \
  "%56, %57, %58, %59, %60, %61, %62, %63"
#define MOE_WGMMA_REGS_64_127                                                  \
  "%64, %65, %66, %67, %68, %69, %70, %71, "                                   \
  "%72, %73, %74, %75, %76, %77, %78, %79, "                                   \
  "%80, %81, %82, %83, %84, %85, %86, %87, "                                   \
  "%88, %89, %90, %91, %92, %93, %94, %95, "                                   \
  "%96, %97, %98, %99, %100, %101, %102, %103, "                               \
  "%104, %105, %106, %107, %108, %109, %110, %111, "                           \
  "%112, %113, %114, %115, %116, %117, %118, %119, "                           \
  "%120, %121, %122, %123, %124, %125, %126, %127"

/// d += A B^T for 64 rows and 256 (or 128) weight rows, A and B from
/// shared-memory descriptors (bf16, K-major).
__device__ __forceinline__ void wgmmaM64N256(float (&d)[128], uint64_t a,
                                             uint64_t b) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
               "{" MOE_WGMMA_REGS_0_63 ", " MOE_WGMMA_REGS_64_127 "}, "
               "%128, %129, p, 1, 1, 0, 0;\n}\n"
               : MOE_WGMMA_ACC64(0), MOE_WGMMA_ACC64(64)
               : "l"(a), "l"(b), "r"(1));
}
__device__ __forceinline__ void wgmmaM64N128(float (&d)[64], uint64_t a,
                                             uint64_t b) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
               "{" MOE_WGMMA_REGS_0_63 "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
               : MOE_WGMMA_ACC64(0)
               : "l"(a), "l"(b), "r"(1));
}
#undef MOE_WGMMA_ACC4
#undef MOE_WGMMA_ACC16
#undef MOE_WGMMA_ACC64
#undef MOE_WGMMA_REGS_0_63
#undef MOE_WGMMA_REGS_64_127
#endif // __CUDA_ARCH_FEAT_SM90_ALL

/// A grouped GEMM as the wgmma kernel takes it: A and the weights as
/// tensor maps, the tile map, the output and, for gathered rows, A as a
/// pointer (aMap unused) and the A row each GEMM row reads.
template <typename In, typename Out> struct Sm90Work {
  CUtensorMap aMap, wMap;
  /// The output as 64 x 64 boxes (bf16 outputs, unsplit; see storeMap).
  CUtensorMap outMap;
  const RowTile *tiles;
  Out *out;
  const In *a;
  const int32_t *rowSource;
  int slots;
  /// Split-K (#moegpu.gemm split_k): splits > 1 blocks per tile, each adding a
  /// K range into f32 partial sums [splits, rows, Dual ? 2N : N].
  int splits;
  int64_t rows;
  float *partial;
  /// Whether consumers whose 64 rows all lie in their tile store through
  /// shared memory and outMap rather than from registers.
  int storeMap;
};

/// One block of the sm_90a grouped GEMM: the rows of one tile slot times
/// OutCols output columns. Blocks go chunk by chunk (RowTile), all column
/// tiles of a chunk, its row tiles fastest: the blocks that share a weight
/// tile (the row tiles of one expert) run together and read it from DRAM
/// once, and no chunk straddles two experts.
template <class G, int Rows, int Stages>
__global__ void
__launch_bounds__(Sm90Tiling<G, Rows, Stages>::Threads, 1) groupedGemmSm90(
    const __grid_constant__ Sm90Work<typename G::In, typename G::Out> work) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  using C = Sm90Tiling<G, Rows, Stages>;
  extern __shared__ uint8_t smemRaw[];
  chainedStart();
  // Splits outermost, then the chunked order of the tiles.
  const int64_t perSplit = static_cast<int64_t>(work.slots) * C::ColumnTiles;
  const int split = static_cast<int>(blockIdx.x / perSplit);
  int slot, column;
  if (!chunkBlock(work.tiles, work.slots, blockIdx.x % perSplit, C::ColumnTiles,
                  &slot, &column))
    return;
  const RowTile tile = work.tiles[slot];
  const uint32_t base = (smemAddress(smemRaw) + 1023u) & ~1023u;
  auto sA = [&](int s) { return base + s * C::StageBytes; };
  auto sB = [&](int s) { return base + s * C::StageBytes + C::ABytes; };
  auto full = [&](int s) { return base + C::Stages * C::StageBytes + 8 * s; };
  auto empty = [&](int s) {
    return base + C::Stages * C::StageBytes + 8 * (C::Stages + s);
  };
  // Consumers whose rows all lie past the tile's end (an expert's last
  // few rows) sit out; the stage barriers count only the others.
  const int needed = static_cast<int>(divUp(tile.end - tile.begin, 64));
  const int consumers = needed < C::Consumers ? needed : C::Consumers;
  if (threadIdx.x == 0) {
    for (int s = 0; s < C::Stages; ++s) {
      // Gathered rows: the weights' TMA and the 128 copying threads.
      mbarInit(full(s), work.rowSource ? 1 + 128 : 1);
      mbarInit(empty(s), 128 * consumers);
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();
  constexpr int KTiles = G::K / C::BK;
  // This block's reduction steps: all, or its split's share.
  const int kCount = KTiles / work.splits, kFirst = split * kCount;
  const int n0 = column * C::OutCols;
  const int warpgroup = threadIdx.x / 128;
  if (warpgroup == 0) {
    asm volatile(
        "setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(C::ProducerRegs));
    // Weight rows of this block in two halves: Dual takes BN/2 gate rows
    // and the BN/2 up rows of the same outputs.
    const int w0 = tile.expert * static_cast<int>(G::WeightRows) + n0;
    const int w1 = G::Dual ? w0 + G::N : w0 + C::BN / 2;
    const int n = tile.end - tile.begin < C::BM ? tile.end - tile.begin : C::BM;
    if (!work.rowSource) {
      if (threadIdx.x == 0) {
        // Only the 64-row boxes of A that hold the tile's rows: the rest of
        // the A buffer is read by no one (their consumers sit out, or their
        // products land in rows that are not stored).
        const int boxed = 64 * static_cast<int>(divUp(n, 64));
        const int aRows = boxed < C::BM ? boxed : C::BM;
        const int bytes = aRows * C::BK * 2 + C::BBytes;
        for (int kt = 0; kt < kCount; ++kt) {
          const int s = kt % C::Stages, k = (kFirst + kt) * C::BK;
          if (kt >= C::Stages)
            mbarWait(empty(s), (kt / C::Stages - 1) & 1);
          mbarExpectTx(full(s), bytes);
          for (int r = 0; r < aRows; r += 64)
            tmaLoad(sA(s) + r * 128, &work.aMap, k, tile.begin + r, full(s));
          tmaLoad(sB(s), &work.wMap, k, w0, full(s));
          tmaLoad(sB(s) + C::BBytes / 2, &work.wMap, k, w1, full(s));
        }
      }
    } else if constexpr (C::Consumers == 2) {
      // Gathered rows (128 x 256 tiles only: the other tiling leaves the
      // producer 24 registers, too few for this loop): the producer
      // warpgroup copies A itself, 16 bytes a thread with cp.async, into
      // the layout the 128-byte swizzle gives (chunk c of row r at chunk
      // c ^ r % 8); thread 0 loads the weights by TMA. Each thread's
      // copies arrive on the stage's barrier when they land (the consumers
      // then fence them into the async proxy wgmma reads through). Rows
      // past the tile's end are not copied: their products are not stored.
      // One-row TMA boxes instead measured 2.6 times slower.
      const int t = threadIdx.x, chunk = t % 8;
      int32_t *tokens = reinterpret_cast<int32_t *>(
          smemRaw + (base - smemAddress(smemRaw)) + C::TokensOffset);
      for (int r = t; r < n; r += 128)
        tokens[r] = work.rowSource[tile.begin + r];
      asm volatile("bar.sync 1, 128;\n" ::: "memory");
      const typename G::In *a = work.a + chunk * 8;
      for (int kt = 0; kt < kCount; ++kt) {
        const int s = kt % C::Stages, k = (kFirst + kt) * C::BK;
        if (kt >= C::Stages)
          mbarWait(empty(s), (kt / C::Stages - 1) & 1);
        if (t == 0) {
          mbarExpectTx(full(s), C::BBytes);
          tmaLoad(sB(s), &work.wMap, k, w0, full(s));
          tmaLoad(sB(s) + C::BBytes / 2, &work.wMap, k, w1, full(s));
        }
        for (int r = t / 8; r < n; r += 16)
          cpAsyncShared16(sA(s) + r * 128 + ((chunk ^ (r % 8)) << 4),
                          a + static_cast<int64_t>(tokens[r]) * G::K + k);
        asm volatile(
            "cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(
                full(s))
            : "memory");
      }
    }
  } else {
    asm volatile(
        "setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(C::ConsumerRegs));
    const int consumer = warpgroup - 1;
    if (consumer >= consumers)
      return;
    float acc[C::Acc];
#pragma unroll
    for (int i = 0; i < C::Acc; ++i)
      acc[i] = 0.0f;
    const uint32_t aOffset = consumer * 64 * 128;
    for (int kt = 0; kt < kCount; ++kt) {
      const int s = kt % C::Stages;
      mbarWait(full(s), (kt / C::Stages) & 1);
      // Gathered A was written by cp.async, in the generic proxy.
      if (work.rowSource)
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
      fenceRegisters(acc);
      wgmmaFence();
#pragma unroll
      for (int k = 0; k < C::BK / 16; ++k) {
        const uint64_t a = wgmmaDescriptor(sA(s) + aOffset + k * 32);
        const uint64_t b = wgmmaDescriptor(sB(s) + k * 32);
        if constexpr (C::BN == 256)
          wgmmaM64N256(acc, a, b);
        else
          wgmmaM64N128(acc, a, b);
      }
      wgmmaCommit();
      fenceRegisters(acc);
      // The previous stage's products are done: hand its buffers back.
      wgmmaWait<1>();
      fenceRegisters(acc);
      if (kt > 0)
        mbarArrive(empty((kt - 1) % C::Stages));
    }
    wgmmaWait<0>();
    fenceRegisters(acc);

    // Accumulator i holds column 8 * (i / 4) + 2 * (lane % 4) + i % 2 of
    // row 16 * warp + lane / 4 (+ 8 for i % 4 >= 2); Dual: gate in the
    // first half, up in the second.
    const int lane = threadIdx.x % kWarpSize, warp = (threadIdx.x / 32) % 4;
    const int64_t firstRow = tile.begin + consumer * 64 + warp * 16 + lane / 4;
    if (work.splits > 1) {
      // Raw sums of this split (Dual: gate columns, then up ones), for
      // splitReduceKernel.
      constexpr int64_t Width = G::Dual ? 2 * G::N : G::N;
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int64_t r = firstRow + half * 8;
        if (r >= tile.end)
          continue;
        float *row = work.partial + (split * work.rows + r) * Width;
#pragma unroll
        for (int j = 0; j < C::BN / 8; ++j) {
          const int i = 4 * j + 2 * half, c = 8 * j + 2 * (lane % 4);
          const int64_t at = !G::Dual        ? n0 + c
                             : c < C::BN / 2 ? n0 + c
                                             : G::N + n0 + c - C::BN / 2;
          storePair(row + at, acc[i], acc[i + 1]);
        }
      }
      return;
    }
    // Output j (of OutCols / 8) of row half: columns 8 j + 2 (lane % 4)
    // and one more, finished (Dual: silu(gate) * up).
    auto output = [&](int half, int j, float &x, float &y) {
      const int i = 4 * j + 2 * half;
      if constexpr (G::Dual) {
        x = siluMul(acc[i], acc[i + C::Acc / 2]);
        y = siluMul(acc[i + 1], acc[i + 1 + C::Acc / 2]);
      } else {
        x = acc[i];
        y = acc[i + 1];
      }
    };
    if constexpr (C::StoreByMap) {
      if (work.storeMap) {
        // Every consumer is past its last wgmma, so the stage buffers are
        // free; a consumer whose 64 rows all lie in the tile writes them
        // there as outMap's boxes (swizzled: chunk c of row r at
        // c ^ r % 8, which also keeps the writes free of bank conflicts)
        // and one thread stores them; the rest store from registers (the
        // rows past the tile belong to the next expert's tile).
        asm volatile("bar.sync 2, %0;\n" ::"r"(128 * consumers) : "memory");
        if (tile.begin + consumer * 64 + 64 <= tile.end) {
          const uint32_t slab = base + consumer * C::SlabBytes;
#pragma unroll
          for (int half = 0; half < 2; ++half) {
            const int r = warp * 16 + lane / 4 + half * 8;
#pragma unroll
            for (int j = 0; j < C::OutCols / 8; ++j) {
              float x, y;
              output(half, j, x, y);
              const int col = 8 * j + 2 * (lane % 4), bytes = (col % 64) * 2;
              storeSharedPair(slab + (col / 64) * 8192 + r * 128 +
                                  (((bytes >> 4) ^ (r % 8)) << 4) +
                                  (bytes & 15),
                              x, y);
            }
          }
          asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
          asm volatile("bar.sync %0, 128;\n" ::"r"(3 + consumer) : "memory");
          if (threadIdx.x % 128 == 0) {
#pragma unroll
            for (int box = 0; box < C::OutCols / 64; ++box)
              tmaStore(&work.outMap, slab + box * 8192, n0 + box * 64,
                       tile.begin + consumer * 64);
            tmaStoreWaitRead();
          }
          return;
        }
      }
    }
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int64_t r = firstRow + half * 8;
      if (r >= tile.end)
        continue;
      typename G::Out *row = work.out + r * G::N;
#pragma unroll
      for (int j = 0; j < C::OutCols / 8; ++j) {
        float x, y;
        output(half, j, x, y);
        storePair(row + n0 + 8 * j + 2 * (lane % 4), x, y);
      }
    }
  }
#else
  if (threadIdx.x == 0 && blockIdx.x == 0)
    printf("moe: the sm_90 grouped GEMM was built without sm_90a code; "
           "build with -gencode arch=compute_90a,code=sm_90a\n");
  __trap();
#endif
}

/// Adds the splits of a split-K GEMM in order and finishes the sums as the
/// unsplit kernel's epilogue does (Dual: silu(gate) * up), rounded to Out.
template <class G>
__global__ void __launch_bounds__(256)
    splitReduceKernel(const float *partial, int splits, int64_t rows,
                      typename G::Out *out) {
  chainedStart();
  constexpr int64_t Width = G::Dual ? 2 * G::N : G::N;
  const int64_t pairs = rows * (G::N / 2);
  for (int64_t p = blockIdx.x * 256ll + threadIdx.x; p < pairs;
       p += static_cast<int64_t>(gridDim.x) * 256) {
    const int64_t r = p / (G::N / 2), c = p % (G::N / 2) * 2;
    float g0 = 0.0f, g1 = 0.0f, u0 = 0.0f, u1 = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const float *row = partial + (s * rows + r) * Width;
      const float2 g = *reinterpret_cast<const float2 *>(row + c);
      g0 = __fadd_rn(g0, g.x);
      g1 = __fadd_rn(g1, g.y);
      if constexpr (G::Dual) {
        const float2 u = *reinterpret_cast<const float2 *>(row + G::N + c);
        u0 = __fadd_rn(u0, u.x);
        u1 = __fadd_rn(u1, u.y);
      }
    }
    if constexpr (G::Dual)
      storePair(out + r * G::N + c, siluMul(g0, u0), siluMul(g1, u1));
    else
      storePair(out + r * G::N + c, g0, g1);
  }
}

/// The row-major [rows, k] matrix at `data` as a tensor map of boxes of
/// one 128-byte swizzled row (64 bf16, or 128 e4m3 with `type` UINT8 and
/// `elementBytes` 1) x boxRows rows.
inline cudaError_t
encodeOperandMap(CUtensorMap *map, const void *data, int64_t rows, int64_t k,
                 int boxRows,
                 CUtensorMapDataType type = CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
                 int elementBytes = 2) {
  static PFN_cuTensorMapEncodeTiled_v12000 encode = [] {
    void *fn = nullptr;
    cudaDriverEntryPointQueryResult found;
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000,
                                         cudaEnableDefault,
                                         &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess)
      fn = nullptr;
    return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  }();
  if (!encode)
    return cudaErrorSymbolNotFound;
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(k),
                              static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(k) * elementBytes};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(128 / elementBytes),
                             static_cast<cuuint32_t>(boxRows)};
  const cuuint32_t elementStrides[2] = {1, 1};
  CUresult r = encode(
      map, type, 2, const_cast<void *>(data), dims, strides, box,
      elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  return r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue;
}

/// Whether the current device runs sm_90a code (compute capability 9.0:
/// H100, H200): the wgmma GEMMs of a module configured for sm_90a refuse
/// other devices with cudaErrorInvalidDeviceFunction.
inline cudaError_t requireSm90() {
  int major = 0, minor = 0;
  cudaError_t err =
      currentDeviceAttribute(cudaDevAttrComputeCapabilityMajor, &major);
  if (err == cudaSuccess)
    err = currentDeviceAttribute(cudaDevAttrComputeCapabilityMinor, &minor);
  if (err != cudaSuccess)
    return err;
  return major == 9 && minor == 0 ? cudaSuccess
                                  : cudaErrorInvalidDeviceFunction;
}

/// Checks and sets up a warp-specialised wgmma kernel before its launch,
/// once per device. The consumers' setmaxnreg assumes ptxas gave every
/// thread `launchRegs` registers; with fewer it would wait forever, so
/// refuse to launch. That check and the shared-memory attribute belong to
/// each library's copy of the kernel and to each device, while a static of
/// an inline function is one for the whole process (GNU unique symbols):
/// remember, per device, which copy was set up (devices past the table:
/// every time). The driver calls stay off every later launch.
template <auto Kernel>
inline cudaError_t setUpWgmmaKernel(int launchRegs, size_t smemBytes) {
  constexpr int kDevices = 64;
  static std::atomic<const void *> configured[kDevices];
  const void *image = reinterpret_cast<const void *>(Kernel);
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess)
    return err;
  std::atomic<const void *> *slot =
      device >= 0 && device < kDevices ? &configured[device] : nullptr;
  if (slot && slot->load(std::memory_order_acquire) == image)
    return cudaSuccess;
  cudaFuncAttributes attrs;
  err = cudaFuncGetAttributes(&attrs, Kernel);
  if (err == cudaSuccess && attrs.numRegs != launchRegs)
    err = cudaErrorInvalidConfiguration;
  if (err == cudaSuccess)
    err = cudaFuncSetAttribute(
        Kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smemBytes);
  if (err == cudaSuccess && slot)
    slot->store(image, std::memory_order_release);
  return err;
}

/// Launches the wgmma GEMM over numRows rows whose tile map was built with
/// Rows-row tiles (chained like launchChained): what the compiler emits
/// for #moegpu.gemm<wgmma, tile = [Rows, ...], stages = Stages, ...>. A
/// has aRows rows; GEMM row r reads A row rowSource[r], or row r without
/// rowSource. `splits` K splits (the split_k regime of numRows; more than 1
/// needs `partial`, splits x numRows rows of f32 sums 16-byte aligned, and
/// a single expert); `storeTma` lets bf16 outputs of an unsplit GEMM leave
/// through shared memory and TMA stores.
template <class G, int Rows, int Stages>
inline cudaError_t
launchGemmWgmma(int64_t numRows, const typename G::In *a, int64_t aRows,
                const int32_t *rowSource, const typename G::In *w,
                const RowTile *tiles, typename G::Out *out, float *partial,
                int splits, bool storeTma, cudaStream_t stream) {
  using C = Sm90Tiling<G, Rows, Stages>;
  static_assert(C::Usable, "the wgmma GEMM takes bf16 operands in whole "
                           "tiles of columns and reductions");
  cudaError_t err = checkGemm(a, w, out);
  if (err != cudaSuccess)
    return err;
  if (!rowSource && aRows != numRows)
    return cudaErrorInvalidValue;
  if (rowSource && C::Consumers != 2)
    return cudaErrorNotSupported; // no gathering producer (see the kernel)
  // Splits as the compiler's split_k regimes give them: a power of two up
  // to SplitMaxSplits dividing the reduction steps; more than one needs
  // aligned partial sums and a single expert.
  constexpr int KTiles = G::K / C::BK;
  if (splits < 1 || splits > limits::SplitMaxSplits ||
      (splits & (splits - 1)) != 0 || KTiles % splits != 0 ||
      (splits > 1 && (!partial || G::E != 1)))
    return cudaErrorInvalidValue;
  if (splits > 1 && reinterpret_cast<uintptr_t>(partial) % 16 != 0)
    return cudaErrorMisalignedAddress;
  if ((err = requireSm90()) != cudaSuccess)
    return err;
  if (numRows == 0)
    return cudaSuccess;
  const int64_t slots = divUp(numRows, Rows) + G::E;
  const int64_t blocks = slots * C::ColumnTiles * splits;
  if (blocks > 0x7fffffff)
    return cudaErrorInvalidValue;
  Sm90Work<typename G::In, typename G::Out> work{};
  // Gathered rows are copied without a tensor map.
  err = rowSource ? cudaSuccess
                  : encodeOperandMap(&work.aMap, a, aRows, G::K, 64);
  if (err == cudaSuccess)
    err = encodeOperandMap(&work.wMap, w,
                           static_cast<int64_t>(G::E) * G::WeightRows, G::K,
                           C::BN / 2);
  if (err != cudaSuccess)
    return err;
  // bf16 outputs of unsplit GEMMs leave through shared memory and TMA.
  if constexpr (C::StoreByMap) {
    if (splits == 1 && storeTma) {
      err = encodeOperandMap(&work.outMap, out, numRows, G::N, 64);
      if (err != cudaSuccess)
        return err;
      work.storeMap = 1;
    }
  }
  work.tiles = tiles;
  work.out = out;
  work.a = a;
  work.rowSource = rowSource;
  work.splits = splits;
  work.rows = numRows;
  work.partial = partial;
  work.slots = static_cast<int>(slots);
  constexpr auto kernel = &groupedGemmSm90<G, Rows, Stages>;
  if ((err = setUpWgmmaKernel<kernel>(C::LaunchRegs, C::SmemBytes)) !=
      cudaSuccess)
    return err;
  err = launchChainedSmem(kernel, dim3(static_cast<unsigned>(blocks)),
                          C::Threads, C::SmemBytes, stream, work);
  if (err != cudaSuccess || splits == 1)
    return err;
  auto *reduce = &splitReduceKernel<G>;
  int grid = 0;
  err = fillGrid(reinterpret_cast<const void *>(reduce), 256,
                 divUp(numRows * (G::N / 2), 256), &grid);
  if (err != cudaSuccess)
    return err;
  return launchChained(reduce, static_cast<int64_t>(grid), 256, stream,
                       static_cast<const float *>(partial), splits, numRows,
                       out);
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_EXPERTSSM90_CUH
