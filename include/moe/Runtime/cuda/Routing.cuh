//===- Routing.cuh - fused score + group-limited top-k routing --*- CUDA -*-===//
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

/// Compile-time configuration of a routing kernel. `In` is the logits
/// element type; GroupSum is n of topk_sum<n> (1 for max, which selects the
/// same groups); Counts adds the per-expert token counts of the selection.
template <typename In_, int E_, int K_, int G_, int GroupTopk_, int GroupSum_,
          ScoreFunc Func_, bool Normalize_, bool HasBias_, bool Counts_>
struct RouteSpec {
  using In = In_;
  static constexpr int E = E_, K = K_, G = G_, GroupTopk = GroupTopk_,
                       GroupSum = GroupSum_;
  static constexpr ScoreFunc Func = Func_;
  static constexpr bool Normalize = Normalize_, HasBias = HasBias_,
                        Counts = Counts_;
  static constexpr int V = (E + kWarpSize - 1) / kWarpSize; // experts/lane
  static constexpr int PerGroup = E / G;
  static constexpr int LanesPerGroup = G > 1 ? PerGroup / V : kWarpSize;
  static constexpr int WarpsPerBlock = 8;
  static constexpr int BlockSize = WarpsPerBlock * kWarpSize;

  static_assert(E >= 1 && E <= 512, "at most 512 experts (16 per lane)");
  static_assert(K >= 1 && K <= 32 && K <= E, "1 <= k <= min(32, E)");
  static_assert(E % G == 0, "groups must divide the experts");
  static_assert(G == 1 || (PerGroup % V == 0 && LanesPerGroup >= 1 &&
                           LanesPerGroup <= kWarpSize &&
                           (LanesPerGroup & (LanesPerGroup - 1)) == 0),
                "a group must be a power-of-two number of whole lanes");
  static_assert(G <= 32 && GroupTopk >= 1 && GroupTopk <= G,
                "1 <= group_topk <= groups <= 32");
  static_assert(GroupSum >= 1 && GroupSum <= 4 && GroupSum <= PerGroup,
                "group score sums at most 4 scores");
};

template <class S> struct RouteArgs {
  const typename S::In *logits; // [T, E]
  const float *bias;            // [E] or null
  int32_t *ids;                 // [T, K]
  float *weights;               // [T, K]
  int32_t *counts;              // [E] (zeroed by the launcher) or null
  int64_t numTokens;
  float scale;
};

/// Scores of one token in this lane's registers.
template <class S>
__device__ __forceinline__ void computeScores(const float (&x)[S::V],
                                              float (&s)[S::V], int lane) {
  if constexpr (S::Func == ScoreFunc::None) {
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      s[j] = x[j];
  } else if constexpr (S::Func == ScoreFunc::Sigmoid) {
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      s[j] = 1.0f / (1.0f + expf(-x[j]));
  } else {
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
    m = warpMax(m);
    nan = __any_sync(kFullMask, nan);
    double e[S::V];
    double sum = 0.0;
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      bool valid = lane * S::V + j < S::E;
      e[j] = valid ? exp(static_cast<double>(x[j]) - static_cast<double>(m))
                   : 0.0;
      sum += e[j];
    }
    sum = warpSum(sum);
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      s[j] = nan ? __uint_as_float(0x7fc00000u)
                 : static_cast<float>(e[j] / sum);
  }
}

/// The keys of the groups this token may use stay; the others become 0.
template <class S>
__device__ __forceinline__ void applyGroupLimit(uint32_t (&key)[S::V],
                                                int lane) {
  if constexpr (S::G > 1) {
    constexpr int N = S::GroupSum;
    constexpr int L = S::LanesPerGroup;
    uint32_t top[N];
#pragma unroll
    for (int i = 0; i < N; ++i)
      top[i] = 0u;
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      insertTop(top, key[j]);
    groupTopMerge<N, L>(top);
    // Sum of the n best in rank order, from 0 (as the reference adds).
    float score = 0.0f;
#pragma unroll
    for (int i = 0; i < N; ++i)
      score += keyValue(top[i]);
    uint32_t groupKey = orderKey(N == 1 ? keyValue(top[0]) : score);
    // Every lane ranks all G groups (G shuffles), keeps the GroupTopk best.
    uint32_t chosen = 0u;
    uint32_t gk[S::G];
#pragma unroll
    for (int g = 0; g < S::G; ++g)
      gk[g] = __shfl_sync(kFullMask, groupKey, g * L);
#pragma unroll
    for (int r = 0; r < S::GroupTopk; ++r) {
      int best = -1;
      uint32_t bestKey = 0u;
#pragma unroll
      for (int g = 0; g < S::G; ++g) {
        bool free = !((chosen >> g) & 1u);
        if (free && (best < 0 || gk[g] > bestKey)) {
          best = g;
          bestKey = gk[g];
        }
      }
      chosen |= 1u << best;
    }
    int group = lane / L;
    if (!((chosen >> group) & 1u)) {
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        key[j] = 0u;
    }
  }
}

/// Routes one token; lane k < K writes slot k.
template <class S>
__device__ __forceinline__ void routeToken(const RouteArgs<S> &a, int64_t t,
                                           const float (&x)[S::V],
                                           const float (&bias)[S::V],
                                           int (&count)[S::V], int lane) {
  float s[S::V];
  computeScores<S>(x, s, lane);
  uint32_t key[S::V];
#pragma unroll
  for (int j = 0; j < S::V; ++j) {
    bool valid = lane * S::V + j < S::E;
    float sel = S::HasBias ? s[j] + bias[j] : s[j];
    key[j] = valid ? orderKey(sel) : 0u;
  }
  applyGroupLimit<S>(key, lane);

  int myId = 0;
  float myRaw = 0.0f, sum = 0.0f;
#pragma unroll 1
  for (int r = 0; r < S::K; ++r) {
    uint32_t localKey = 0u;
    int localIdx = 0;
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      if (key[j] > localKey) {
        localKey = key[j];
        localIdx = j;
      }
    }
    int expert = warpArgBest(localKey, lane * S::V + localIdx);
    int owner = expert / S::V, slot = expert - owner * S::V;
    float raw = 0.0f;
    if (lane == owner) {
#pragma unroll
      for (int j = 0; j < S::V; ++j) {
        if (j == slot) {
          key[j] = 0u;
          raw = s[j];
          if constexpr (S::Counts)
            ++count[j];
        }
      }
    }
    raw = __shfl_sync(kFullMask, raw, owner);
    sum += raw;
    if (lane == r) {
      myId = expert;
      myRaw = raw;
    }
  }
  if (lane < S::K) {
    float w = myRaw;
    if constexpr (S::Normalize)
      w = w / (sum + 1e-20f);
    if (a.scale != 1.0f)
      w = w * a.scale;
    a.ids[t * S::K + lane] = myId;
    a.weights[t * S::K + lane] = w;
  }
}

template <class S>
__device__ __forceinline__ void loadRow(const RouteArgs<S> &a, int64_t t,
                                        float (&x)[S::V], int lane) {
  constexpr bool kFull = S::E % S::V == 0 && S::E / S::V == kWarpSize;
  const typename S::In *row = a.logits + t * S::E + lane * S::V;
  if (kFull) {
    RowLoader<typename S::In, S::V>::load(row, x);
  } else {
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      bool valid = lane * S::V + j < S::E;
      float v[1];
      if (valid)
        RowLoader<typename S::In, 1>::load(row + j, v);
      x[j] = valid ? v[0] : 0.0f;
    }
  }
}

/// The kernel body: persistent warps over the token range.
template <class S> __device__ void routeTokens(const RouteArgs<S> &a) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t warp =
      static_cast<int64_t>(blockIdx.x) * S::WarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t numWarps = static_cast<int64_t>(gridDim.x) * S::WarpsPerBlock;

  float bias[S::V];
#pragma unroll
  for (int j = 0; j < S::V; ++j) {
    int e = lane * S::V + j;
    bias[j] = (S::HasBias && e < S::E) ? __ldg(a.bias + e) : 0.0f;
  }
  int count[S::V];
#pragma unroll
  for (int j = 0; j < S::V; ++j)
    count[j] = 0;

  // The next token's row is in flight while this one is routed.
  float cur[S::V], next[S::V];
  int64_t t = warp;
  if (t < a.numTokens)
    loadRow<S>(a, t, cur, lane);
  for (; t < a.numTokens; t += numWarps) {
    if (t + numWarps < a.numTokens)
      loadRow<S>(a, t + numWarps, next, lane);
    routeToken<S>(a, t, cur, bias, count, lane);
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      cur[j] = next[j];
  }

  if constexpr (S::Counts) {
    // Integer sums are exact, so atomics keep the counts deterministic.
    __shared__ int blockCount[S::E];
    for (int e = threadIdx.x; e < S::E; e += S::BlockSize)
      blockCount[e] = 0;
    __syncthreads();
#pragma unroll
    for (int j = 0; j < S::V; ++j) {
      int e = lane * S::V + j;
      if (e < S::E && count[j])
        atomicAdd(&blockCount[e], count[j]);
    }
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
                float *weights, int32_t *counts, int64_t numTokens,
                float scale) {
  RouteArgs<S> a{logits, bias, ids, weights, counts, numTokens, scale};
  routeTokens<S>(a);
}

/// Blocks for T tokens: one warp per token up to the number of warps the
/// device keeps resident, then the warps loop.
template <class S>
inline cudaError_t routeGrid(const void *kernel, int64_t numTokens, int *grid) {
  int device = 0, sms = 0, perSm = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err == cudaSuccess)
    err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (err == cudaSuccess)
    err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel,
                                                        S::BlockSize, 0);
  if (err != cudaSuccess)
    return err;
  int64_t wanted = (numTokens + S::WarpsPerBlock - 1) / S::WarpsPerBlock;
  int64_t resident = static_cast<int64_t>(sms) * (perSm > 0 ? perSm : 1);
  *grid = static_cast<int>(wanted < resident ? wanted : resident);
  return cudaSuccess;
}

/// Checks that do not need the device: sizes and alignment of the logits
/// (16-byte vector loads).
template <class S>
inline cudaError_t checkRouteArgs(const RouteArgs<S> &a) {
  if (a.numTokens < 0 || (a.numTokens && (!a.logits || !a.ids || !a.weights)) ||
      (S::HasBias && !a.bias) || (S::Counts && !a.counts))
    return cudaErrorInvalidValue;
  if (reinterpret_cast<uintptr_t>(a.logits) % 16 != 0)
    return cudaErrorMisalignedAddress;
  return cudaSuccess;
}

/// Host side of an emitted routing launcher: checks the arguments, zeroes
/// the counts on the stream when they are produced, and sizes the grid
/// (0 blocks for T = 0). Never synchronises.
template <class S>
inline cudaError_t routePrepare(const void *kernel,
                                const typename S::In *logits,
                                const float *bias, int32_t *ids,
                                float *weights, int32_t *counts,
                                int64_t numTokens, cudaStream_t stream,
                                int *grid) {
  *grid = 0;
  RouteArgs<S> a{logits, bias, ids, weights, counts, numTokens, 1.0f};
  if (cudaError_t err = checkRouteArgs<S>(a))
    return err;
  if constexpr (S::Counts) {
    if (cudaError_t err =
            cudaMemsetAsync(counts, 0, sizeof(int32_t) * S::E, stream))
      return err;
  }
  if (numTokens == 0)
    return cudaSuccess;
  return routeGrid<S>(kernel, numTokens, grid);
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_ROUTING_CUH
