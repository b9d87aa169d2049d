//===- Common.cuh - shared device building blocks ---------------*- CUDA
//-*-===//
//
// Order-preserving keys for the routing order, warp reductions and vector
// loads used by the emitted moe kernels. Header-only project code; tested on
// its own by test/Runtime/cuda/runtime-test.cu.
//
//===----------------------------------------------------------------------===//

#ifndef MOE_RUNTIME_CUDA_COMMON_CUH
#define MOE_RUNTIME_CUDA_COMMON_CUH

#include "moe/Runtime/cuda/KernelLimits.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <stdint.h>

namespace moe {
namespace cuda {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = limits::WarpSize;

__host__ __device__ inline int64_t divUp(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

/// An attribute of the current device (host side).
inline cudaError_t currentDeviceAttribute(cudaDeviceAttr attr, int *value) {
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err == cudaSuccess)
    err = cudaDeviceGetAttribute(value, attr, device);
  return err;
}

/// Blocks for a grid-stride kernel: enough to fill the device (its
/// multiprocessors times the blocks of `kernel` each keeps resident), at
/// most `wanted`.
inline cudaError_t fillGrid(const void *kernel, int blockSize, int64_t wanted,
                            int *grid) {
  int sms = 0, perSm = 0;
  cudaError_t err =
      currentDeviceAttribute(cudaDevAttrMultiProcessorCount, &sms);
  if (err == cudaSuccess)
    err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, kernel,
                                                        blockSize, 0);
  if (err != cudaSuccess)
    return err;
  int64_t resident = static_cast<int64_t>(sms) * (perSm > 0 ? perSm : 1);
  *grid = static_cast<int>(wanted < resident ? wanted : resident);
  return cudaSuccess;
}

/// Blocks of a grid-stride kernel under the grid policy the compiler chose
/// (#moegpu.grid): `persistent` fills the device (fillGrid), `exact` runs
/// `wanted` blocks (at most INT_MAX).
inline cudaError_t sizeGrid(const void *kernel, int blockSize, int64_t wanted,
                            bool persistent, int *grid) {
  if (persistent)
    return fillGrid(kernel, blockSize, wanted, grid);
  if (wanted > INT_MAX)
    return cudaErrorInvalidValue;
  *grid = static_cast<int>(wanted < 0 ? 0 : wanted);
  return cudaSuccess;
}

/// A buffer of the workspace at `offset` bytes (the compiler's plan,
/// moegpu-plan-memory).
template <typename T> inline T *workspaceView(void *workspace, int64_t offset) {
  return reinterpret_cast<T *>(static_cast<char *>(workspace) + offset);
}

/// The routing order as an unsigned key: larger floats give larger keys,
/// every NaN gives 1 (below -inf, whose key is 0x007fffff), -0 and +0 give
/// the same key, and 0 is kept for "not eligible". Comparing keys is
/// comparing in the routing order.
__device__ __forceinline__ uint32_t orderKey(float x) {
  // x + 0.0f turns -0 into +0 (the two compare equal, so they share a key).
  uint32_t u = __float_as_uint(__fadd_rn(x, 0.0f));
  uint32_t mapped =
      u ^ (static_cast<uint32_t>(static_cast<int32_t>(u) >> 31) | 0x80000000u);
  return x != x ? 1u : mapped;
}

/// Inverse of orderKey (1 decodes to a NaN).
__device__ __forceinline__ float keyValue(uint32_t key) {
  if (key <= 1u)
    return __uint_as_float(0x7fc00000u);
  uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
  return __uint_as_float(u);
}

/// Loads V consecutive elements of type T starting at p, as f32, with the
/// widest aligned vector loads the element count allows. Callers guarantee
/// 16-byte alignment whenever V * sizeof(T) is a multiple of 16.
template <typename T, int V> struct RowLoader;

template <int V> struct RowLoader<float, V> {
  __device__ __forceinline__ static void load(const float *p, float (&out)[V]) {
    if constexpr (V % 4 == 0) {
#pragma unroll
      for (int i = 0; i < V / 4; ++i) {
        float4 q = __ldg(reinterpret_cast<const float4 *>(p) + i);
        out[4 * i] = q.x;
        out[4 * i + 1] = q.y;
        out[4 * i + 2] = q.z;
        out[4 * i + 3] = q.w;
      }
    } else if constexpr (V % 2 == 0) {
#pragma unroll
      for (int i = 0; i < V / 2; ++i) {
        float2 q = __ldg(reinterpret_cast<const float2 *>(p) + i);
        out[2 * i] = q.x;
        out[2 * i + 1] = q.y;
      }
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i)
        out[i] = __ldg(p + i);
    }
  }
};

template <int V> struct RowLoader<__nv_bfloat16, V> {
  __device__ __forceinline__ static void load(const __nv_bfloat16 *p,
                                              float (&out)[V]) {
    if constexpr (V % 8 == 0) {
#pragma unroll
      for (int i = 0; i < V / 8; ++i) {
        uint4 q = __ldg(reinterpret_cast<const uint4 *>(p) + i);
        const uint32_t w[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          out[8 * i + 2 * j] = __uint_as_float(w[j] << 16);
          out[8 * i + 2 * j + 1] = __uint_as_float(w[j] & 0xffff0000u);
        }
      }
    } else {
#pragma unroll
      for (int i = 0; i < V; ++i)
        out[i] = __bfloat162float(p[i]);
    }
  }
};

template <int V> struct RowLoader<__half, V> {
  __device__ __forceinline__ static void load(const __half *p,
                                              float (&out)[V]) {
#pragma unroll
    for (int i = 0; i < V; ++i)
      out[i] = __half2float(p[i]);
  }
};

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v = fmaxf(v, __shfl_xor_sync(kFullMask, v, off));
  return v;
}

__device__ __forceinline__ double warpSum(double v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_xor_sync(kFullMask, v, off);
  return v;
}

/// Winner of a warp-wide argmax over (key, index) pairs: the largest key,
/// then the lowest index. `key` 0 never wins unless every key is 0.
/// Two single-instruction reductions on sm_80+.
__device__ __forceinline__ int warpArgBest(uint32_t key, int index) {
  uint32_t best = __reduce_max_sync(kFullMask, key);
  uint32_t mine = key == best ? ~static_cast<uint32_t>(index) : 0u;
  return static_cast<int>(~__reduce_max_sync(kFullMask, mine));
}

/// Keeps the N largest keys (descending) of a sorted list after inserting k.
template <int N>
__device__ __forceinline__ void insertTop(uint32_t (&top)[N], uint32_t k) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
    uint32_t hi = top[i] > k ? top[i] : k;
    k = top[i] > k ? k : top[i];
    top[i] = hi;
  }
}

/// Merges the sorted top-N lists of the lanes of aligned groups of L lanes
/// (L a power of two); afterwards every lane holds its group's top N.
template <int N, int L>
__device__ __forceinline__ void groupTopMerge(uint32_t (&top)[N]) {
#pragma unroll
  for (int off = 1; off < L; off <<= 1) {
    uint32_t other[N];
#pragma unroll
    for (int i = 0; i < N; ++i)
      other[i] = __shfl_xor_sync(kFullMask, top[i], off);
#pragma unroll
    for (int i = 0; i < N; ++i)
      insertTop(top, other[i]);
  }
}

} // namespace cuda
} // namespace moe

#endif // MOE_RUNTIME_CUDA_COMMON_CUH
