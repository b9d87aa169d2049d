// Calls the metadata-sized launchers (layout, permute of 16-byte rows) a few
// times on random DeepSeek-V3 ids, for a per-kernel breakdown under ncu:
//   ncu --clock-control none --metrics gpu__time_duration.sum ./profile 4096
#include "dispatch.h"

#include <cstdio>
#include <cstdlib>
#include <cuda_bf16.h>
#include <vector>

int main(int argc, char **argv) {
  const int64_t T = argc > 1 ? std::atoll(argv[1]) : 4096;
  const int E = 256, K = 8;
  std::vector<int32_t> ids(T * K);
  std::vector<float> w(T * K);
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < K; ++k) {
      ids[t * K + k] =
          static_cast<int32_t>((t * 37 + k * 32 + std::rand() % 32) % E);
      w[t * K + k] = static_cast<float>(std::rand()) / RAND_MAX;
    }
  int32_t *dIds, *map, *off, *pe, *pr, *pn;
  float *dW;
  __nv_bfloat16 *x, *rows;
  bool *in;
  cudaMalloc(&dIds, T * K * 4);
  cudaMalloc(&dW, T * K * 4);
  cudaMalloc(&map, T * K * 4);
  cudaMalloc(&off, (E + 1) * 4);
  cudaMalloc(&x, T * 8 * 2);
  cudaMalloc(&rows, T * K * 8 * 2);
  cudaMalloc(&pe, E * 4);
  cudaMalloc(&pr, 64 * 4);
  cudaMalloc(&pn, 8 * 4);
  cudaMalloc(&in, T * 64);
  cudaMemcpy(dIds, ids.data(), T * K * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(dW, w.data(), T * K * 4, cudaMemcpyHostToDevice);
  void *ws;
  cudaMalloc(&ws, permute_probs_h8_workspace_size(T));
  for (int i = 0; i < 3; ++i) {
    layout(dIds, pe, pr, pn, in, T, nullptr);
    permute_h8(x, dIds, dW, rows, map, off, ws, T, nullptr);
    permute_probs_h8(x, dIds, dW, rows, map, off, ws, T, nullptr);
  }
  cudaError_t err = cudaDeviceSynchronize();
  std::printf("profile T=%lld: %s\n", static_cast<long long>(T),
              cudaGetErrorString(err));
  return err == cudaSuccess ? 0 : 1;
}
