//===- Routing.cuh - fused score + group-limited top-k routing --*- CUDA
//-*-===//
//
// One warp per token, persistent over the token range. Lane l holds the V =
// ceil(E/32) consecutive experts l*V .. l*V+V-1 in registers, read with 16-byte
// loads when V allows, so a token's logits are read exactly once and nothing
// goes through shared memory on the hot path. The semantics are those of
// moe.score + moe.route (docs/design.md): selection on s + bias, groups
// scored by max or the sum of the n best in rank order, the routing order
// (larger first, NaN last, lower index on ties) via packed keys, weights
// from the raw scores, renormalised in slot order and scaled.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_ROUTING_CUH
#define MOE_RUNTIME_CUDA_ROUTING_CUH

#include "moe/Runtime/cuda/Common.cuh"

namespace moe {
namespace cuda {

enum class ScoreFunc : int { None = 0, Sigmoid = 1, Softmax = 2 };

/// No load-balancing statistics.
struct NoStats {
  static constexpr bool Enabled = false, Normalized = false, Topk = false;
  static constexpr int Devices = 0, Chunk = 1;
};

/// Per-chunk load-balancing statistics produced with the routing, for the
/// loss of a `#moe.loss`: a row of 2E + D floats per chunk of `Chunk`
/// consecutive tokens (chunks never straddle a sequence): the count-source
/// counts per expert, the sum over the chunk of q per expert (q = s / Σ s
/// when Normalized, else s), and the tokens sent to each of D devices.
/// Topk counts the plain top-K of the unbiased scores instead of the routed
/// ids.
template <bool Normalized_, bool Topk_, int Devices_, int Chunk_>
struct LossStats {
  static constexpr bool Enabled = true, Normalized = Normalized_, Topk = Topk_;
  static constexpr int Devices = Devices_, Chunk = Chunk_;
  static_assert(Chunk >= 1 && Devices >= 0 && Devices <= limits::LossMaxDevices,
                "chunk >= 1, at most LossMaxDevices devices");
};

/// Compile-time configuration of a routing kernel. `In` is the logits
/// element type; GroupSum is n of topk_sum<n> (1 for max, which selects the
/// same groups); Counts adds the per-expert token counts of the selection.
template <typename In_, int E_, int K_, int G_, int GroupTopk_, int GroupSum_,
          ScoreFunc Func_, bool Normalize_, bool HasBias_, bool Counts_,
          class Stats_ = NoStats>
struct RouteSpec {
  using In = In_;
  using Stats = Stats_;
  /// Width of a statistics row.
  static constexpr int StatsWidth = 2 * E_ + Stats_::Devices;
  static constexpr int E = E_, K = K_, G = G_, GroupTopk = GroupTopk_,
                       GroupSum = GroupSum_;
  static constexpr ScoreFunc Func = Func_;
  static constexpr bool Normalize = Normalize_, HasBias = HasBias_,
                        Counts = Counts_;
  static constexpr int V = (E + kWarpSize - 1) / kWarpSize; // experts/lane
  static constexpr int PerGroup = E / G;
  static constexpr int LanesPerGroup = G > 1 ? PerGroup / V : kWarpSize;
  static constexpr int WarpsPerBlock = limits::RouteWarpsPerBlock;
  static constexpr int BlockSize = WarpsPerBlock * kWarpSize;
  /// Blocks per SM the register budget is sized for (__launch_bounds__):
  /// more resident warps hide the latency of the warp-wide reductions.
  /// (Softmax holds f64 values: fewer blocks, so no spills.)
  static constexpr int MinBlocks =
      Stats::Enabled               ? (Func == ScoreFunc::Softmax ? 2
                                      : V <= 8                   ? 4
                                                                 : 2)
      : Func == ScoreFunc::Softmax ? (V <= 2    ? 5
                                      : V <= 8  ? 4
                                      : V <= 12 ? 3
                                                : 2)
                                   : (V <= 2    ? 8
                                      : V <= 8  ? 6
                                      : V <= 12 ? 4
                                                : 3);

  static_assert(E >= 1 && E <= limits::RouteMaxExperts,
                "at most RouteMaxExperts experts (16 per lane)");
  static_assert(K >= 1 && K <= limits::RouteMaxK && K <= E,
                "1 <= k <= min(RouteMaxK, E)");
  static_assert(E % G == 0, "groups must divide the experts");
  static_assert(G == 1 || (PerGroup % V == 0 && LanesPerGroup >= 1 &&
                           LanesPerGroup <= kWarpSize &&
                           (LanesPerGroup & (LanesPerGroup - 1)) == 0),
                "a group must be a power-of-two number of whole lanes");
  static_assert(G <= limits::RouteMaxGroups && GroupTopk >= 1 && GroupTopk <= G,
                "1 <= group_topk <= groups <= RouteMaxGroups");
  static_assert(GroupSum >= 1 && GroupSum <= limits::RouteMaxGroupSum &&
                    GroupSum <= PerGroup,
                "group score sums at most RouteMaxGroupSum scores");
};

template <class S> struct RouteArgs {
  const typename S::In *logits; // [T, E]
  const float *bias;            // [E] or null
  int32_t *ids;                 // [T, K]
  float *weights;               // [T, K]
  int32_t *counts;              // [E] (zeroed by the launcher) or null
  int64_t numTokens;
  float scale;
  float *stats = nullptr; // [ceil(T / Chunk), StatsWidth] with Stats
};

/// Per-token state of the score function that a single score can be
/// recomputed from (the softmax row maximum and normaliser).
struct ScoreRow {
  float max = 0.0f;
  double sum = 1.0;
  bool nan = false;
};

/// The score of one logit: the same instructions as in computeScores, so
/// the value is bitwise the same.
template <class S>
__device__ __forceinline__ float scoreOf(float x, const ScoreRow &row) {
  if constexpr (S::Func == ScoreFunc::None) {
    return x;
  } else if constexpr (S::Func == ScoreFunc::Sigmoid) {
    // The accurate expf, then a 2-ulp reciprocal: the IEEE-rounded one
    // costs a range check and a slow path per score, ~15% of the kernel,
    // for differences the checks count as near-ties.
    return __fdividef(1.0f, 1.0f + expf(-x));
  } else {
    double e = exp(static_cast<double>(x) - static_cast<double>(row.max));
    return row.nan ? __uint_as_float(0x7fc00000u)
                   : static_cast<float>(e / row.sum);
  }
}

/// Scores of one token in this lane's registers.
template <class S>
__device__ __forceinline__ void computeScores(const float (&x)[S::V],
                                              float (&s)[S::V], ScoreRow &row,
                                              int lane) {
  if constexpr (S::Func == ScoreFunc::Softmax) {
    // Softmax in f64, rounded once (the reference's definition); a NaN
    // anywhere in the row makes the whole row NaN, as on the CPU.
    float m = -INFINITY;
    bool nan = false;
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      bool valid = lane * S::V + j < S::E;
      if (valid) {
        nan |= x[j] != x[j];
        m = fmaxf(m, x[j]);
      }
    }
    row.max = warpMax(m);
    row.nan = __any_sync(kFullMask, nan);
    double sum = 0.0;
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      bool valid = lane * S::V + j < S::E;
      sum += valid
                 ? exp(static_cast<double>(x[j]) - static_cast<double>(row.max))
                 : 0.0;
    }
    row.sum = warpSum(sum);
  }
#pragma unroll
  for (int j = 0; j < S::V; ++j)
    s[j] = scoreOf<S>(x[j], row);
}

/// A lane's best eligible experts in the routing order: key and slot
/// (0..V-1); `Depth` entries, missing ones with key 0.
template <int Depth> struct LaneTop {
  uint32_t key[Depth];
  int slot[Depth];

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int i = 0; i < Depth; ++i) {
      key[i] = 0u;
      slot[i] = 0;
    }
  }
  /// Inserts in slot order; a strict comparison keeps the lower slot first
  /// among equal keys.
  __device__ __forceinline__ void insert(uint32_t k, int j) {
#pragma unroll
    for (int i = 0; i < Depth; ++i) {
      bool above = k > key[i];
      uint32_t tk = key[i];
      int tj = slot[i];
      key[i] = above ? k : tk;
      slot[i] = above ? j : tj;
      k = above ? tk : k;
      j = above ? tj : j;
    }
  }
};

/// Whether this lane's group is among the GroupTopk best groups (always
/// true without groups). `top` holds the lane's best keys, in order.
template <class S, int Depth>
__device__ __forceinline__ bool
groupChosen(const uint32_t (&key)[S::V], const LaneTop<Depth> &top, int lane) {
  if constexpr (S::G == 1) {
    return true;
  } else {
    constexpr int N = S::GroupSum;
    constexpr int L = S::LanesPerGroup;
    // The lane's n best keys (from the ranked list when it is deep enough).
    uint32_t best[N];
    if constexpr (N <= Depth) {
#pragma unroll
      for (int i = 0; i < N; ++i)
        best[i] = top.key[i];
    } else {
#pragma unroll
      for (int i = 0; i < N; ++i)
        best[i] = 0u;
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        insertTop(best, key[j]);
    }
    groupTopMerge<N, L>(best);
    // Sum of the n best in rank order, from 0 (as the reference adds).
    float score = 0.0f;
#pragma unroll
    for (int i = 0; i < N; ++i)
      score += keyValue(best[i]);
    uint32_t mine = orderKey(N == 1 ? keyValue(best[0]) : score);
    // GroupTopk rounds of a warp argmax over the group leaders' keys; the
    // lowest group wins ties (leaders sit in group order).
    int group = lane / L;
    bool leader = lane % L == 0 && group < S::G;
    bool chosen = false;
#pragma unroll
    for (int r = 0; r < S::GroupTopk; ++r) {
      uint32_t offer = leader && !chosen ? mine : 0u;
      uint32_t top1 = __reduce_max_sync(kFullMask, offer);
      int winner =
          __ffs(__ballot_sync(kFullMask, leader && !chosen && offer == top1)) -
          1;
      chosen |= group == winner / L;
    }
    return chosen;
  }
}

/// This lane's V consecutive elements of a row of E, widened to f32; the
/// elements past E read as 0.
template <class S, typename T>
__device__ __forceinline__ void loadLane(const T *row, float (&x)[S::V],
                                         int lane) {
  constexpr bool kFull = S::E == S::V * kWarpSize;
  const T *p = row + lane * S::V;
  if (kFull) {
    RowLoader<T, S::V>::load(p, x);
  } else {
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      bool valid = lane * S::V + j < S::E;
      float v[1] = {0.0f};
      if (valid)
        RowLoader<T, 1>::load(p + j, v);
      x[j] = v[0];
    }
  }
}

template <class S>
__device__ __forceinline__ void loadRow(const RouteArgs<S> &a, int64_t t,
                                        float (&x)[S::V], int lane) {
  loadLane<S>(a.logits + t * S::E, x, lane);
}

/// The K best of the keys in the routing order: K picks, each a warp argmax
/// over what the lanes offer (the best entry of their ranked list they have
/// not given yet). The largest key wins, the lowest lane (= lowest expert)
/// on ties. No register moves per pick; a lane whose list runs out rescans
/// its untaken experts. Returns this lane's chosen slots as a bit mask;
/// `myId` becomes the expert of pick `lane` (lane < K).
template <class S, int Depth, bool WantIds = true>
__device__ __forceinline__ uint32_t pickTopK(const uint32_t (&key)[S::V],
                                             LaneTop<Depth> &top, int lane,
                                             int &myId) {
  uint32_t taken = 0u;
  int used = 0;
#pragma unroll
  for (int r = 0; r < S::K; ++r) {
    uint32_t offer = top.key[0];
    int offerSlot = top.slot[0];
#pragma unroll
    for (int i = 1; i < Depth; ++i) {
      offer = used == i ? top.key[i] : offer;
      offerSlot = used == i ? top.slot[i] : offerSlot;
    }
    offer = used < Depth ? offer : 0u;
    uint32_t best = __reduce_max_sync(kFullMask, offer);
    int winner = __ffs(__ballot_sync(kFullMask, offer == best)) - 1;
    if constexpr (WantIds) {
      int slot = __shfl_sync(kFullMask, offerSlot, winner);
      if (lane == r)
        myId = winner * S::V + slot;
    }
    bool won = lane == winner;
    used += won ? 1 : 0;
    taken |= won ? 1u << offerSlot : 0u;
    if constexpr (Depth < S::V) {
      if (r + 1 < S::K && won && used == Depth) {
        top.clear();
#pragma unroll
        for (int j = 0; j < S::V; ++j)
          if (!((taken >> j) & 1u))
            top.insert(key[j], j);
        used = 0;
      }
    }
  }
  return taken;
}

/// Per-lane running statistics of the tokens a warp routed in a chunk.
template <class S> struct StatsAcc {
  float psum[S::V];
  int count[S::V];
  int deviceTokens; // lane d < D: tokens sent to device d

  __device__ __forceinline__ void clear() {
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      psum[j] = 0.0f;
      count[j] = 0;
    }
    deviceTokens = 0;
  }
};

/// Adds one token to the lane's statistics: `member` marks this lane's
/// experts that the count source chose.
template <class S>
__device__ __forceinline__ void accumulateStats(StatsAcc<S> &acc,
                                                const float (&s)[S::V],
                                                uint32_t member, int lane) {
  using St = typename S::Stats;
  float inv = 1.0f;
  if constexpr (St::Normalized) {
    float sum = 0.0f;
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      sum += lane * S::V + j < S::E ? s[j] : 0.0f;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1)
      sum += __shfl_xor_sync(kFullMask, sum, off);
    inv = 1.0f / sum;
  }
  uint32_t devices = 0u;
#pragma unroll
  for (int j = 0; j < S::V; ++j) {
    bool valid = lane * S::V + j < S::E;
    acc.psum[j] += valid ? (St::Normalized ? s[j] * inv : s[j]) : 0.0f;
    bool in = (member >> j) & 1u;
    acc.count[j] += in ? 1 : 0;
    if constexpr (St::Devices > 0) {
      constexpr int PerDevice = S::E / (St::Devices > 0 ? St::Devices : 1);
      devices |= in ? 1u << ((lane * S::V + j) / PerDevice) : 0u;
    }
  }
  if constexpr (St::Devices > 0) {
    devices = __reduce_or_sync(kFullMask, devices);
    acc.deviceTokens += (devices >> lane) & 1u;
  }
}

/// Routes one token; lane k < K writes slot k and, with counts, adds the
/// choice to the block's shared counts; with statistics, adds the token to
/// the lane's chunk statistics.
template <class S>
__device__ __forceinline__ void
routeToken(const RouteArgs<S> &a, int64_t t, const float (&x)[S::V],
           int *blockCount, StatsAcc<S> &acc, int lane) {
  // Depth of each lane's ranked list: deep enough that a rescan (a lane
  // winning more often than that) is rare, shallow enough to stay cheap.
  constexpr int Depth = S::V < 3 ? S::V : 3;
  float s[S::V];
  ScoreRow row;
  computeScores<S>(x, s, row, lane);
  // The bias is re-read per token (an L1 hit) rather than held in
  // registers: fewer registers, more warps per SM.
  float bias[S::V];
  if constexpr (S::HasBias)
    loadLane<S>(a.bias, bias, lane);
  uint32_t key[S::V];
  LaneTop<Depth> top;
  top.clear();
#pragma unroll
  for (int j = 0; j < S::V; ++j) {
    bool valid = lane * S::V + j < S::E;
    float sel = S::HasBias ? s[j] + bias[j] : s[j];
    key[j] = valid ? orderKey(sel) : 0u;
    top.insert(key[j], j);
  }
  if (!groupChosen<S>(key, top, lane)) {
    top.clear();
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      key[j] = 0u;
  }
  int myId = 0;
  uint32_t chosen = pickTopK<S>(key, top, lane, myId);

  if constexpr (S::Stats::Enabled) {
    uint32_t member = chosen;
    if constexpr (S::Stats::Topk) {
      // The plain top-K of the unbiased scores, no group limit.
      LaneTop<Depth> plain;
      plain.clear();
      uint32_t plainKey[S::V];
#pragma unroll
      for (int j = 0; j < S::V; ++j) {
        plainKey[j] = lane * S::V + j < S::E ? orderKey(s[j]) : 0u;
        plain.insert(plainKey[j], j);
      }
      int unused = 0;
      member =
          pickTopK<S, Depth, /*WantIds=*/false>(plainKey, plain, lane, unused);
    }
    accumulateStats<S>(acc, s, member, lane);
  }

  // The weight of slot k: its raw score, recomputed by lane k from the
  // logit (an L1 hit; bitwise the score the selection used), renormalised
  // in slot order and scaled.
  float raw = 0.0f;
  if (lane < S::K) {
    float v[1];
    RowLoader<typename S::In, 1>::load(a.logits + t * S::E + myId, v);
    raw = scoreOf<S>(v[0], row);
  }
  float sum = 0.0f;
  if constexpr (S::Normalize) {
#pragma unroll
    for (int k = 0; k < S::K; ++k)
      sum += __shfl_sync(kFullMask, raw, k);
  }
  if (lane < S::K) {
    float w = raw;
    if constexpr (S::Normalize)
      w = w / (sum + 1e-20f);
    if (a.scale != 1.0f)
      w = w * a.scale;
    a.ids[t * S::K + lane] = myId;
    a.weights[t * S::K + lane] = w;
    if constexpr (S::Counts)
      atomicAdd(blockCount + myId, 1);
  }
}

/// Writes a block's chunk statistics: the warps' per-lane sums combined in
/// warp order (deterministic), one row of StatsWidth floats.
template <class S>
__device__ __forceinline__ void flushStats(StatsAcc<S> &acc, float *shared,
                                           float *row, int lane, int warp) {
  constexpr int W = S::StatsWidth;
  float *mine = shared + warp * W;
#pragma unroll
  for (int j = 0; j < S::V; ++j) {
    int e = lane * S::V + j;
    if (e < S::E) {
      mine[e] = static_cast<float>(acc.count[j]);
      mine[S::E + e] = acc.psum[j];
    }
  }
  if (lane < S::Stats::Devices)
    mine[2 * S::E + lane] = static_cast<float>(acc.deviceTokens);
  __syncthreads();
  for (int i = threadIdx.x; i < W; i += S::BlockSize) {
    float total = 0.0f;
#pragma unroll
    for (int w = 0; w < S::WarpsPerBlock; ++w)
      total += shared[w * W + i];
    row[i] = total;
  }
  __syncthreads();
  acc.clear();
}

/// The kernel body: persistent warps over the token range; with statistics,
/// persistent blocks over chunks of Chunk tokens (8 warps share a chunk).
template <class S> __device__ void routeTokens(const RouteArgs<S> &a) {
  const int lane = threadIdx.x % kWarpSize;
  const int warpInBlock = threadIdx.x / kWarpSize;

  // Tokens per expert of this block; integer sums are exact, so the atomics
  // keep the counts deterministic.
  __shared__ int blockCount[S::Counts ? S::E : 1];
  if constexpr (S::Counts) {
    for (int e = threadIdx.x; e < S::E; e += S::BlockSize)
      blockCount[e] = 0;
    __syncthreads();
  }
  StatsAcc<S> acc;
  acc.clear();

  if constexpr (!S::Stats::Enabled) {
    const int64_t warp =
        static_cast<int64_t>(blockIdx.x) * S::WarpsPerBlock + warpInBlock;
    const int64_t numWarps = static_cast<int64_t>(gridDim.x) * S::WarpsPerBlock;
    // The next token's row is in flight while this one is routed.
    float cur[S::V], next[S::V];
    int64_t t = warp;
    if (t < a.numTokens)
      loadRow<S>(a, t, cur, lane);
    for (; t < a.numTokens; t += numWarps) {
      if (t + numWarps < a.numTokens)
        loadRow<S>(a, t + numWarps, next, lane);
      routeToken<S>(a, t, cur, blockCount, acc, lane);
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        cur[j] = next[j];
    }
  } else {
    constexpr int C = S::Stats::Chunk;
    __shared__ float shared[S::WarpsPerBlock * S::StatsWidth];
    const int64_t numChunks = (a.numTokens + C - 1) / C;
    for (int64_t c = blockIdx.x; c < numChunks; c += gridDim.x) {
      int64_t end = (c + 1) * C < a.numTokens ? (c + 1) * C : a.numTokens;
      float cur[S::V], next[S::V];
      int64_t t = c * C + warpInBlock;
      if (t < end)
        loadRow<S>(a, t, cur, lane);
      for (; t < end; t += S::WarpsPerBlock) {
        if (t + S::WarpsPerBlock < end)
          loadRow<S>(a, t + S::WarpsPerBlock, next, lane);
        routeToken<S>(a, t, cur, blockCount, acc, lane);
#pragma unroll
        for (int j = 0; j < S::V; ++j)
          cur[j] = next[j];
      }
      flushStats<S>(acc, shared, a.stats + c * S::StatsWidth, lane,
                    warpInBlock);
    }
  }

  if constexpr (S::Counts) {
    __syncthreads();
    for (int e = threadIdx.x; e < S::E; e += S::BlockSize)
      if (blockCount[e])
        atomicAdd(a.counts + e, blockCount[e]);
  }
}

/// The body of an emitted routing kernel.
template <class S>
__device__ __forceinline__ void
routeKernelBody(const typename S::In *logits, const float *bias, int32_t *ids,
                float *weights, int32_t *counts, int64_t numTokens, float scale,
                float *stats = nullptr) {
  RouteArgs<S> a{logits, bias, ids, weights, counts, numTokens, scale, stats};
  routeTokens<S>(a);
}

/// Blocks for T tokens: one warp per token up to the number of warps the
/// device keeps resident, then the warps loop.
template <class S>
inline cudaError_t routeGrid(const void *kernel, int64_t numTokens,
                             bool persistent, int *grid) {
  // Without statistics a warp takes a token, with them a block a chunk.
  const int64_t wanted = S::Stats::Enabled ? divUp(numTokens, S::Stats::Chunk)
                                           : divUp(numTokens, S::WarpsPerBlock);
  return sizeGrid(kernel, S::BlockSize, wanted, persistent, grid);
}

/// Checks that do not need the device: sizes and alignment of the logits
/// (16-byte vector loads).
template <class S> inline cudaError_t checkRouteArgs(const RouteArgs<S> &a) {
  if (a.numTokens < 0 || (a.numTokens && (!a.logits || !a.ids || !a.weights)) ||
      (S::HasBias && !a.bias) || (S::Counts && !a.counts))
    return cudaErrorInvalidValue;
  if (reinterpret_cast<uintptr_t>(a.logits) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(a.bias) % 16 != 0)
    return cudaErrorMisalignedAddress;
  return cudaSuccess;
}

/// Host side of an emitted routing launcher: checks the arguments, zeroes
/// the counts on the stream when they are produced, and sizes the grid
/// (0 blocks for T = 0; `persistent`: see sizeGrid). Never synchronises.
template <class S>
inline cudaError_t
routePrepare(const void *kernel, const typename S::In *logits,
             const float *bias, int32_t *ids, float *weights, int32_t *counts,
             int64_t numTokens, cudaStream_t stream, bool persistent, int *grid,
             float *stats = nullptr) {
  *grid = 0;
  RouteArgs<S> a{logits, bias, ids, weights, counts, numTokens, 1.0f, stats};
  if (cudaError_t err = checkRouteArgs<S>(a))
    return err;
  if (S::Stats::Enabled && numTokens && !stats)
    return cudaErrorInvalidValue;
  if constexpr (S::Counts) {
    if (cudaError_t err =
            cudaMemsetAsync(counts, 0, sizeof(int32_t) * S::E, stream))
      return err;
  }
  if (numTokens == 0)
    return cudaSuccess;
  return routeGrid<S>(kernel, numTokens, persistent, grid);
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_ROUTING_CUH
