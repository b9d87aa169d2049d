// The CUDA routing building blocks on their own: order keys, warp argmax
// with lower-index ties, top-n merges, vector loads. Compiled in CI; run on a
// GPU by bench/routing/gpu.sh (prints "runtime-test: N checks, 0 failed").
// REQUIRES: nvcc
// RUN: %nvcc -gencode arch=compute_90a,code=sm_90a %s -o %t

#include "Inputs/Check.h"
#include "moe/Runtime/cuda/Common.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace moe::cuda;

#define CUDA(call)                                                             \
  do {                                                                         \
    cudaError_t err_ = (call);                                                 \
    if (err_ != cudaSuccess) {                                                 \
      std::printf("CUDA error %s at %s:%d\n", cudaGetErrorString(err_),        \
                  __FILE__, __LINE__);                                         \
      return 1;                                                                \
    }                                                                          \
  } while (0)

__global__ void keys(const float *x, uint32_t *k, float *back, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    k[i] = orderKey(x[i]);
    back[i] = keyValue(k[i]);
  }
}

// One warp: lane l offers (key[l], index[l]); every lane reports the winner.
__global__ void argBest(const uint32_t *key, const int *index, int *winner) {
  int lane = threadIdx.x;
  winner[lane] = warpArgBest(key[lane], index[lane]);
}

// Groups of L lanes merge their top-2 lists.
template <int L> __global__ void merge2(const uint32_t *in, uint32_t *out) {
  int lane = threadIdx.x;
  uint32_t top[2] = {0u, 0u};
  insertTop(top, in[2 * lane]);
  insertTop(top, in[2 * lane + 1]);
  groupTopMerge<2, L>(top);
  out[2 * lane] = top[0];
  out[2 * lane + 1] = top[1];
}

__global__ void loadF32(const float *p, float *out) {
  float v[8];
  RowLoader<float, 8>::load(p + threadIdx.x * 8, v);
  for (int j = 0; j < 8; ++j)
    out[threadIdx.x * 8 + j] = v[j];
}

__global__ void loadBF16(const __nv_bfloat16 *p, float *out) {
  float v[8];
  RowLoader<__nv_bfloat16, 8>::load(p + threadIdx.x * 8, v);
  for (int j = 0; j < 8; ++j)
    out[threadIdx.x * 8 + j] = v[j];
}

template <typename T> struct Dev {
  T *p = nullptr;
  explicit Dev(size_t n) { cudaMalloc(&p, n * sizeof(T)); }
  ~Dev() { cudaFree(p); }
};

int main() {
  // Keys order like the routing order: NaN < -inf < ... < +inf, -0 == +0.
  const float inf = INFINITY, nan = NAN;
  std::vector<float> x = {nan,    -inf,  -3.5f, -1e-30f, -0.0f, 0.0f,
                          1e-30f, 0.25f, 0.5f,  7.0f,    3e38f, inf};
  int n = static_cast<int>(x.size());
  Dev<float> dx(n), dback(n);
  Dev<uint32_t> dk(n);
  CUDA(cudaMemcpy(dx.p, x.data(), n * 4, cudaMemcpyHostToDevice));
  keys<<<1, 32>>>(dx.p, dk.p, dback.p, n);
  CUDA(cudaGetLastError());
  std::vector<uint32_t> k(n);
  std::vector<float> back(n);
  CUDA(cudaMemcpy(k.data(), dk.p, n * 4, cudaMemcpyDeviceToHost));
  CUDA(cudaMemcpy(back.data(), dback.p, n * 4, cudaMemcpyDeviceToHost));
  CHECK(k[0] == 1u, "NaN key is 1, got %u", k[0]);
  for (int i = 1; i + 1 < n; ++i) {
    bool zeros = x[i] == 0.0f && x[i + 1] == 0.0f;
    CHECK(zeros ? k[i] == k[i + 1] : k[i] < k[i + 1], "key order at %g < %g",
          x[i], x[i + 1]);
  }
  for (int i = 1; i < n; ++i)
    CHECK(back[i] == x[i], "keyValue(orderKey(%g)) = %g", x[i], back[i]);
  CHECK(std::isnan(back[0]), "key 1 decodes to NaN");

  // Warp argmax: largest key, lowest index on ties; 0 keys lose.
  {
    std::vector<uint32_t> key(32, 0u);
    std::vector<int> index(32);
    for (int l = 0; l < 32; ++l)
      index[l] = 100 + l;
    key[5] = key[17] = key[30] = 7u;
    key[3] = 6u;
    Dev<uint32_t> dkey(32);
    Dev<int> dindex(32), dwin(32);
    CUDA(cudaMemcpy(dkey.p, key.data(), 128, cudaMemcpyHostToDevice));
    CUDA(cudaMemcpy(dindex.p, index.data(), 128, cudaMemcpyHostToDevice));
    argBest<<<1, 32>>>(dkey.p, dindex.p, dwin.p);
    CUDA(cudaGetLastError());
    std::vector<int> win(32);
    CUDA(cudaMemcpy(win.data(), dwin.p, 128, cudaMemcpyDeviceToHost));
    for (int l = 0; l < 32; ++l)
      CHECK(win[l] == 105, "lane %d sees winner %d, want 105", l, win[l]);
  }

  // Top-2 merge inside groups of 4 lanes.
  {
    std::vector<uint32_t> in(64);
    for (int i = 0; i < 64; ++i)
      in[i] = static_cast<uint32_t>((i * 37) % 61 + 2);
    Dev<uint32_t> din(64), dout(64);
    CUDA(cudaMemcpy(din.p, in.data(), 256, cudaMemcpyHostToDevice));
    merge2<4><<<1, 32>>>(din.p, dout.p);
    CUDA(cudaGetLastError());
    std::vector<uint32_t> out(64);
    CUDA(cudaMemcpy(out.data(), dout.p, 256, cudaMemcpyDeviceToHost));
    for (int g = 0; g < 8; ++g) {
      std::vector<uint32_t> vals(in.begin() + 8 * g, in.begin() + 8 * g + 8);
      std::sort(vals.rbegin(), vals.rend());
      for (int l = 4 * g; l < 4 * g + 4; ++l)
        CHECK(out[2 * l] == vals[0] && out[2 * l + 1] == vals[1],
              "group %d lane %d top2 %u %u, want %u %u", g, l, out[2 * l],
              out[2 * l + 1], vals[0], vals[1]);
    }
  }

  // 16-byte loads of f32 and bf16 rows.
  {
    std::vector<float> row(256);
    std::vector<uint16_t> brow(256);
    for (int i = 0; i < 256; ++i) {
      row[i] = 0.5f * i - 17.0f;
      float f = row[i];
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      brow[i] = static_cast<uint16_t>(bits >> 16); // exact: few mantissa bits
    }
    Dev<float> drow(256), dout(256);
    Dev<__nv_bfloat16> dbrow(256);
    CUDA(cudaMemcpy(drow.p, row.data(), 1024, cudaMemcpyHostToDevice));
    CUDA(cudaMemcpy(dbrow.p, brow.data(), 512, cudaMemcpyHostToDevice));
    std::vector<float> out(256);
    loadF32<<<1, 32>>>(drow.p, dout.p);
    CUDA(cudaMemcpy(out.data(), dout.p, 1024, cudaMemcpyDeviceToHost));
    for (int i = 0; i < 256; ++i)
      CHECK(out[i] == row[i], "f32 load %d: %g vs %g", i, out[i], row[i]);
    loadBF16<<<1, 32>>>(dbrow.p, dout.p);
    CUDA(cudaMemcpy(out.data(), dout.p, 1024, cudaMemcpyDeviceToHost));
    for (int i = 0; i < 256; ++i)
      CHECK(out[i] == row[i], "bf16 load %d: %g vs %g", i, out[i], row[i]);
  }

  std::printf("runtime-test: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
