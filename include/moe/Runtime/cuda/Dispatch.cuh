//===- Dispatch.cuh - dispatch layout, permute, combine ---------*- CUDA
//-*-===//
//
// Data movement around the experts, deterministic and without host
// synchronisation (semantics: docs/design.md, moe.dispatch_layout,
// moe.permute, moe.combine):
//  * the dispatch layout: tokens per expert / rank / node (a token counts
//    once per rank and once per node) and the send mask, thread per token;
//  * permute: stable expert-major positions from per-block ranks
//    (warp match + fixed warp order) and a per-expert scan of the block
//    counts; capacity with the position policy (keep the first) or the
//    probs policy (a per-expert radix select of the weights, earlier
//    assignment on ties); then the row copies with 16-byte vectors
//    (token-major for long rows);
//  * combine: one block per token and chunk of columns, slots summed in
//    order in f32.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_DISPATCH_CUH
#define MOE_RUNTIME_CUDA_DISPATCH_CUH

#include "moe/Runtime/cuda/Common.cuh"

namespace moe {
namespace cuda {

/// Programmatic dependent launch (Hopper): the kernels here start with
/// this, so the next kernel on the stream may be launched while this one
/// runs (its blocks wait here until this grid has finished and its writes
/// are visible). Before sm_90 it is nothing, as is a launch without the
/// attribute.
__device__ __forceinline__ void chainedStart() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

/// Launches `kernel` with `smem` bytes of dynamic shared memory and
/// programmatic stream serialisation where the device supports it (compute
/// capability 9.0+); an empty grid launches nothing.
template <typename... Params, typename... Args>
inline cudaError_t launchChainedSmem(void (*kernel)(Params...), dim3 grid,
                                     int block, size_t smem,
                                     cudaStream_t stream, Args... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0)
    return cudaSuccess;
  int major = 0;
  cudaError_t err =
      currentDeviceAttribute(cudaDevAttrComputeCapabilityMajor, &major);
  if (err != cudaSuccess)
    return err;
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = dim3(static_cast<unsigned>(block));
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attr;
  config.numAttrs = major >= 9 ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, static_cast<Params>(args)...);
}

/// The same without dynamic shared memory.
template <typename... Params, typename... Args>
inline cudaError_t launchChained(void (*kernel)(Params...), dim3 grid,
                                 int block, cudaStream_t stream, Args... args) {
  return launchChainedSmem(kernel, grid, block, 0, stream, args...);
}

/// The same with a one-dimensional grid; grid <= 0 launches nothing.
template <typename... Params, typename... Args>
inline cudaError_t launchChained(void (*kernel)(Params...), int64_t grid,
                                 int block, cudaStream_t stream, Args... args) {
  if (grid <= 0)
    return cudaSuccess;
  return launchChained(kernel, dim3(static_cast<unsigned>(grid)), block, stream,
                       args...);
}

//===----------------------------------------------------------------------===//
// Dispatch layout
//===----------------------------------------------------------------------===//

template <int K_, int Nodes_, int GpusPerNode_, int ExpertsPerGpu_>
struct LayoutSpec {
  static constexpr int K = K_, Nodes = Nodes_, GpusPerNode = GpusPerNode_,
                       ExpertsPerGpu = ExpertsPerGpu_;
  static constexpr int Ranks = Nodes * GpusPerNode;
  static constexpr int E = Ranks * ExpertsPerGpu;
  static constexpr int BlockSize = limits::LayoutBlockSize;
  /// Tokens per block (one per thread): a batch this size is one block
  /// that writes the counts directly (no zeroing, no global atomics).
  static constexpr int TokensPerBlock = BlockSize;
  /// Up to 64 ranks in 16-byte groups: a token's ranks as a bit mask and
  /// its row of the send mask as vector stores.
  static constexpr bool MaskRows =
      Ranks <= 64 && Ranks % 16 == 0 && Nodes <= kWarpSize;
  static_assert(K >= 1 && K <= limits::LayoutMaxSlots,
                "at most LayoutMaxSlots slots per token");
};

/// Four mask bits as four bool bytes.
__device__ __forceinline__ uint32_t spreadNibble(uint32_t n) {
  return (n & 1u) | ((n & 2u) << 7) | ((n & 4u) << 14) | ((n & 8u) << 21);
}

template <class L>
__device__ void dispatchLayoutBody(const int32_t *ids, int64_t numTokens,
                                   int32_t *perExpert, int32_t *perRank,
                                   int32_t *perNode, bool *inRank) {
  chainedStart();
  __shared__ int sE[L::E], sR[L::Ranks], sN[L::Nodes];
  for (int i = threadIdx.x; i < L::E; i += L::BlockSize)
    sE[i] = 0;
  for (int i = threadIdx.x; i < L::Ranks; i += L::BlockSize)
    sR[i] = 0;
  for (int i = threadIdx.x; i < L::Nodes; i += L::BlockSize)
    sN[i] = 0;
  __syncthreads();
  int rankCount[2] = {0, 0}, nodeCount = 0; // MaskRows: this lane's bins
  // Whole warps step together (the ballots); lanes past the end idle.
  const int64_t warpBase =
      (blockIdx.x * static_cast<int64_t>(L::BlockSize) + threadIdx.x) /
      kWarpSize * kWarpSize;
  for (int64_t w0 = warpBase; w0 < numTokens;
       w0 += static_cast<int64_t>(gridDim.x) * L::BlockSize) {
    const int64_t t = w0 + threadIdx.x % kWarpSize;
    // Lanes past the end take part with no slots (their ballot bits are 0).
    const bool live = t < numTokens;
    int e[L::K];
#pragma unroll
    for (int k = 0; k < L::K; ++k)
      e[k] = live ? ids[t * L::K + k] : -1;
    if constexpr (L::MaskRows) {
      uint64_t ranks = 0;
#pragma unroll
      for (int k = 0; k < L::K; ++k)
        if (e[k] >= 0 && e[k] < L::E) {
          atomicAdd(&sE[e[k]], 1);
          ranks |= 1ull << (e[k] / L::ExpertsPerGpu);
        }
      uint4 *row = reinterpret_cast<uint4 *>(inRank + t * L::Ranks);
#pragma unroll
      for (int v = 0; v < L::Ranks / 16; ++v) {
        if (!live)
          break;
        uint32_t bits = static_cast<uint32_t>(ranks >> (16 * v)) & 0xffffu;
        row[v] = make_uint4(
            spreadNibble(bits & 15u), spreadNibble((bits >> 4) & 15u),
            spreadNibble((bits >> 8) & 15u), spreadNibble(bits >> 12));
      }
      // Rank and node counts by warp ballots: few bins, many tokens per
      // bin, where shared atomics would serialise. Lane l keeps ranks l
      // and l + 32 and node l.
      const int lane = threadIdx.x % kWarpSize;
      uint64_t nodes = 0;
#pragma unroll
      for (int r = 0; r < L::Ranks; ++r)
        if ((ranks >> r) & 1ull)
          nodes |= 1ull << (r / L::GpusPerNode);
#pragma unroll
      for (int r = 0; r < L::Ranks; ++r) {
        int c = __popc(__ballot_sync(kFullMask, (ranks >> r) & 1ull));
        if (lane == r % kWarpSize)
          rankCount[r / kWarpSize] += c;
      }
#pragma unroll
      for (int n = 0; n < L::Nodes; ++n) {
        int c = __popc(__ballot_sync(kFullMask, (nodes >> n) & 1ull));
        if (lane == n)
          nodeCount += c;
      }
    } else {
      if (!live)
        continue;
      bool *row = inRank + t * L::Ranks;
      for (int r = 0; r < L::Ranks; ++r)
        row[r] = false;
      int ranks[L::K], nodes[L::K];
      int numRanks = 0, numNodes = 0;
      for (int k = 0; k < L::K; ++k) {
        if (e[k] < 0 || e[k] >= L::E)
          continue;
        atomicAdd(&sE[e[k]], 1);
        int r = e[k] / L::ExpertsPerGpu, n = r / L::GpusPerNode;
        bool seen = false;
        for (int i = 0; i < numRanks; ++i)
          seen |= ranks[i] == r;
        if (!seen) {
          ranks[numRanks++] = r;
          atomicAdd(&sR[r], 1);
          row[r] = true;
        }
        seen = false;
        for (int i = 0; i < numNodes; ++i)
          seen |= nodes[i] == n;
        if (!seen) {
          nodes[numNodes++] = n;
          atomicAdd(&sN[n], 1);
        }
      }
    }
  }
  if constexpr (L::MaskRows) {
    const int lane = threadIdx.x % kWarpSize;
    if (lane < L::Ranks && rankCount[0])
      atomicAdd(&sR[lane], rankCount[0]);
    if (lane + kWarpSize < L::Ranks && rankCount[1])
      atomicAdd(&sR[lane + kWarpSize], rankCount[1]);
    if (lane < L::Nodes && nodeCount)
      atomicAdd(&sN[lane], nodeCount);
  }
  __syncthreads();
  // One block owns the counts; several add theirs to zeroed counts
  // (integer sums: the order does not matter).
  const bool alone = gridDim.x == 1;
  for (int i = threadIdx.x; i < L::E; i += L::BlockSize)
    alone ? void(perExpert[i] = sE[i]) : void(atomicAdd(perExpert + i, sE[i]));
  for (int i = threadIdx.x; i < L::Ranks; i += L::BlockSize)
    alone ? void(perRank[i] = sR[i]) : void(atomicAdd(perRank + i, sR[i]));
  for (int i = threadIdx.x; i < L::Nodes; i += L::BlockSize)
    alone ? void(perNode[i] = sN[i]) : void(atomicAdd(perNode + i, sN[i]));
}

/// Zeroes the counts unless a single block writes them (grid == 1).
template <class L>
inline cudaError_t zeroLayoutCounts(int grid, int32_t *perExpert,
                                    int32_t *perRank, int32_t *perNode,
                                    cudaStream_t stream) {
  if (grid == 1)
    return cudaSuccess;
  cudaError_t err =
      cudaMemsetAsync(perExpert, 0, sizeof(int32_t) * L::E, stream);
  if (err == cudaSuccess)
    err = cudaMemsetAsync(perRank, 0, sizeof(int32_t) * L::Ranks, stream);
  if (err == cudaSuccess)
    err = cudaMemsetAsync(perNode, 0, sizeof(int32_t) * L::Nodes, stream);
  return err;
}

//===----------------------------------------------------------------------===//
// Permute
//===----------------------------------------------------------------------===//

enum class DropPolicy : int { None = 0, Probs = 1, Position = 2 };

/// E experts, K slots, H hidden, element type In; Policy None means no
/// capacity. A block ranks `Rounds` x 256 consecutive assignments.
template <typename In_, int E_, int K_, int H_, DropPolicy Policy_>
struct PermuteSpec {
  using In = In_;
  static constexpr int E = E_, K = K_, H = H_;
  static constexpr DropPolicy Policy = Policy_;
  static constexpr int BlockSize = limits::PermuteBlockSize,
                       Warps = BlockSize / kWarpSize;
  /// Assignments ranked per block of the rank kernel (the compiler sizes
  /// the block counts with it).
  static constexpr int PerBlock = limits::PermuteAssignmentsPerBlock;
  static constexpr int Rounds = PerBlock / BlockSize;
  static_assert(Rounds * BlockSize == PerBlock, "whole rounds of the block");
  static constexpr int GatherUnroll = 4;
  /// Rows of at least this many 16-byte vectors (1 KB) are gathered
  /// token-major (see permuteGatherBody).
  static constexpr int TokenMajorVecs = 64;
  /// The scan kernel: 1024 threads, ScanLanes per expert (a power of two):
  /// thread i works on expert i % (1024 / ScanLanes).
  static constexpr int ScanThreads = limits::PermuteScanThreads;
  static constexpr int ScanLanes = E <= 128   ? 8
                                   : E <= 256 ? 4
                                   : E <= 512 ? 2
                                              : 1;
  static_assert(E >= 1 && E <= limits::PermuteMaxExperts,
                "at most PermuteMaxExperts experts");
};

template <class P> __host__ __device__ inline int64_t rankBlocks(int64_t T) {
  return divUp(T * P::K, P::PerBlock);
}

/// Blocks of the gather kernel that have work (the launch caps it to what
/// fits on the GPU at once).
template <class P> __host__ __device__ inline int64_t gatherBlocks(int64_t T) {
  constexpr int64_t Vecs =
      P::H * static_cast<int64_t>(sizeof(typename P::In)) / 16;
  const int64_t rows = Vecs >= P::TokenMajorVecs ? T : T * P::K;
  return divUp(rows * Vecs,
               static_cast<int64_t>(P::BlockSize) * P::GatherUnroll);
}

/// Workspace layout of a permute (int32 arrays).
template <class P> struct PermuteWorkspace {
  int32_t *localRank;  // [T*K]: rank within its block and expert
  int32_t *blockCount; // [blocks, E]: then the block's offset in the expert
  int32_t *total;      // [E + 1]: assignments per expert, then their scan
  int32_t *segment;    // [T*K]: assignments in expert-major token order
  int32_t *rowToken;   // [T*K]: source token of each row, -1 for none
};

/// P1: ranks of each block's assignments within their expert, in
/// assignment order: a warp match gives the rank inside a warp, earlier
/// warps' counts and a running block counter the rest.
template <class P>
__device__ void permuteRankBody(const int32_t *ids, int64_t numTokens,
                                PermuteWorkspace<P> ws) {
  chainedStart();
  __shared__ int warpCount[P::Warps][P::E];
  __shared__ int running[P::E];
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int64_t n = numTokens * P::K;
  for (int i = threadIdx.x; i < P::E; i += P::BlockSize)
    running[i] = 0;
  for (int i = threadIdx.x; i < P::Warps * P::E; i += P::BlockSize)
    (&warpCount[0][0])[i] = 0;
  __syncthreads();
  const int64_t base = blockIdx.x * static_cast<int64_t>(P::PerBlock);
  // All the block's ids at once: one memory latency, not one per round.
  int ids_[P::Rounds];
#pragma unroll
  for (int round = 0; round < P::Rounds; ++round) {
    int64_t a = base + round * P::BlockSize + threadIdx.x;
    ids_[round] = a < n ? ids[a] : -1;
  }
#pragma unroll
  for (int round = 0; round < P::Rounds; ++round) {
    int64_t a = base + round * P::BlockSize + threadIdx.x;
    int e = ids_[round];
    bool valid = e >= 0 && e < P::E;
    unsigned peers = __match_any_sync(kFullMask, valid ? e : -1);
    unsigned lower = peers & ((1u << lane) - 1u);
    int inWarp = __popc(lower);
    if (valid && lower == 0u)
      warpCount[warp][e] = __popc(peers);
    __syncthreads();
    if (valid) {
      int rank = running[e] + inWarp;
      for (int w = 0; w < warp; ++w)
        rank += warpCount[w][e];
      ws.localRank[a] = rank;
    } else if (a < n) {
      ws.localRank[a] = -1;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < P::E; i += P::BlockSize) {
      int sum = 0;
#pragma unroll
      for (int w = 0; w < P::Warps; ++w) {
        sum += warpCount[w][i];
        warpCount[w][i] = 0;
      }
      running[i] += sum;
    }
    __syncthreads();
  }
  for (int i = threadIdx.x; i < P::E; i += P::BlockSize)
    ws.blockCount[blockIdx.x * static_cast<int64_t>(P::E) + i] = running[i];
}

/// Capacity per expert: ceil(T*K/E * cf) in f64, as the reference.
__host__ __device__ inline int64_t capacityOf(int64_t numTokens, int k, int e,
                                              float cf) {
  double v = static_cast<double>(numTokens * k) / static_cast<double>(e) *
             static_cast<double>(cf);
  return static_cast<int64_t>(ceil(v));
}

/// Exclusive scan of one int per thread over a block of Threads threads
/// (warp shuffles, then the warp totals); returns the thread's prefix and
/// sets `total`.
template <int Threads>
__device__ __forceinline__ int blockExclusiveScan(int value, int *warpSums,
                                                  int &total) {
  constexpr int Warps = Threads / kWarpSize;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  int incl = value;
#pragma unroll
  for (int d = 1; d < kWarpSize; d <<= 1) {
    int up = __shfl_up_sync(kFullMask, incl, d);
    if (lane >= d)
      incl += up;
  }
  if (lane == kWarpSize - 1)
    warpSums[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    int w = lane < Warps ? warpSums[lane] : 0;
#pragma unroll
    for (int d = 1; d < kWarpSize; d <<= 1) {
      int up = __shfl_up_sync(kFullMask, w, d);
      if (lane >= d)
        w += up;
    }
    if (lane < Warps)
      warpSums[lane] = w; // inclusive
  }
  __syncthreads();
  total = warpSums[Warps - 1];
  int result = incl - value + (warp ? warpSums[warp - 1] : 0);
  __syncthreads(); // warpSums is reused by the next scan
  return result;
}

/// P2 (one block of ScanThreads = 1024 threads, E <= 1024): per expert,
/// the blocks' offsets in block order (ScanLanes threads per expert, each a
/// contiguous run of blocks) and the expert's total; the kept rows per
/// expert; the exclusive scans `offsets` (kept) and `total` (all).
template <class P>
__device__ void permuteScanBody(int64_t numTokens, float cf,
                                PermuteWorkspace<P> ws, int32_t *offsets) {
  chainedStart();
  constexpr int Lanes = P::ScanLanes;
  __shared__ int partial[P::ScanThreads];
  __shared__ int warpSums[P::ScanThreads / kWarpSize];
  // Neighbouring threads take neighbouring experts (coalesced loads).
  constexpr int Columns = P::ScanThreads / Lanes;
  const int e = threadIdx.x % Columns, j = threadIdx.x / Columns;
  const int64_t blocks = rankBlocks<P>(numTokens);
  const int64_t chunk = divUp(blocks, Lanes);
  const int64_t b0 = j * chunk < blocks ? j * chunk : blocks;
  const int64_t b1 = b0 + chunk < blocks ? b0 + chunk : blocks;
  int32_t *col = ws.blockCount + e;
  constexpr int Batch = 8; // loads in flight per thread
  int sum = 0;
  if (e < P::E) {
    for (int64_t b = b0; b < b1; b += Batch) {
      int c[Batch];
#pragma unroll
      for (int u = 0; u < Batch; ++u)
        c[u] = b + u < b1 ? col[(b + u) * P::E] : 0;
#pragma unroll
      for (int u = 0; u < Batch; ++u)
        sum += c[u];
    }
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  int before = 0, all = 0;
  for (int i = 0; i < Lanes; ++i) {
    int v = partial[i * Columns + e];
    before += i < j ? v : 0;
    all += v;
  }
  if (e < P::E) {
    int acc = before;
    for (int64_t b = b0; b < b1; b += Batch) {
      int c[Batch];
#pragma unroll
      for (int u = 0; u < Batch; ++u)
        c[u] = b + u < b1 ? col[(b + u) * P::E] : 0;
#pragma unroll
      for (int u = 0; u < Batch; ++u)
        if (b + u < b1) {
          col[(b + u) * P::E] = acc;
          acc += c[u];
        }
    }
  }
  int kept = all;
  if constexpr (P::Policy != DropPolicy::None) {
    int64_t cap = capacityOf(numTokens, P::K, P::E, cf);
    kept = all < cap ? all : static_cast<int>(cap);
  }
  // The expert-level scans: one value per expert (its lane 0), in expert
  // order.
  const bool owner = j == 0 && e < P::E;
  int totalKept = 0, totalAll = 0;
  int keptBefore =
      blockExclusiveScan<P::ScanThreads>(owner ? kept : 0, warpSums, totalKept);
  int allBefore =
      blockExclusiveScan<P::ScanThreads>(owner ? all : 0, warpSums, totalAll);
  if (owner) {
    offsets[e] = keptBefore;
    ws.total[e] = allBefore;
  }
  if (threadIdx.x == 0) {
    offsets[P::E] = totalKept;
    ws.total[P::E] = totalAll;
  }
}

/// Places assignment `a` of expert `e` at `pos` within the expert: a row
/// when kept, -1 when dropped, or (probs policy, expert over capacity) an
/// entry of the expert's segment for P4.
template <class P>
__device__ __forceinline__ void
placeOne(int64_t a, int e, int64_t pos, int64_t totalBegin, int64_t count,
         int64_t cap, int64_t keptBegin, PermuteWorkspace<P> ws,
         int32_t *rowMap) {
  if (P::Policy == DropPolicy::Probs && count > cap) {
    ws.segment[totalBegin + pos] = static_cast<int32_t>(a);
    return; // P4 decides
  }
  if (pos < cap) {
    int32_t row = static_cast<int32_t>(keptBegin + pos);
    rowMap[a] = row;
    ws.rowToken[row] = static_cast<int32_t>(a / P::K);
  } else {
    rowMap[a] = -1;
  }
}

/// P3 (grid over assignments): position of each assignment in its expert,
/// in token order; rows for the kept ones (all, the first `cap`, or, for
/// the probs policy, those of experts within capacity; the others go to
/// P4 through `segment`).
template <class P>
__device__ void permutePlaceBody(int64_t numTokens, float cf,
                                 const int32_t *ids, PermuteWorkspace<P> ws,
                                 const int32_t *offsets, int32_t *rowMap) {
  chainedStart();
  const int64_t n = numTokens * P::K;
  const int64_t cap =
      P::Policy == DropPolicy::None ? n : capacityOf(numTokens, P::K, P::E, cf);
  for (int64_t a =
           blockIdx.x * static_cast<int64_t>(P::BlockSize) + threadIdx.x;
       a < n; a += static_cast<int64_t>(gridDim.x) * P::BlockSize) {
    int e = ids[a];
    if (e < 0 || e >= P::E) {
      rowMap[a] = -1;
      continue;
    }
    int64_t b = a / P::PerBlock;
    int64_t pos = ws.blockCount[b * P::E + e] + ws.localRank[a];
    placeOne<P>(a, e, pos, ws.total[e], ws.total[e + 1] - ws.total[e], cap,
                offsets[e], ws, rowMap);
  }
}

/// P2 + P3 for few rank blocks (up to the permute op's fused_place_blocks),
/// one block per rank block: each block sums the B x E block counts itself (its
/// own prefix and the totals), scans over the experts in shared memory and
/// places its assignments; block 0 also writes `offsets` and the totals for P4
/// and P5. One launch less than the scan + place pair: what small batches pay
/// for.
template <class P>
__device__ void permuteFusedPlaceBody(int64_t numTokens, float cf,
                                      const int32_t *ids,
                                      PermuteWorkspace<P> ws, int32_t *offsets,
                                      int32_t *rowMap) {
  chainedStart();
  constexpr int PerThread = (P::E + P::BlockSize - 1) / P::BlockSize;
  __shared__ int prefix[P::E], totalOff[P::E + 1], keptOff[P::E + 1];
  __shared__ int warpSums[P::BlockSize / kWarpSize];
  const int64_t blocks = rankBlocks<P>(numTokens);
  const int64_t self = blockIdx.x;
  const int64_t n = numTokens * P::K;
  const int64_t cap =
      P::Policy == DropPolicy::None ? n : capacityOf(numTokens, P::K, P::E, cf);
  // Thread t owns experts t*PerThread ... (consecutive, for the scans).
  int mine[PerThread], kept[PerThread];
  int sumAll = 0, sumKept = 0;
#pragma unroll
  for (int i = 0; i < PerThread; ++i) {
    const int e = threadIdx.x * PerThread + i;
    int before = 0, all = 0;
    if (e < P::E) {
      constexpr int Batch = 8;
      for (int64_t b = 0; b < blocks; b += Batch) {
        int c[Batch];
#pragma unroll
        for (int u = 0; u < Batch; ++u)
          c[u] = b + u < blocks ? ws.blockCount[(b + u) * P::E + e] : 0;
#pragma unroll
        for (int u = 0; u < Batch; ++u) {
          before += b + u < self ? c[u] : 0;
          all += c[u];
        }
      }
      prefix[e] = before;
    }
    mine[i] = all;
    kept[i] = all < cap ? all : static_cast<int>(cap);
    sumAll += mine[i];
    sumKept += kept[i];
  }
  int totalAll = 0, totalKept = 0;
  int runAll = blockExclusiveScan<P::BlockSize>(sumAll, warpSums, totalAll);
  int runKept = blockExclusiveScan<P::BlockSize>(sumKept, warpSums, totalKept);
#pragma unroll
  for (int i = 0; i < PerThread; ++i) {
    const int e = threadIdx.x * PerThread + i;
    if (e < P::E) {
      totalOff[e] = runAll;
      keptOff[e] = runKept;
      if (self == 0) {
        ws.total[e] = runAll;
        offsets[e] = runKept;
      }
    }
    runAll += mine[i];
    runKept += kept[i];
  }
  if (threadIdx.x == 0) {
    totalOff[P::E] = totalAll;
    keptOff[P::E] = totalKept;
    if (self == 0) {
      ws.total[P::E] = totalAll;
      offsets[P::E] = totalKept;
    }
  }
  __syncthreads();
  const int64_t base = self * static_cast<int64_t>(P::PerBlock);
  for (int i = threadIdx.x; i < P::PerBlock; i += P::BlockSize) {
    const int64_t a = base + i;
    if (a >= n)
      break;
    int e = ids[a];
    if (e < 0 || e >= P::E) {
      rowMap[a] = -1;
      continue;
    }
    placeOne<P>(a, e, prefix[e] + ws.localRank[a], totalOff[e],
                totalOff[e + 1] - totalOff[e], cap, keptOff[e], ws, rowMap);
  }
}

/// P4 (probs policy, one block per expert; experts within capacity return
/// at once): keep the `cap` largest weights of the expert, earlier
/// assignment on ties, NaN last: a radix select of the order keys, then a
/// stable compaction of the kept ones in token order.
template <class P>
__device__ void permuteSelectBody(int64_t numTokens, float cf,
                                  const float *weights, PermuteWorkspace<P> ws,
                                  const int32_t *offsets, int32_t *rowMap) {
  chainedStart();
  __shared__ int hist[256];
  __shared__ uint32_t prefixShared;
  __shared__ int needShared;
  const int e = blockIdx.x;
  const int64_t start = ws.total[e], count = ws.total[e + 1] - start;
  const int64_t cap = capacityOf(numTokens, P::K, P::E, cf);
  if (count <= cap)
    return;
  const int32_t *seg = ws.segment + start;
  // Radix select, most significant digit first: the cap-th largest key.
  uint32_t prefix = 0u, mask = 0u;
  int need = static_cast<int>(cap);
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int i = threadIdx.x; i < 256; i += P::BlockSize)
      hist[i] = 0;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < count; i += P::BlockSize) {
      uint32_t key = orderKey(weights[seg[i]]);
      if ((key & mask) == prefix)
        atomicAdd(&hist[(key >> shift) & 0xffu], 1);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int d = 255;
      while (d > 0 && hist[d] < need) {
        need -= hist[d];
        --d;
      }
      prefixShared = prefix | (static_cast<uint32_t>(d) << shift);
      needShared = need;
    }
    __syncthreads();
    prefix = prefixShared;
    need = needShared;
    mask |= 0xffu << shift;
    __syncthreads();
  }
  // Keys above the threshold are kept; of those equal to it, the first
  // `need` in token order. Block scans over the segment give the rows.
  const uint32_t threshold = prefix;
  __shared__ int warpSums[P::BlockSize / kWarpSize];
  int kept = 0, equalSeen = 0; // over the earlier chunks
  for (int64_t base = 0; base < count; base += P::BlockSize) {
    const int64_t i = base + threadIdx.x;
    uint32_t key = 0u;
    int32_t a = -1;
    if (i < count) {
      a = seg[i];
      key = orderKey(weights[a]);
    }
    const int isEqual = i < count && key == threshold ? 1 : 0;
    int equalTotal = 0, keptTotal = 0;
    const int equalBefore = equalSeen + blockExclusiveScan<P::BlockSize>(
                                            isEqual, warpSums, equalTotal);
    const int keep =
        i < count && (key > threshold || (isEqual && equalBefore < need)) ? 1
                                                                          : 0;
    const int keptBefore =
        kept + blockExclusiveScan<P::BlockSize>(keep, warpSums, keptTotal);
    if (i < count) {
      if (keep) {
        int32_t row = offsets[e] + keptBefore;
        rowMap[a] = row;
        ws.rowToken[row] = a / P::K;
      } else {
        rowMap[a] = -1;
      }
    }
    kept += keptTotal;
    equalSeen += equalTotal;
  }
}

/// P5: the rows. Rows of at least TokenMajorVecs 16-byte vectors go
/// token-major, rows[rowMap[t * K + k]] = input[t], so each input row is
/// read once and its K copies are written from registers (row-major, every
/// token would be read K times, from DRAM once the input outgrows L2), then
/// the rows after the kept ones are zeroed. Short rows go row-major,
/// rows[r] = input[rowToken[r]] (zero after the kept ones), which keeps K
/// times more threads busy where the copy is small. Grid-stride loops over
/// 16-byte vectors, Unroll loads in flight per thread.
template <class P>
__device__ void permuteGatherBody(const typename P::In *input,
                                  int64_t numTokens, PermuteWorkspace<P> ws,
                                  const int32_t *offsets, const int32_t *rowMap,
                                  typename P::In *rows) {
  chainedStart();
  constexpr int Vecs = P::H * sizeof(typename P::In) / 16;
  static_assert(P::H * sizeof(typename P::In) % 16 == 0,
                "rows are whole 16-byte vectors");
  constexpr int Unroll = P::GatherUnroll;
  const uint4 *src = reinterpret_cast<const uint4 *>(input);
  uint4 *dst = reinterpret_cast<uint4 *>(rows);
  const int64_t kept = offsets[P::E];
  const int64_t stride = static_cast<int64_t>(gridDim.x) * P::BlockSize;
  const int64_t first =
      blockIdx.x * static_cast<int64_t>(P::BlockSize) + threadIdx.x;
  if constexpr (Vecs >= P::TokenMajorVecs) {
    const int64_t total = numTokens * Vecs;
    for (int64_t base = first; base < total; base += stride * Unroll) {
      uint4 v[Unroll];
#pragma unroll
      for (int u = 0; u < Unroll; ++u) {
        const int64_t i = base + u * stride;
        if (i < total)
          v[u] = __ldg(src + i);
      }
#pragma unroll
      for (int u = 0; u < Unroll; ++u) {
        const int64_t i = base + u * stride;
        if (i >= total)
          continue;
        const int64_t t = i / Vecs, c = i - t * Vecs;
#pragma unroll
        for (int k = 0; k < P::K; ++k) {
          const int32_t row = __ldg(rowMap + t * P::K + k);
          if (row >= 0)
            dst[static_cast<int64_t>(row) * Vecs + c] = v[u];
        }
      }
    }
    // Rows [kept, T * K) belong to no expert: zero.
    const int64_t tail = (numTokens * P::K - kept) * Vecs;
    for (int64_t i = first; i < tail; i += stride)
      dst[kept * Vecs + i] = make_uint4(0u, 0u, 0u, 0u);
  } else {
    const int64_t total = numTokens * P::K * Vecs;
    for (int64_t base = first; base < total; base += stride * Unroll) {
      uint4 v[Unroll];
#pragma unroll
      for (int u = 0; u < Unroll; ++u) {
        const int64_t i = base + u * stride;
        const int64_t r = i / Vecs;
        v[u] = make_uint4(0u, 0u, 0u, 0u);
        if (i < total && r < kept)
          v[u] = __ldg(src + static_cast<int64_t>(ws.rowToken[r]) * Vecs +
                       (i - r * Vecs));
      }
#pragma unroll
      for (int u = 0; u < Unroll; ++u) {
        const int64_t i = base + u * stride;
        if (i < total)
          dst[i] = v[u];
      }
    }
  }
}

//===----------------------------------------------------------------------===//
// Combine
//===----------------------------------------------------------------------===//

template <typename T> __device__ __forceinline__ float toFloat(T v);
template <> __device__ __forceinline__ float toFloat(float v) { return v; }
template <> __device__ __forceinline__ float toFloat(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <> __device__ __forceinline__ float toFloat(__half v) {
  return __half2float(v);
}
template <typename T> __device__ __forceinline__ T fromFloat(float v);
template <> __device__ __forceinline__ float fromFloat(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 fromFloat(float v) {
  return __float2bfloat16_rn(v);
}
template <> __device__ __forceinline__ __half fromFloat(float v) {
  return __float2half_rn(v);
}

template <typename In_, int K_, int H_, bool Shared_> struct CombineSpec {
  using In = In_;
  static constexpr int K = K_, H = H_;
  static constexpr bool Shared = Shared_;
  static constexpr int BlockSize = limits::CombineBlockSize;
  /// A block takes one token's chunk of BlockSize * 8 columns (8 per
  /// thread), so a few tokens still spread over several multiprocessors.
  static constexpr int Chunk = BlockSize * limits::CombineElementsPerThread;
  static constexpr int Chunks = (H + Chunk - 1) / Chunk;
  /// Slots whose rows a thread loads before adding them.
  static constexpr int Batch = K < 8 ? K : 8;
};

/// Blocks of the combine kernel that have work (the launch caps it to what
/// fits on the GPU at once).
template <class C> __host__ __device__ inline int64_t combineBlocks(int64_t T) {
  return T * C::Chunks;
}

/// Eight consecutive elements (16 or 32 bytes) at an aligned address.
template <typename In>
__device__ __forceinline__ void loadEight(In (&v)[8], const In *src) {
  static_assert(sizeof(In) == 2 || sizeof(In) == 4, "16-bit or 32-bit rows");
  *reinterpret_cast<uint4 *>(v) = *reinterpret_cast<const uint4 *>(src);
  if constexpr (sizeof(In) == 4)
    *reinterpret_cast<uint4 *>(v + 4) =
        *reinterpret_cast<const uint4 *>(src + 4);
}

/// The same, stored.
template <typename In>
__device__ __forceinline__ void storeEight(In *dst, const In (&v)[8]) {
  *reinterpret_cast<uint4 *>(dst) = *reinterpret_cast<const uint4 *>(v);
  if constexpr (sizeof(In) == 4)
    *reinterpret_cast<uint4 *>(dst + 4) =
        *reinterpret_cast<const uint4 *>(v + 4);
}

/// out[t] = round(sum_k w[t,k] * rows[map[t,k]] + shared[t]), slots in
/// order, f32. One block per token and chunk of columns (grid-stride);
/// each thread loads the rows of Batch slots at once (16-byte loads of
/// bf16), then adds them in slot order.
template <class C>
__device__ void combineBody(const typename C::In *rows, int64_t numRows,
                            const int32_t *rowMap, const float *weights,
                            const typename C::In *shared, int64_t numTokens,
                            typename C::In *out) {
  chainedStart();
  using In = typename C::In;
  constexpr int Step = limits::CombineElementsPerThread;
  static_assert(C::H % Step == 0, "hidden size a multiple of 8");
  static_assert(C::K <= C::BlockSize, "a thread loads each slot's map");
  __shared__ int32_t map[C::K];
  __shared__ float w[C::K];
  const int64_t units = numTokens * C::Chunks;
  for (int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const int64_t t = u / C::Chunks;
    const int h =
        static_cast<int>(u % C::Chunks) * C::Chunk + threadIdx.x * Step;
    if (threadIdx.x < C::K) {
      int32_t r = rowMap[t * C::K + threadIdx.x];
      map[threadIdx.x] = r >= 0 && r < numRows ? r : -1;
      w[threadIdx.x] = weights[t * C::K + threadIdx.x];
    }
    __syncthreads();
    if (h < C::H) {
      float acc[Step];
#pragma unroll
      for (int i = 0; i < Step; ++i)
        acc[i] = 0.0f;
      for (int k0 = 0; k0 < C::K; k0 += C::Batch) {
        In v[C::Batch][Step];
#pragma unroll
        for (int j = 0; j < C::Batch; ++j)
          if (k0 + j < C::K && map[k0 + j] >= 0)
            loadEight(v[j],
                      rows + static_cast<int64_t>(map[k0 + j]) * C::H + h);
            // Product then sum, each rounded (no FMA): the reference's order.
#pragma unroll
        for (int j = 0; j < C::Batch; ++j)
          if (k0 + j < C::K && map[k0 + j] >= 0)
#pragma unroll
            for (int i = 0; i < Step; ++i)
              acc[i] =
                  __fadd_rn(acc[i], __fmul_rn(w[k0 + j], toFloat(v[j][i])));
      }
      In res[Step];
      if constexpr (C::Shared) {
        In sv[Step];
        loadEight(sv, shared + t * C::H + h);
#pragma unroll
        for (int i = 0; i < Step; ++i)
          res[i] = fromFloat<In>(__fadd_rn(acc[i], toFloat(sv[i])));
      } else {
#pragma unroll
        for (int i = 0; i < Step; ++i)
          res[i] = fromFloat<In>(acc[i]);
      }
      storeEight(out + t * C::H + h, res);
    }
    __syncthreads();
  }
}

template <class P>
inline PermuteWorkspace<P>
makePermuteWorkspace(int32_t *localRank, int32_t *blockCount, int32_t *total,
                     int32_t *segment, int32_t *rowToken) {
  return PermuteWorkspace<P>{localRank, blockCount, total, segment, rowToken};
}

/// Host-side checks of a permute: sizes and 16-byte alignment of the rows.
template <class P>
inline cudaError_t checkPermute(const void *input, const void *rows,
                                int64_t numTokens) {
  if (numTokens < 0 || numTokens * P::K > INT32_MAX)
    return cudaErrorInvalidValue;
  if (reinterpret_cast<uintptr_t>(input) % 16 ||
      reinterpret_cast<uintptr_t>(rows) % 16)
    return cudaErrorMisalignedAddress;
  return cudaSuccess;
}

/// Host-side checks of a combine: 16-byte alignment of every row array.
inline cudaError_t checkCombine(const void *rows, const void *shared,
                                const void *out) {
  if (reinterpret_cast<uintptr_t>(rows) % 16 ||
      reinterpret_cast<uintptr_t>(shared) % 16 ||
      reinterpret_cast<uintptr_t>(out) % 16)
    return cudaErrorMisalignedAddress;
  return cudaSuccess;
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_DISPATCH_CUH
