//===- Loss.cuh - balance losses, gradients and the bias update -*- CUDA
//-*-===//
//
// The reductions that turn the routing kernel's chunk statistics into the
// loss of a `#moe.loss` (two small kernels, fixed summation order, so the
// loss is bitwise reproducible), the one-pass gradient with respect to the
// logits, and the aux-loss-free bias update. Semantics: docs/design.md.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_LOSS_CUH
#define MOE_RUNTIME_CUDA_LOSS_CUH

#include "moe/Runtime/cuda/Routing.cuh"

#include <type_traits>

namespace moe {
namespace cuda {

enum class LossKind : int { Sequence = 0, Expert = 1, Device = 2, Comm = 3 };

/// Compile-time configuration of a loss over chunk statistics (see
/// LossStats): E experts, K slots, the stats row width W, Chunk tokens per
/// statistics row, SeqLen tokens per sequence (0: the whole batch), D
/// devices and M the device limit (comm).
template <LossKind Kind_, int E_, int K_, int W_, int Chunk_, int SeqLen_,
          int D_, int M_>
struct LossSpec {
  static constexpr LossKind Kind = Kind_;
  static constexpr int E = E_, K = K_, W = W_, Chunk = Chunk_, SeqLen = SeqLen_,
                       D = D_, M = M_;
  static constexpr int BlockSize = limits::LossBlockSize;
  static_assert(SeqLen == 0 || SeqLen % Chunk == 0,
                "statistics chunks must not straddle sequences");
  static_assert(Kind != LossKind::Device && Kind != LossKind::Comm ||
                    (D > 0 && E % (D > 0 ? D : 1) == 0 && W >= 2 * E + D),
                "device and comm losses need the device statistics");
};

/// Sequences in T tokens.
template <class L> __host__ __device__ inline int64_t numSequences(int64_t T) {
  return T == 0 ? 0 : (L::SeqLen ? T / L::SeqLen : 1);
}

/// Deterministic block sum: a fixed tree over the threads' values.
template <int N>
__device__ __forceinline__ double blockSum(double v, double *scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
#pragma unroll
  for (int stride = N / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride)
      scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  double total = scratch[0];
  __syncthreads();
  return total;
}

/// Block b: sequence b's per-expert weights g (written to `g`, for the
/// gradient) and its loss L_b = alpha * sum_i g_i P_i (to `seqLoss`).
template <class L>
__device__ void lossSequenceBody(const float *stats, int64_t numTokens,
                                 float alpha, float *g, double *seqLoss) {
  __shared__ double scratch[L::BlockSize];
  __shared__ double f[L::E];
  __shared__ double deviceValue[L::D > 0 ? L::D : 1];
  const int64_t b = blockIdx.x;
  const int64_t len = L::SeqLen ? L::SeqLen : numTokens;
  const int64_t first = b * len / L::Chunk;
  const int64_t last = divUp((b + 1) * len, L::Chunk);
  const double coef =
      static_cast<double>(L::E) / (static_cast<double>(L::K) * len);

  double dot = 0.0;
  double psumOf[(L::E + L::BlockSize - 1) / L::BlockSize];
#pragma unroll
  for (int r = 0; r * L::BlockSize < L::E; ++r) {
    int i = r * L::BlockSize + threadIdx.x;
    double count = 0.0, psum = 0.0;
    if (i < L::E) {
      // In chunk order (deterministic); unrolled so the loads overlap.
#pragma unroll 8
      for (int64_t c = first; c < last; ++c) {
        count += stats[c * L::W + i];
        psum += stats[c * L::W + L::E + i];
      }
      f[i] = coef * count;
    }
    psumOf[r] = psum;
  }
  if constexpr (L::Kind == LossKind::Device || L::Kind == LossKind::Comm) {
    __syncthreads();
    constexpr int Per = L::E / (L::D > 0 ? L::D : 1);
    for (int d = threadIdx.x; d < L::D; d += L::BlockSize) {
      double v = 0.0;
      if (L::Kind == LossKind::Device) {
        for (int i = d * Per; i < (d + 1) * Per; ++i)
          v += f[i];
        v /= Per;
      } else {
        for (int64_t c = first; c < last; ++c)
          v += stats[c * L::W + 2 * L::E + d];
        v *= static_cast<double>(L::D) / (static_cast<double>(L::M) * len);
      }
      deviceValue[d] = v;
    }
    __syncthreads();
  }
#pragma unroll
  for (int r = 0; r * L::BlockSize < L::E; ++r) {
    int i = r * L::BlockSize + threadIdx.x;
    if (i < L::E) {
      double gi = f[i];
      if constexpr (L::Kind == LossKind::Device || L::Kind == LossKind::Comm)
        gi = deviceValue[i / (L::E / (L::D > 0 ? L::D : 1))];
      g[b * L::E + i] = static_cast<float>(gi);
      dot += gi * (psumOf[r] / len);
    }
  }
  double total = blockSum<L::BlockSize>(dot, scratch);
  if (threadIdx.x == 0)
    seqLoss[b] = static_cast<double>(alpha) * total;
}

/// One block: the mean of the sequence losses, summed in a fixed order.
template <class L>
__device__ void lossMeanBody(const double *seqLoss, int64_t numTokens,
                             float *loss) {
  __shared__ double scratch[L::BlockSize];
  int64_t n = numSequences<L>(numTokens);
  double partial = 0.0;
  for (int64_t b = threadIdx.x; b < n; b += L::BlockSize)
    partial += seqLoss[b];
  double total = blockSum<L::BlockSize>(partial, scratch);
  if (threadIdx.x == 0)
    *loss = n ? static_cast<float>(total / n) : 0.0f;
}

/// The gradient with respect to the logits, one warp per token: the scores
/// are recomputed from the logits (as the routing kernel computes them);
/// dL/dq_i = alpha g_i / (L B); through s / sum(s) for the sequence kind;
/// through sigmoid or softmax.
template <class S, class L>
__device__ void lossGradBody(const typename S::In *logits, const float *g,
                             int64_t numTokens, float alpha, float *grad) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * S::WarpsPerBlock +
                       threadIdx.x / kWarpSize;
  const int64_t numWarps = static_cast<int64_t>(gridDim.x) * S::WarpsPerBlock;
  const int64_t len = L::SeqLen ? L::SeqLen : numTokens;
  const int64_t numSeqs = numSequences<L>(numTokens);
  const double c0 =
      static_cast<double>(alpha) / (static_cast<double>(len) * numSeqs);
  for (int64_t t = warp; t < numTokens; t += numWarps) {
    float x[S::V], s[S::V];
    loadLane<S>(logits + t * S::E, x, lane);
    ScoreRow row;
    computeScores<S>(x, s, row, lane);
    float gi[S::V];
    loadLane<S>(g + (t / len) * S::E, gi, lane);
    // f32 from here: the reference's f64 differs by far less than the 1e-5
    // the gradients are held to, and f64 would double the instructions.
    // (Softmax keeps ds in f64: see below.)
    using DsT =
        std::conditional_t<S::Func == ScoreFunc::Softmax, double, float>;
    const DsT c0f = static_cast<DsT>(c0);
    DsT ds[S::V];
    if constexpr (L::Kind == LossKind::Sequence) {
      float sum = 0.0f, gs = 0.0f;
#pragma unroll
      for (int j = 0; j < S::V; ++j) {
        bool valid = lane * S::V + j < S::E;
        sum += valid ? s[j] : 0.0f;
        gs += valid ? gi[j] * s[j] : 0.0f;
      }
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) {
        sum += __shfl_xor_sync(kFullMask, sum, off);
        gs += __shfl_xor_sync(kFullMask, gs, off);
      }
      float inv = 1.0f / sum;
      float gq = gs * inv;
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        ds[j] = c0f * static_cast<DsT>(gi[j] - gq) * static_cast<DsT>(inv);
    } else {
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        ds[j] = c0f * static_cast<DsT>(gi[j]);
    }
    // Softmax: s_j (ds_j - sum_k s_k ds_k) cancels when ds is nearly
    // constant (device and comm losses), so that difference is taken in f64.
    double dot = 0.0;
    if constexpr (S::Func == ScoreFunc::Softmax) {
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        dot += lane * S::V + j < S::E
                   ? static_cast<double>(s[j]) * static_cast<double>(ds[j])
                   : 0.0;
      dot = warpSum(dot);
    }
    float out[S::V];
#pragma unroll
    for (int j = 0; j < S::V; ++j)
      out[j] = S::Func == ScoreFunc::Softmax
                   ? static_cast<float>(static_cast<double>(s[j]) *
                                        (static_cast<double>(ds[j]) - dot))
                   : static_cast<float>(ds[j]) * s[j] * (1.0f - s[j]);
    float *dst = grad + t * S::E + lane * S::V;
    if constexpr (S::E == S::V * kWarpSize && S::V % 4 == 0) {
#pragma unroll
      for (int j = 0; j < S::V; j += 4)
        *reinterpret_cast<float4 *>(dst + j) =
            make_float4(out[j], out[j + 1], out[j + 2], out[j + 3]);
    } else {
#pragma unroll
      for (int j = 0; j < S::V; ++j)
        if (lane * S::V + j < S::E)
          dst[j] = out[j];
    }
  }
}

/// b_i + rate * sign(sum_j c_j - E c_i), compared exactly in integers.
template <int E>
__device__ void biasUpdateBody(const float *bias, const int32_t *counts,
                               float rate, float *updated) {
  constexpr int Threads = limits::BiasUpdateBlockSize;
  __shared__ double scratch[Threads];
  double partial = 0.0;
  for (int i = threadIdx.x; i < E; i += Threads)
    partial += counts[i]; // exact: integers far below 2^53
  const int64_t total =
      static_cast<int64_t>(blockSum<Threads>(partial, scratch));
  for (int i = threadIdx.x; i < E; i += Threads) {
    int64_t diff = total - static_cast<int64_t>(E) * counts[i];
    float b = bias[i];
    updated[i] = diff > 0 ? b + rate : diff < 0 ? b - rate : b;
  }
}

/// Checks a loss launch: a dynamic token count must be whole sequences.
template <class L> inline cudaError_t checkLoss(int64_t numTokens) {
  constexpr int64_t len = L::SeqLen > 0 ? L::SeqLen : 1;
  if (numTokens < 0 || numTokens % len != 0)
    return cudaErrorInvalidValue;
  return cudaSuccess;
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_LOSS_CUH
