// The grouped expert GEMMs of include/moe/Runtime/cuda/Experts.cuh and
// ExpertsSm90.cuh on their own, DeepSeek-V3 shapes (E = 256, H = 7168,
// I = 2048, bf16), on four paths: 0 wgmma with 256-row tiles, 1 wgmma with
// 128-row tiles, 2 mma.sync, 3 wgmma with 192-row tiles. Each is checked
// against a plain f32 GPU reference on a few hundred rows (uniform and
// skewed expert loads, empty experts), then timed at T*K rows for
// T = 64, 4096, 16384 and 65536.
//   nvcc -std=c++17 -O3 -Iinclude -gencode arch=compute_90a,code=sm_90a
//       bench/experts/gemm_test.cu -o gemm_test
//   ./gemm_test                  all checks and timings
//   ./gemm_test check            the checks only
//   ./gemm_test time PATH T...   the checks, then PATH at each T
//   ./gemm_test profile T PATH   one pass of PATH at T (for ncu)
// MOE_GEMM_BALANCED=1 gives every expert exactly T*K/E rows.
#include "moe/Runtime/cuda/Experts.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace moe::cuda;
using bf16 = __nv_bfloat16;

constexpr int E = 256, H = 7168, I = 2048;
using G1 = GemmSpec<bf16, bf16, E, I, H, true>;
using G2 = GemmSpec<bf16, bf16, E, H, I, false>;

static __global__ __launch_bounds__(1024) void tilesKernel(const int32_t *off,
                                                           int64_t rows,
                                                           RowTile *t,
                                                           int rowTile) {
  rowTilesBody<G1>(off, rows, t, rowTile);
}
static __global__ __launch_bounds__(256) void gemm1(const bf16 *a,
                                                    const bf16 *w,
                                                    const RowTile *t, bf16 *o) {
  groupedGemmBody<G1>(a, w, t, o);
}
static __global__ __launch_bounds__(256) void gemm2(const bf16 *a,
                                                    const bf16 *w,
                                                    const RowTile *t, bf16 *o) {
  groupedGemmBody<G2>(a, w, t, o);
}

// Reference: one thread per output, f32 sums, h rounded to bf16.
static __global__ void refGemm1(const bf16 *x, const bf16 *w,
                                const int32_t *off, int64_t rows, bf16 *h) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * I)
    return;
  int64_t r = i / I;
  int n = i % I;
  int e = 0;
  while (e < E && off[e + 1] <= r)
    ++e;
  const bf16 *wg = w + (static_cast<int64_t>(e) * 2 * I + n) * H,
             *wu = wg + static_cast<int64_t>(I) * H;
  float g = 0, u = 0;
  for (int k = 0; k < H; ++k) {
    float xv = __bfloat162float(x[r * H + k]);
    g += xv * __bfloat162float(wg[k]);
    u += xv * __bfloat162float(wu[k]);
  }
  h[i] = __float2bfloat16_rn(g / (1.0f + expf(-g)) * u);
}
static __global__ void refGemm2(const bf16 *h, const bf16 *w,
                                const int32_t *off, int64_t rows, float *y) {
  int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= rows * H)
    return;
  int64_t r = i / H;
  int n = i % H;
  int e = 0;
  while (e < E && off[e + 1] <= r)
    ++e;
  const bf16 *wd = w + (static_cast<int64_t>(e) * H + n) * I;
  float acc = 0;
  for (int k = 0; k < I; ++k)
    acc += __bfloat162float(h[r * I + k]) * __bfloat162float(wd[k]);
  y[i] = acc;
}
static __global__ void fillRandom(bf16 *p, int64_t n, uint32_t seed,
                                  float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    uint32_t s = static_cast<uint32_t>(i) * 2654435761u ^ seed;
    s ^= s >> 13;
    s *= 0x5bd1e995u;
    s ^= s >> 15;
    p[i] = __float2bfloat16_rn(
        (static_cast<float>(s & 0xffffff) / 16777216.0f - 0.5f) * scale);
  }
}

// MOE_GEMM_BALANCED=1: uniform loads are exactly rows / E per expert.
static std::vector<int32_t> offsetsFor(int64_t rows, bool skew) {
  std::vector<int32_t> count(E, 0);
  if (!skew && std::getenv("MOE_GEMM_BALANCED")) {
    std::vector<int32_t> off(E + 1, 0);
    for (int e = 0; e < E; ++e)
      off[e + 1] = static_cast<int32_t>(rows * (e + 1) / E);
    return off;
  }
  for (int64_t r = 0; r < rows; ++r) {
    int e =
        skew ? (std::rand() % 3 == 0 ? std::rand() % 8 : 8 + std::rand() % 40)
             : std::rand() % E;
    ++count[e];
  }
  std::vector<int32_t> off(E + 1, 0);
  for (int e = 0; e < E; ++e)
    off[e + 1] = off[e] + count[e];
  return off;
}

int main(int argc, char **argv) {
  const bool checkOnly = argc > 1 && std::strcmp(argv[1], "check") == 0;
  const int64_t maxRows = 65536 * 8;
  bf16 *x, *wgu, *wd, *h, *y, *hRef;
  float *yRef;
  int32_t *off;
  RowTile *tiles;
  cudaMalloc(&x, maxRows * H * 2);
  cudaMalloc(&wgu, static_cast<int64_t>(E) * 2 * I * H * 2);
  cudaMalloc(&wd, static_cast<int64_t>(E) * H * I * 2);
  cudaMalloc(&h, maxRows * I * 2);
  cudaMalloc(&y, maxRows * H * 2);
  cudaMalloc(&off, (E + 1) * 4);
  cudaMalloc(&tiles, maxRowTiles<G1>(maxRows) * sizeof(RowTile));
  fillRandom<<<4096, 256>>>(x, maxRows * H, 1, 2.0f);
  fillRandom<<<4096, 256>>>(wgu, static_cast<int64_t>(E) * 2 * I * H, 2, 0.05f);
  fillRandom<<<4096, 256>>>(wd, static_cast<int64_t>(E) * H * I, 3, 0.05f);
  // Three paths: the wgmma kernel (sm_90a) with 256- and 128-row tiles and
  // the portable mma.sync one.
  const char *names[4] = {"wgmma256", "wgmma128", "mma.sync", "wgmma192"};
  auto gemms = [&](int64_t rows, int path, cudaEvent_t mid) {
    tilesKernel<<<1, 1024>>>(off, rows, tiles,
                             path == 0   ? 256
                             : path == 3 ? 192
                                         : 128);
    if (path == 0)
      launchGroupedGemmSm90<G1, 256>(rows, x, wgu, tiles, h, 0);
    else if (path == 1)
      launchGroupedGemmSm90<G1, 128>(rows, x, wgu, tiles, h, 0);
    else if (path == 3)
      launchGroupedGemmSm90<G1, 192>(rows, x, wgu, tiles, h, 0);
    else
      gemm1<<<dim3(G1::ColumnTiles, maxRowTiles<G1>(rows)), 256>>>(x, wgu,
                                                                   tiles, h);
    if (mid)
      cudaEventRecord(mid);
    if (path == 0)
      launchGroupedGemmSm90<G2, 256>(rows, h, wd, tiles, y, 0);
    else if (path == 1)
      launchGroupedGemmSm90<G2, 128>(rows, h, wd, tiles, y, 0);
    else if (path == 3)
      launchGroupedGemmSm90<G2, 192>(rows, h, wd, tiles, y, 0);
    else
      gemm2<<<dim3(G2::ColumnTiles, maxRowTiles<G2>(rows)), 256>>>(h, wd, tiles,
                                                                   y);
  };
  if (argc > 3 && std::strcmp(argv[1], "profile") == 0) {
    // One pass of path argv[3] over argv[2] * 8 uniform rows (for ncu).
    const int64_t rows = std::atoll(argv[2]) * 8;
    auto hOff = offsetsFor(rows, false);
    cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
    gemms(rows, std::atoi(argv[3]), nullptr);
    return cudaDeviceSynchronize() == cudaSuccess ? 0 : 1;
  }
  int failures = 0;
  // Correctness on a few hundred rows.
  for (int path : {3, 0, 1, 2})
    for (bool skew : {false, true}) {
      const int64_t rows = skew ? 1000 : 777;
      auto hOff = offsetsFor(rows, skew);
      cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
      cudaMalloc(&hRef, rows * I * 2);
      cudaMalloc(&yRef, rows * H * 4);
      gemms(rows, path, nullptr);
      refGemm1<<<(rows * I + 255) / 256, 256>>>(x, wgu, off, rows, hRef);
      refGemm2<<<(rows * H + 255) / 256, 256>>>(hRef, wd, off, rows, yRef);
      cudaError_t err = cudaDeviceSynchronize();
      std::vector<uint16_t> gh(rows * I), rh(rows * I), gy(rows * H);
      std::vector<float> ry(rows * H);
      cudaMemcpy(gh.data(), h, rows * I * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(rh.data(), hRef, rows * I * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(gy.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
      cudaMemcpy(ry.data(), yRef, rows * H * 4, cudaMemcpyDeviceToHost);
      auto f = [](uint16_t b) {
        uint32_t u = static_cast<uint32_t>(b) << 16;
        float v;
        std::memcpy(&v, &u, 4);
        return v;
      };
      double hErr = 0, hMax = 0, yErr = 0, yMax = 0;
      for (size_t i = 0; i < gh.size(); ++i) {
        hErr = std::max(hErr, (double)std::fabs(f(gh[i]) - f(rh[i])));
        hMax = std::max(hMax, (double)std::fabs(f(rh[i])));
      }
      for (size_t i = 0; i < gy.size(); ++i) {
        yErr = std::max(yErr, (double)std::fabs(f(gy[i]) - ry[i]));
        yMax = std::max(yMax, (double)std::fabs(ry[i]));
      }
      bool ok =
          err == cudaSuccess && hErr <= 1e-2 * hMax && yErr <= 1e-2 * yMax;
      std::printf("check %s %s rows=%lld: %s; h max err %.3g of %.3g, y max "
                  "err %.3g of %.3g\n",
                  names[path], skew ? "skewed " : "uniform", (long long)rows,
                  ok ? "ok" : "FAILED", hErr, hMax, yErr, yMax);
      failures += !ok;
      // Deterministic: a second run is bitwise the first.
      gemms(rows, path, nullptr);
      std::vector<uint16_t> gy2(rows * H);
      cudaMemcpy(gy2.data(), y, rows * H * 2, cudaMemcpyDeviceToHost);
      if (gy2 != gy) {
        std::printf("FAILED: two runs differ\n");
        ++failures;
      }
      cudaFree(hRef);
      cudaFree(yRef);
    }
  // Timing.
  if (checkOnly) {
    std::printf("gemm test: %d failures\n", failures);
    return failures ? 1 : 0;
  }
  // `time PATH T...`: only those (repeated T values give repeated runs).
  std::vector<std::pair<int, int64_t>> runs;
  if (argc > 3 && std::strcmp(argv[1], "time") == 0) {
    for (int i = 3; i < argc; ++i)
      runs.push_back({std::atoi(argv[2]), std::atoll(argv[i])});
  } else {
    for (int path : {0, 1, 2, 3})
      for (int64_t T : {64, 4096, 16384, 65536})
        runs.push_back({path, T});
  }
  for (auto [path, T] : runs) {
    const int64_t rows = T * 8;
    auto hOff = offsetsFor(rows, false);
    cudaMemcpy(off, hOff.data(), (E + 1) * 4, cudaMemcpyHostToDevice);
    cudaEvent_t a, b, c;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventCreate(&c);
    gemms(rows, path, b);
    const int reps = T > 4096 ? 3 : 10;
    std::vector<float> t1s, t2s;
    for (int i = 0; i < reps; ++i) {
      cudaEventRecord(a);
      gemms(rows, path, b);
      cudaEventRecord(c);
      cudaEventSynchronize(c);
      float m1, m2;
      cudaEventElapsedTime(&m1, a, b);
      cudaEventElapsedTime(&m2, b, c);
      t1s.push_back(m1);
      t2s.push_back(m2);
    }
    std::sort(t1s.begin(), t1s.end());
    std::sort(t2s.begin(), t2s.end());
    const float t1 = t1s[reps / 2], t2 = t2s[reps / 2];
    double f1 = 2.0 * rows * 2 * I * H, f2 = 2.0 * rows * H * I;
    std::printf("%-8s T=%-6lld rows=%-7lld: gemm1 %8.3f ms (%3.0f TFLOP/s), "
                "gemm2 %8.3f ms (%3.0f TFLOP/s), %s\n",
                names[path], (long long)T, (long long)rows, t1, f1 / t1 / 1e9,
                t2, f2 / t2 / 1e9, cudaGetErrorString(cudaGetLastError()));
  }
  std::printf("gemm test: %d failures\n", failures);
  return failures ? 1 : 0;
}
